package templates

import "testing"

func TestSpan(t *testing.T) {
	for _, tc := range []struct {
		name        string
		span        Span
		page, pages int
		rng         string
	}{
		{"FirstPage", Span{Offset: 0, Limit: 10, Shown: 10, Total: 13}, 1, 2, "1–10 of 13 rows"},
		{"LastPage", Span{Offset: 10, Limit: 10, Shown: 3, Total: 13}, 2, 2, "11–13 of 13 rows"},
		{"OneRow", Span{Offset: 0, Limit: 10, Shown: 1, Total: 1}, 1, 1, "1–1 of 1 row"},
		{"Empty", Span{Offset: 0, Limit: 10, Shown: 0, Total: 0}, 1, 1, "0–0 of 0 rows"},
		{"PastTheEnd", Span{Offset: 40, Limit: 10, Shown: 0, Total: 13}, 5, 2, "0–0 of 13 rows"},
		{"NoLimit", Span{Offset: 0, Limit: 0, Shown: 3, Total: 3}, 1, 1, "1–3 of 3 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.span.Page(); got != tc.page {
				t.Errorf("Page = %d, want %d", got, tc.page)
			}
			if got := tc.span.Pages(); got != tc.pages {
				t.Errorf("Pages = %d, want %d", got, tc.pages)
			}
			if got := tc.span.Range("row"); got != tc.rng {
				t.Errorf("Range = %q, want %q", got, tc.rng)
			}
		})
	}
}
