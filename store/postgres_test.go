package store

import (
	"strings"
	"testing"
)

func TestToPostgres(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"Placeholders", `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`, `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`},
		{"UnaryPlusGoes", `WHERE +t.id IN (x) AND (+t.name) = ? OR +COALESCE(a, 0) < ?`, `WHERE t.id IN (x) AND (t.name) = $1 OR COALESCE(a, 0) < $2`},
		{"AdditionStays", `SET n = n + 1, m = (a) + ?, k = ? + 2`, `SET n = n + 1, m = (a) + $1, k = $2 + 2`},
		{"QuotesLeftAlone", `WHERE a = '?+x' AND "b?" = ? AND c LIKE ? ESCAPE '\'`, `WHERE a = '?+x' AND "b?" = $1 AND c LIKE $2 ESCAPE '\'`},
		{"CommentsLeftAlone", "-- it's +? here\nSELECT ?", "-- it's +? here\nSELECT $1"},
		{"AfterComparison", `WHERE a >= +b AND c != +d`, `WHERE a >= b AND c != d`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := toPostgres(tc.in); got != tc.want {
				t.Errorf("toPostgres(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestDisplayName: a URL's password never reaches a message, however it
// is written.
func TestDisplayName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"data/apitokens.db", "data/apitokens.db"},
		{"postgres://app:s3cret@db:5432/tokens", "postgres://app:xxxxx@db:5432/tokens"},
		{"postgres://app@db/tokens?password=s3cret&sslmode=require", "postgres://app@db/tokens?password=xxxxx&sslmode=require"},
		{"postgresql://app@db/tokens?sslpassword=s3cret", "postgresql://app@db/tokens?sslpassword=xxxxx"},
		{"postgres://app:s3c?ret@db/tokens", "postgres://…"},
		{"postgres://app:s3c%ret@db/tokens", "postgres://…"},
	} {
		got := DisplayName(tc.in)
		if got != tc.want || strings.Contains(got, "s3c") {
			t.Errorf("DisplayName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
