package templates

import (
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

func TestNoteUsage(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	caller := store.Caller{At: now.Add(-5 * time.Minute), Address: "203.0.113.7", UserAgent: "python-httpx/0.28"}
	cases := []struct {
		name   string
		sum    store.UsageSummary
		tokens int
		want   string
		inUse  bool
	}{
		{"Used", store.UsageSummary{Calls7d: 1284, Last: caller}, 1,
			"Used 1,284 times in the last 7 days, last 5 minutes ago from 203.0.113.7 (python-httpx/0.28). Applications using it will stop working.", true},
		{"UsedOnce", store.UsageSummary{Calls7d: 1, Last: store.Caller{At: now.Add(-3 * time.Hour)}}, 1,
			"Used once in the last 7 days, last 3 hours ago. Applications using it will stop working.", true},
		{"UsedBySome", store.UsageSummary{Calls7d: 2, Last: caller}, 3,
			"Used twice in the last 7 days, last 5 minutes ago from 203.0.113.7 (python-httpx/0.28). Applications using them will stop working.", true},
		{"NotLately", store.UsageSummary{Last: store.Caller{At: now.Add(-12 * 24 * time.Hour), Address: "203.0.113.7"}}, 1,
			"Not used in the last 7 days; last used 12 days ago from 203.0.113.7.", false},
		{"UsedNotCounted", store.UsageSummary{Last: store.Caller{At: now.Add(-2 * time.Hour)}}, 1,
			"Used in the last 7 days, last 2 hours ago. Applications using it will stop working.", true},
		{"NotIn90Days", store.UsageSummary{Last: store.Caller{At: now.Add(-90 * 24 * time.Hour)}}, 1, "Not used in the last 90 days.", false},
		{"Never", store.UsageSummary{}, 1, "Never used.", false},
		{"NoneEver", store.UsageSummary{}, 2, "None of them has ever been used.", false},
		{"Refused", store.UsageSummary{Refused7d: 1}, 1, "Never used. 1 call was refused in the last 7 days: something still tries to use it.", true},
		{"LongClient", store.UsageSummary{Calls7d: 5, Last: store.Caller{At: now, UserAgent: strings.Repeat("x", 100)}}, 1,
			"Used 5 times in the last 7 days, last just now (" + strings.Repeat("x", agentInNote-1) + "…). Applications using it will stop working.", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := NoteUsage(tc.sum, now, tc.tokens)
			if got.Text != tc.want || got.InUse != tc.inUse {
				t.Fatalf("NoteUsage = %q (in use %v),\nwant %q (in use %v)", got.Text, got.InUse, tc.want, tc.inUse)
			}
		})
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1284: "1,284", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
