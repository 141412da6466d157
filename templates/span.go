package templates

import "strconv"

// Span is where a page of rows lies among all of them. The list's pager and
// the audit trail's say it the same way: "1–10 of 13 rows", "Page 1 of 2".
type Span struct {
	Offset int // rows before this page
	Limit  int // rows a page holds
	Shown  int // rows on this page
	Total  int // rows in all
}

// Page is the page shown, counted from 1, as its offset says.
func (s Span) Page() int {
	if s.Limit <= 0 {
		return 1
	}
	return s.Offset/s.Limit + 1
}

// Pages is how many pages there are: one at least.
func (s Span) Pages() int {
	if s.Limit <= 0 || s.Total == 0 {
		return 1
	}
	return (s.Total + s.Limit - 1) / s.Limit
}

// Range is "1–10 of 13 rows", the rows named by noun; a page past the end
// shows "0–0".
func (s Span) Range(noun string) string {
	first, last := 0, 0
	if s.Shown > 0 {
		first, last = s.Offset+1, s.Offset+s.Shown
	}
	return strconv.Itoa(first) + "–" + strconv.Itoa(last) + " of " + plural(s.Total, noun)
}
