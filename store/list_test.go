package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestListTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for i := range 7 {
		tok, _ := f.createToken(t, "t"+string(rune('0'+i)), f.modules[i%len(f.modules)])
		ids = append(ids, tok.ID)
		f.clock.Add(time.Minute)
	}
	other := f.createAccount(t, "Other")
	if _, _, err := f.s.CreateToken(ctx, NewToken{AccountID: other.ID, Name: "theirs"}, f.actor); err != nil {
		t.Fatal(err)
	}
	t.Run("NewestFirstInPages", func(t *testing.T) {
		p1, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		p2 := f.list(t, f.account.ID, TokenFilter{Limit: 4, Offset: 4})
		if p1.Total != 7 || len(p1.Tokens) != 4 || len(p2.Tokens) != 3 {
			t.Fatalf("pages of %d and %d, total %d; want 4, 3 of 7", len(p1.Tokens), len(p2.Tokens), p1.Total)
		}
		got := append(p1.Tokens, p2.Tokens...)
		for i, tok := range got {
			if want := ids[len(ids)-1-i]; tok.ID != want {
				t.Fatalf("position %d is %s, want %s", i, tok.ID, want)
			}
			if len(tok.Modules) != 1 {
				t.Fatalf("%s has modules %v, want one", tok.ID, tok.Modules)
			}
		}
	})
	t.Run("OnlyOwnAccount", func(t *testing.T) {
		p := f.list(t, other.ID, TokenFilter{})
		if p.Total != 1 || p.Tokens[0].Name != "theirs" {
			t.Fatalf("other account lists %+v", p.Tokens)
		}
		if _, err := f.s.TokenByID(ctx, other.ID, ids[0]); !errors.Is(err, ErrNotFound) {
			t.Fatalf("TokenByID across accounts = %v, want ErrNotFound", err)
		}
	})
}

