package store

import (
	"testing"

	"apitokens/store/storetest"
)

// TestIDFormat checks that every way of writing an ID, in Go and in SQL,
// agrees with the others.
func TestIDFormat(t *testing.T) {
	f := newFixture(t)
	for _, n := range []int64{0, 42, 12345678, idNumbers - 1} {
		id := makeID(tokenPrefix, n)
		if !IsTokenID(id) || isID(id, userPrefix) {
			t.Errorf("makeID(%d) = %q, not a token ID", n, id)
		}
		if got := tokenIDOf(tokenDigits(id)); got != id {
			t.Errorf("%s: digits %q give back %q", id, tokenDigits(id), got)
		}
		if storetest.Engine != "sqlite" {
			continue // the SQL of IDs serves SQLite's trigram index alone
		}
		var fromSQL string
		var number int64
		if err := f.s.read.QueryRow(`SELECT `+sqlTokenID("?")+`, `+sqlIDNumber("?"), n, n, id, id).
			Scan(&fromSQL, &number); err != nil {
			t.Fatal(err)
		}
		if fromSQL != id || number != n {
			t.Errorf("SQL makes %d into %q and reads %s as %d", n, fromSQL, id, number)
		}
	}
	for _, s := range []string{"", "TKN-1234-567", "TKN-1234-56789", "TKN_1234-5678", "TKN-12345678", "TKN-12a4-5678", "tkn-1234-5678"} {
		if IsTokenID(s) {
			t.Errorf("IsTokenID(%q) = true", s)
		}
	}
}
