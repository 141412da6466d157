package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestIDPrefix(t *testing.T) {
	cases := map[string]string{
		"TKN-1234-5678": "TKN-1234-5678", "tkn-1234-5678": "TKN-1234-5678", "12345678": "TKN-1234-5678",
		"1234-5678": "TKN-1234-5678", "tkn 1234": "TKN-1234", "1234": "TKN-1234", "1234-5": "TKN-1234-5",
		"TKN": "TKN-", "TKN-": "TKN-", "12345": "TKN-1234-5",
		"12-34": "", "sync": "", "123456789": "", "TKN-12a4": "", "": "", "MOD-1234": "",
	}
	for q, want := range cases {
		got, ok := idPrefix(q)
		if got != want || ok != (want != "") {
			t.Errorf("idPrefix(%q) = %q, %v; want %q", q, got, ok, want)
		}
	}
	if prefixEnd("TKN-1239") != "TKN-123:" || prefixEnd("TKN-") != "TKN." {
		t.Error("prefixEnd does not bound the prefix")
	}
}

// TestSearchByIDPrefixKeepsToAccount searches a small account by the start
// of an ID beside a larger account: only the small account's tokens are
// found, and the other account's are not among the search's candidates
// (they were, so that beside 100,000 tokens every search by "TKN" read them
// all, and overflowed the bound on candidates).
func TestSearchByIDPrefixKeepsToAccount(t *testing.T) {
	f := newFixture(t)
	seedMany(t, f, 2000)
	small := f.createAccount(t, "Small account")
	ctx := context.Background()
	var mine []string
	for i := range 12 {
		tok, _, err := f.s.CreateToken(ctx, NewToken{AccountID: small.ID, Name: fmt.Sprintf("job %d", i)}, f.actor)
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, tok.ID)
	}
	candidates := -1
	f.s.hooks.plan = func(p *plan) {
		if p.candidates != "" {
			candidates = p.candidateCount
		}
	}
	for _, q := range []string{"TKN", "TKN-", "tkn", "TKN-" + mine[0][4:5], mine[0][4:9], mine[3]} {
		t.Run(q, func(t *testing.T) {
			prefix, _ := idPrefix(q)
			var want []string
			for _, id := range mine {
				if strings.HasPrefix(id, prefix) {
					want = append(want, id)
				}
			}
			slices.Sort(want)
			candidates = -1
			page := f.list(t, small.ID, TokenFilter{Query: q, Sort: SortName, Limit: 100})
			got := ids(page.Tokens)
			slices.Sort(got)
			if !slices.Equal(got, want) || page.Total != len(want) {
				t.Errorf("found %v of %d, want %v", got, page.Total, want)
			}
			// SQLite carries the trigram index's matches as candidates;
			// PostgreSQL reads its index in place.
			if len(q) >= 3 && !f.s.d.postgres && candidates != len(want) {
				t.Errorf("the search carried %d candidates, want the account's %d", candidates, len(want))
			}
			all, err := f.s.TokenIDs(ctx, small.ID, TokenFilter{Query: q})
			slices.Sort(all)
			if err != nil || !slices.Equal(all, want) {
				t.Errorf("TokenIDs %v, %v; want %v", all, err, want)
			}
		})
	}
}