func TestListTokensMatchesOracle(t *testing.T) {
	f := newListFixture(t)
	for name, fl := range f.listFilters() {
		want := f.oracle(t, fl)
		if name == "All" && len(want) < 25 || name != "QueryNone" && name != "OtherModule" && len(want) == 0 {
			t.Fatalf("%s: the fixture gives %d tokens; it should exercise the filter", name, len(want))
		}
		// A search of three characters or more carries its candidates from
		// the trigram index, or runs the trigram query in place when there
		// are too many: both are checked.
		carries := []bool{true}
		if utf8.RuneCountInString(strings.TrimSpace(fl.Query)) >= 3 {
			carries = append(carries, false)
		}
		for _, sort := range []TokenSort{SortCreated, SortName, SortLastAccess, SortCalls, SortStatus} {
			for _, order := range []SortOrder{Ascending, Descending} {
				fl := fl
				fl.Sort, fl.Order, fl.Limit = sort, order, 5
				want := f.oracle(t, fl)
				for _, driven := range []bool{false, true} {
					for _, carry := range carries {
						mode := "Walk"
						if driven {
							mode = "Driven"
						}
						if !carry {
							mode += "InPlace"
						}
						t.Run(fmt.Sprintf("%s/%s/%s/%s", name, sort, order, mode), func(t *testing.T) {
							f.s.hooks.plan = func(p *plan) {
								p.driven, p.drivenExpired = driven, driven
								if !carry {
									p.candidates = ""
								}
							}
							defer func() { f.s.hooks.plan = nil }()
							walk(t, f.s, f.account.ID, fl, want)
						})
					}
				}
			}
		}
	}
	t.Run("NaturalOrders", func(t *testing.T) {
		for sort, order := range map[TokenSort]SortOrder{SortCreated: Descending, SortLastAccess: Descending, SortCalls: Descending,
			SortName: Ascending, SortStatus: Ascending, "": Descending} {
			page, err := f.s.ListTokens(context.Background(), f.account.ID, TokenFilter{Sort: sort, Limit: MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			want := f.oracle(t, TokenFilter{Sort: sort, Order: order})
			if got := ids(page.Tokens); !slices.Equal(got, want) || page.Order != order {
				t.Errorf("sort %q: order %s, %v; want %s, %v", sort, page.Order, got, order, want)
			}
		}
	})
}

func TestListTokensPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Seven tokens at the same millisecond, with one name: only the ID
	// orders them.
	var made []string
	for range 7 {
		tok, _ := f.createToken(t, "same")
		made = append(made, tok.ID)
	}
	slices.Sort(made)
	for _, sort := range []TokenSort{SortCreated, SortName, SortLastAccess, SortCalls, SortStatus} {
		t.Run("TiesBrokenByID/"+string(sort), func(t *testing.T) {
			walk(t, f.s, f.account.ID, TokenFilter{Sort: sort, Order: Ascending, Limit: 3}, made)
		})
	}
	t.Run("PastTheEndIsTheLastPage", func(t *testing.T) {
		p1 := f.list(t, f.account.ID, TokenFilter{Sort: SortName, Limit: 3})
		p2 := f.list(t, f.account.ID, TokenFilter{Sort: SortName, Limit: 3, After: p1.NextCursor})
		p3 := f.list(t, f.account.ID, TokenFilter{Sort: SortName, Limit: 3, After: p2.NextCursor})
		if len(p3.Tokens) != 1 || p3.NextCursor != "" || p3.Offset != 6 {
			t.Fatalf("third page: %d tokens at %d, next %q", len(p3.Tokens), p3.Offset, p3.NextCursor)
		}
		// Someone deletes the last page's token, then follows the link.
		if _, err := f.s.DeleteToken(ctx, f.account.ID, p3.Tokens[0].ID, f.actor); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Sort: SortName, Limit: 3, After: p2.NextCursor})
		if err != nil || !slices.Equal(ids(got.Tokens), made[3:6]) || got.Offset != 3 || got.NextCursor != "" || got.PrevCursor == "" {
			t.Fatalf("past the end: %v at %d (next %q), %v; want %v at 3", ids(got.Tokens), got.Offset, got.NextCursor, err, made[3:6])
		}
		made = made[:6]
	})
	t.Run("BeforeTheStartIsTheFirstPage", func(t *testing.T) {
		p1 := f.list(t, f.account.ID, TokenFilter{Sort: SortName, Limit: 3})
		p2 := f.list(t, f.account.ID, TokenFilter{Sort: SortName, Limit: 3, After: p1.NextCursor})
		if _, err := f.s.DeleteToken(ctx, f.account.ID, made[0], f.actor); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Sort: SortName, Limit: 3, Before: p2.PrevCursor})
		if err != nil || !slices.Equal(ids(got.Tokens), made[1:4]) || got.Offset != 0 || got.PrevCursor != "" {
			t.Fatalf("before the start: %v at %d (prev %q), %v; want %v", ids(got.Tokens), got.Offset, got.PrevCursor, err, made[1:4])
		}
	})
	t.Run("EmptyAccount", func(t *testing.T) {
		other := f.createAccount(t, "Empty")
		page, err := f.s.ListTokens(ctx, other.ID, TokenFilter{})
		if err != nil || page.Total != 0 || len(page.Tokens) != 0 || page.NextCursor != "" || page.PrevCursor != "" {
			t.Fatalf("empty account: %+v, %v", page, err)
		}
	})
	t.Run("Offset", func(t *testing.T) {
		page, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Sort: SortName, Limit: 2, Offset: 2})
		if err != nil || !slices.Equal(ids(page.Tokens), made[3:5]) || page.Offset != 2 || page.Total != 5 {
			t.Fatalf("offset 2: %v at %d of %d, %v; want %v", ids(page.Tokens), page.Offset, page.Total, err, made[3:5])
		}
		// Past the end, the REST API's pagination still says where it was.
		page, err = f.s.ListTokens(ctx, f.account.ID, TokenFilter{Limit: 2, Offset: 9})
		if err != nil || len(page.Tokens) != 0 || page.Offset != 9 || page.Total != 5 {
			t.Fatalf("offset 9: %d tokens at %d of %d, %v", len(page.Tokens), page.Offset, page.Total, err)
		}
	})
}

func TestListTokensExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	soon, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "soon",
		ExpiresAt: f.clock.Now().Add(time.Hour)}, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	later, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "later",
		ExpiresAt: f.clock.Now().Add(48 * time.Hour)}, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	never, _ := f.createToken(t, "never")
	count := func(st TokenState) []string {
		page, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Status: st, Sort: SortName})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != len(page.Tokens) {
			t.Fatalf("%s: total %d for %d tokens", st, page.Total, len(page.Tokens))
		}
		return ids(page.Tokens)
	}
	if got := count(StateExpired); len(got) != 0 {
		t.Fatalf("expired before any date: %v", got)
	}
	f.clock.Add(time.Hour) // soon's expiry is now: expired from this millisecond
	if got := count(StateExpired); !slices.Equal(got, []string{soon.ID}) {
		t.Fatalf("expired = %v, want [%s]", got, soon.ID)
	}
	if got := count(StateActive); !slices.Equal(got, []string{later.ID, never.ID}) {
		t.Fatalf("active = %v, want later, never", got)
	}
	if got := count(""); len(got) != 3 {
		t.Fatalf("all = %v", got)
	}
	t.Run("StatusSortPutsExpiredLast", func(t *testing.T) {
		page := f.list(t, f.account.ID, TokenFilter{Sort: SortStatus})
		if got := ids(page.Tokens); !slices.Equal(got, []string{later.ID, never.ID, soon.ID}) {
			t.Fatalf("status sort = %v, want later, never (Active), soon (Expired)", got)
		}
	})
	t.Run("ExpiryPassingWhileDisabled", func(t *testing.T) {
		off, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "off",
			ExpiresAt: f.clock.Now().Add(time.Hour)}, f.actor)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, off.ID, StatusDisabled, f.actor); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Hour)
		if got := count(StateExpired); !slices.Equal(got, []string{soon.ID}) {
			t.Fatalf("expired = %v, want [%s] alone: a disabled token is listed as disabled", got, soon.ID)
		}
		if got := count(StateDisabled); !slices.Equal(got, []string{off.ID}) {
			t.Fatalf("disabled = %v", got)
		}
	})
}

func TestTokenIDs(t *testing.T) {
	f := newListFixture(t)
	ctx := context.Background()
	for name, fl := range f.listFilters() {
		t.Run(name, func(t *testing.T) {
			fl := fl
			fl.Sort, fl.After, fl.Limit = SortName, "garbage, ignored", 1
			got, err := f.s.TokenIDs(ctx, f.account.ID, fl)
			fl.After = ""
			if want := f.oracle(t, fl); err != nil || !slices.Equal(got, want) {
				t.Fatalf("TokenIDs = %v, %v; want %v", got, err, want)
			}
		})
	}
	t.Run("ErrInvalidFilter", func(t *testing.T) {
		_, err := f.s.TokenIDs(ctx, f.account.ID, TokenFilter{Status: "nope"})
		var v *ValidationError
		if !errors.As(err, &v) {
			t.Fatalf("TokenIDs = %v, want a ValidationError", err)
		}
	})
}

// TestCountTokens: the count-only read counts what the oracle finds, for
// every filter of the list, and refuses an invalid filter.
func TestCountTokens(t *testing.T) {
	f := newListFixture(t)
	ctx := context.Background()
	for name, fl := range f.listFilters() {
		t.Run(name, func(t *testing.T) {
			got, err := f.s.CountTokens(ctx, f.account.ID, fl)
			if want := len(f.oracle(t, fl)); err != nil || got != want {
				t.Fatalf("CountTokens = %d, %v; want %d", got, err, want)
			}
		})
	}
	t.Run("ErrInvalidFilter", func(t *testing.T) {
		_, err := f.s.CountTokens(ctx, f.account.ID, TokenFilter{Status: "nope"})
		var v *ValidationError
		if !errors.As(err, &v) {
			t.Fatalf("CountTokens = %v, want a ValidationError", err)
		}
	})
}

func TestTokenIDsTooMany(t *testing.T) {
	f := newFixture(t)
	defer func(n int) { maxBulk = n }(maxBulk)
	maxBulk = 20
	seedMany(t, f, maxBulk+1)
	_, err := f.s.TokenIDs(context.Background(), f.account.ID, TokenFilter{})
	var v *ValidationError
	if !errors.As(err, &v) || !strings.Contains(v.Fields["selection"], "narrow the filter") {
		t.Fatalf("TokenIDs of %d = %v, want a ValidationError", maxBulk+1, err)
	}
	ids, err := f.s.TokenIDs(context.Background(), f.account.ID, TokenFilter{Query: "1"})
	if err != nil || len(ids) == 0 || len(ids) > maxBulk {
		t.Fatalf("TokenIDs of a narrower filter = %d, %v", len(ids), err)
	}
}

// TestExportTokens exports more tokens than a page, sorted by calls, while
// the last of them is called so often that it would sort first: every
// token is given once, in the order the export began with.
func TestExportTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 150 {
		tok, _ := f.createToken(t, fmt.Sprintf("Token %03d", i))
		f.exec(t, `UPDATE tokens SET calls_7d = ? WHERE id = ?`, 1000-i, tok.ID)
	}
	want := f.oracle(t, TokenFilter{Sort: SortCalls})
	last := want[len(want)-1]
	var got []string
	err := f.s.ExportTokens(ctx, f.account.ID, TokenFilter{Sort: SortCalls, Limit: 10, After: "ignored"}, func(tok Token) error {
		if len(got) == 0 {
			f.exec(t, `UPDATE tokens SET calls_7d = 5000 WHERE id = ?`, last)
		}
		got = append(got, tok.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("exported %d tokens, want the %d in the order the export began with", len(got), len(want))
	}
	t.Run("ErrStops", func(t *testing.T) {
		stop := errors.New("client gone")
		n := 0
		err := f.s.ExportTokens(ctx, f.account.ID, TokenFilter{}, func(Token) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Fatalf("after an error of fn: %v, %d calls", err, n)
		}
	})
	t.Run("ErrBadFilter", func(t *testing.T) {
		var v *ValidationError
		if err := f.s.ExportTokens(ctx, f.account.ID, TokenFilter{Sort: "colour"}, func(Token) error { return nil }); !errors.As(err, &v) {
			t.Fatalf("a bad sort: %v", err)
		}
	})
}
