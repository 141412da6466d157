package store

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// listFixture is an account whose tokens differ in every way the list
// filters and sorts by, with ties in each sort key, beside another account's
// tokens and tombstones that must never show.
type listFixture struct {
	*fixture
	second User   // another administrator
	apiID  string // a token that created others, through the API
}

func newListFixture(t *testing.T) *listFixture {
	t.Helper()
	f := &listFixture{fixture: newFixture(t)}
	ctx := context.Background()
	var err error
	f.second, err = f.s.CreateUser(ctx, NewUser{AccountID: f.account.ID, Email: "second@test.example",
		Name: "Sam Second", Role: RoleAdmin, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	now := f.clock.Now()
	names := []string{
		"Sync job", "sync job", "SYNC JOB", "Billing export", "billing export 2", "ERP import",
		"Storefront sync", "Partner portal", "partner portal", "Release 1234", "Nightly backup",
		"ab", "Ab tools", "Zeta", "zeta", "Écluse sync", `Quote "q" token`, "alpha", "Alpha", "ALPHA beta",
		"CI pipeline", "Legacy importer", "Staging smoke tests", "Warehouse feed",
		"Support tooling", "Mobile gateway", "Payroll sync", "Analytics feed",
	}
	api, _ := f.createToken(t, "API maker", f.modules[0])
	f.apiID = api.ID
	for i, name := range names {
		var mods []Module
		for j, m := range f.modules {
			if (i+j)%3 == 0 {
				mods = append(mods, m)
			}
		}
		tok, _ := f.createToken(t, name, mods...)
		// Ties: tokens made in threes at the same millisecond, last used
		// in pairs at the same millisecond.
		created := now.Add(-time.Duration(400-i/3*10) * day)
		var lastAccess any
		switch i % 4 {
		case 1:
			lastAccess = now.Add(-time.Duration(i/2) * day).UnixMilli()
		case 2:
			lastAccess = now.Add(-time.Duration(40+i/2) * day).UnixMilli()
		case 3:
			lastAccess = now.Add(-time.Duration(100+i/2) * day).UnixMilli()
		}
		creator := []string{f.admin.ID, f.second.ID, f.apiID}[i%3]
		f.exec(t, `UPDATE tokens SET created_at = ?, last_access_at = ?, created_by = ? WHERE id = ?`,
			created.UnixMilli(), lastAccess, creator, tok.ID)
		switch i % 7 {
		case 2:
			f.exec(t, `UPDATE tokens SET expires_at = ? WHERE id = ?`, now.Add(-time.Hour).UnixMilli(), tok.ID)
		case 4:
			f.exec(t, `UPDATE tokens SET expires_at = ? WHERE id = ?`, now.Add(time.Hour).UnixMilli(), tok.ID)
		case 5:
			if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusDisabled, f.actor); err != nil {
				t.Fatal(err)
			}
		}
		if i%9 == 8 {
			if _, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A recent token, created today: not yet idle for 30 days though never
	// used.
	f.createToken(t, "Fresh sync")
	other, err := f.s.CreateAccount(ctx, "Other account")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Sync job", "alpha", "Release 1234"} {
		if _, _, err := f.s.CreateToken(ctx, NewToken{AccountID: other.ID, Name: name}, f.actor); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := f.s.write.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

// oracleRow is a token as the brute-force oracle sees it.
type oracleRow struct {
	id, name, createdBy    string
	status                 TokenStatus
	created, last, expires int64
	modules                map[string]bool
}

func (r oracleRow) state(now int64) TokenState {
	switch {
	case r.status == StatusDisabled:
		return StateDisabled
	case r.expires != 0 && r.expires <= now:
		return StateExpired
	}
	return StateActive
}

// oracle lists the account's tokens the slow, obvious way: every live row,
// filtered and sorted in Go as the filter's documentation says.
func (f *fixture) oracle(t *testing.T, fl TokenFilter) []string {
	t.Helper()
	rows, err := f.s.read.Query(`SELECT id, name, status, created_at, COALESCE(last_access_at, 0),
		COALESCE(expires_at, 0), created_by FROM tokens WHERE account_id = ? AND status != 'deleted'`, f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	var all []oracleRow
	for rows.Next() {
		r := oracleRow{modules: map[string]bool{}}
		if err := rows.Scan(&r.id, &r.name, &r.status, &r.created, &r.last, &r.expires, &r.createdBy); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	rows.Close()
	for i := range all {
		mods, err := tokenModulesOf(f.s, all[i].id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mods {
			all[i].modules[m] = true
		}
	}
	if err := fl.Validate(); err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now().UnixMilli()
	day := int64(24 * time.Hour / time.Millisecond)
	var out []oracleRow
	for _, r := range all {
		switch {
		case fl.Status != "" && r.state(now) != fl.Status,
			fl.ModuleID != "" && !r.modules[fl.ModuleID],
			fl.CreatedBy != "" && r.createdBy != fl.CreatedBy,
			!fl.CreatedFrom.IsZero() && r.created < fl.CreatedFrom.UnixMilli(),
			!fl.CreatedTo.IsZero() && r.created >= fl.CreatedTo.UnixMilli(),
			fl.LastAccess == NeverUsed && r.last != 0,
			fl.LastAccess == NotUsedIn30Days && cmp.Or(r.last, r.created) >= now-30*day,
			fl.LastAccess == NotUsedIn90Days && cmp.Or(r.last, r.created) >= now-90*day,
			fl.Query != "" && !oracleMatch(r, fl.Query):
			continue
		}
		out = append(out, r)
	}
	sort, order := fl.sortOrder()
	slices.SortFunc(out, func(a, b oracleRow) int {
		var c int
		switch sort {
		case SortCreated:
			c = cmp.Compare(a.created, b.created)
		case SortLastAccess:
			c = cmp.Compare(a.last, b.last)
		case SortName:
			c = strings.Compare(asciiLower(a.name), asciiLower(b.name))
		case SortStatus:
			c = cmp.Or(cmp.Compare(slices.Index(stateOrder, a.state(now)), slices.Index(stateOrder, b.state(now))),
				strings.Compare(asciiLower(a.name), asciiLower(b.name)))
		}
		c = cmp.Or(c, strings.Compare(a.id, b.id))
		if order == Descending {
			c = -c
		}
		return c
	})
	ids := make([]string, len(out))
	for i, r := range out {
		ids[i] = r.id
	}
	return ids
}

func oracleMatch(r oracleRow, q string) bool {
	if prefix, ok := idPrefix(q); ok && strings.HasPrefix(r.id, prefix) {
		return true
	}
	if utf8.RuneCountInString(q) < 3 {
		return strings.HasPrefix(asciiLower(r.name), asciiLower(q))
	}
	return strings.Contains(strings.ToLower(r.name), strings.ToLower(q))
}

// asciiLower folds ASCII letters only, as SQLite's NOCASE does.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func tokenModulesOf(s *Store, id string) ([]string, error) {
	rows, err := s.read.Query(`SELECT module_id FROM token_modules WHERE token_id = ? ORDER BY module_id`, id)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

// walk reads every page forward, then back from the last page, checking
// what a pager relies on: offsets, totals and cursors at the ends.
func walk(t *testing.T, s *Store, accountID string, fl TokenFilter, want []string) {
	t.Helper()
	ctx := context.Background()
	var got []string
	page, err := s.ListTokens(ctx, accountID, fl)
	for pages := 0; ; pages++ {
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != len(want) {
			t.Fatalf("page %d: total %d, want %d", pages, page.Total, len(want))
		}
		if page.Offset != len(got) {
			t.Fatalf("page %d: offset %d, want %d", pages, page.Offset, len(got))
		}
		if (page.PrevCursor == "") != (pages == 0) {
			t.Fatalf("page %d: previous cursor %q", pages, page.PrevCursor)
		}
		for _, tok := range page.Tokens {
			got = append(got, tok.ID)
		}
		if page.NextCursor == "" {
			break
		}
		if pages > len(want) {
			t.Fatal("the pages do not end")
		}
		next := fl
		next.After = page.NextCursor
		page, err = s.ListTokens(ctx, accountID, next)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("forward:\n got %v\nwant %v", got, want)
	}
	// And back.
	back := slices.Clone(page.Tokens)
	for page.PrevCursor != "" {
		prev := fl
		prev.Before = page.PrevCursor
		if page, err = s.ListTokens(ctx, accountID, prev); err != nil {
			t.Fatal(err)
		}
		if len(page.Tokens) != page.Limit {
			t.Fatalf("a page before another holds %d tokens, want %d", len(page.Tokens), page.Limit)
		}
		back = append(slices.Clone(page.Tokens), back...)
	}
	if page.Offset != 0 {
		t.Fatalf("the first page, reached backward, has offset %d", page.Offset)
	}
	var ids []string
	for _, tok := range back {
		ids = append(ids, tok.ID)
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("backward:\n got %v\nwant %v", ids, want)
	}
}

// listFilters are filters of every kind, alone and together.
func (f *listFixture) listFilters() map[string]TokenFilter {
	now := f.clock.Now()
	someID := f.apiID
	return map[string]TokenFilter{
		"All":              {},
		"Active":           {Status: StateActive},
		"Disabled":         {Status: StateDisabled},
		"Expired":          {Status: StateExpired},
		"Module":           {ModuleID: f.modules[1].ID},
		"CreatedByUser":    {CreatedBy: f.second.ID},
		"CreatedByToken":   {CreatedBy: f.apiID},
		"CreatedFrom":      {CreatedFrom: now.Add(-300 * 24 * time.Hour)},
		"CreatedRange":     {CreatedFrom: now.Add(-380 * 24 * time.Hour), CreatedTo: now.Add(-330 * 24 * time.Hour)},
		"NeverUsed":        {LastAccess: NeverUsed},
		"NotUsedIn30Days":  {LastAccess: NotUsedIn30Days},
		"NotUsedIn90Days":  {LastAccess: NotUsedIn90Days},
		"QueryName":        {Query: "SYNC"},
		"QueryAccent":      {Query: "écluse"},
		"QueryShort":       {Query: "ab"},
		"QueryQuote":       {Query: `"q"`},
		"QueryNone":        {Query: "no such token"},
		"QueryID":          {Query: someID},
		"QueryIDLower":     {Query: strings.ToLower(someID[:8])},
		"QueryIDDigits":    {Query: strings.ReplaceAll(someID[4:], "-", "")},
		"QueryDigits":      {Query: "1234"},
		"ActiveModuleSync": {Status: StateActive, ModuleID: f.modules[0].ID, Query: "sync"},
		"ExpiredByUser":    {Status: StateExpired, CreatedBy: f.admin.ID},
		"Unused90Module":   {LastAccess: NotUsedIn90Days, ModuleID: f.modules[2].ID, Status: StateActive},
		"OtherModule":      {ModuleID: "MOD-0000-0000"},
	}
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
		for _, sort := range []TokenSort{SortCreated, SortName, SortLastAccess, SortStatus} {
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
							f.s.listHooks.plan = func(p *plan) {
								p.driven, p.drivenExpired = driven, driven
								if !carry {
									p.candidates = ""
								}
							}
							defer func() { f.s.listHooks.plan = nil }()
							walk(t, f.s, f.account.ID, fl, want)
						})
					}
				}
			}
		}
	}
	t.Run("NaturalOrders", func(t *testing.T) {
		for sort, order := range map[TokenSort]SortOrder{SortCreated: Descending, SortLastAccess: Descending,
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

func ids(tokens []Token) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = t.ID
	}
	return out
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
	for _, sort := range []TokenSort{SortCreated, SortName, SortLastAccess, SortStatus} {
		t.Run("TiesBrokenByID/"+string(sort), func(t *testing.T) {
			walk(t, f.s, f.account.ID, TokenFilter{Sort: sort, Order: Ascending, Limit: 3}, made)
		})
	}
	t.Run("PastTheEndIsTheLastPage", func(t *testing.T) {
		p1, _ := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Sort: SortName, Limit: 3})
		p2, _ := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Sort: SortName, Limit: 3, After: p1.NextCursor})
		p3, _ := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Sort: SortName, Limit: 3, After: p2.NextCursor})
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
		p1, _ := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Sort: SortName, Limit: 3})
		p2, _ := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Sort: SortName, Limit: 3, After: p1.NextCursor})
		if _, err := f.s.DeleteToken(ctx, f.account.ID, made[0], f.actor); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Sort: SortName, Limit: 3, Before: p2.PrevCursor})
		if err != nil || !slices.Equal(ids(got.Tokens), made[1:4]) || got.Offset != 0 || got.PrevCursor != "" {
			t.Fatalf("before the start: %v at %d (prev %q), %v; want %v", ids(got.Tokens), got.Offset, got.PrevCursor, err, made[1:4])
		}
	})
	t.Run("EmptyAccount", func(t *testing.T) {
		other, _ := f.s.CreateAccount(ctx, "Empty")
		page, err := f.s.ListTokens(ctx, other.ID, TokenFilter{})
		if err != nil || page.Total != 0 || len(page.Tokens) != 0 || page.NextCursor != "" || page.PrevCursor != "" {
			t.Fatalf("empty account: %+v, %v", page, err)
		}
	})
	t.Run("DeprecatedOffset", func(t *testing.T) {
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
	later, _, _ := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "later",
		ExpiresAt: f.clock.Now().Add(48 * time.Hour)}, f.actor)
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
		page, _ := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Sort: SortStatus})
		if got := ids(page.Tokens); !slices.Equal(got, []string{later.ID, never.ID, soon.ID}) {
			t.Fatalf("status sort = %v, want later, never (Active), soon (Expired)", got)
		}
	})
	t.Run("DisablingAnExpiredToken", func(t *testing.T) {
		if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, soon.ID, StatusDisabled, f.actor); err != nil {
			t.Fatal(err)
		}
		if got := count(StateExpired); len(got) != 0 {
			t.Fatalf("a disabled token is listed as expired: %v", got)
		}
		if got := count(StateDisabled); !slices.Equal(got, []string{soon.ID}) {
			t.Fatalf("disabled = %v", got)
		}
	})
}

func TestTokenFilterValidate(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	good := cursor{Sort: SortCreated, Order: Descending, Int: 1, ID: "TKN-1234-5678", Pos: 50}.encode()
	cases := []struct {
		name  string
		f     TokenFilter
		field string
	}{
		{"ErrStatus", TokenFilter{Status: "Deleted"}, "status"},
		{"ErrStatusUnknown", TokenFilter{Status: "paused"}, "status"},
		{"ErrModule", TokenFilter{ModuleID: "'; DROP TABLE tokens; --"}, "module"},
		{"ErrCreatedBy", TokenFilter{CreatedBy: "ACC-1234-5678"}, "createdBy"},
		{"ErrCreatedRange", TokenFilter{CreatedFrom: now, CreatedTo: now}, "created"},
		{"ErrLastAccess", TokenFilter{LastAccess: "7d"}, "lastAccess"},
		{"ErrQueryLong", TokenFilter{Query: strings.Repeat("x", MaxQuery+1)}, "query"},
		{"ErrQueryNUL", TokenFilter{Query: "a\x00b"}, "query"},
		{"ErrQueryUTF8", TokenFilter{Query: "a\xffb"}, "query"},
		{"ErrSort", TokenFilter{Sort: "secret"}, "sort"},
		{"ErrOrder", TokenFilter{Order: "up"}, "order"},
		{"ErrLimitNegative", TokenFilter{Limit: -1}, "limit"},
		{"ErrLimitHuge", TokenFilter{Limit: MaxPageSize + 1}, "limit"},
		{"ErrOffset", TokenFilter{Offset: -1}, "offset"},
		{"ErrBothCursors", TokenFilter{After: good, Before: good}, "cursor"},
		{"ErrCursorAndOffset", TokenFilter{After: good, Offset: 5}, "cursor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			var v *ValidationError
			if !errors.As(err, &v) || v.Fields[tc.field] == "" {
				t.Fatalf("Validate = %v, want a message for %s", err, tc.field)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		f := TokenFilter{Status: "expired", Query: "  sync  ", Sort: SortName, Order: Descending, Limit: 25,
			ModuleID: "MOD-1234-5678", CreatedBy: "TKN-1234-5678", LastAccess: NotUsedIn30Days,
			CreatedFrom: now, CreatedTo: now.Add(time.Hour)}
		if err := f.Validate(); err != nil || f.Status != StateExpired || f.Query != "sync" {
			t.Fatalf("Validate = %v; status %q, query %q", err, f.Status, f.Query)
		}
	})
}

func TestListTokensTamperedCursor(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		f.createToken(t, "t")
	}
	ctx := context.Background()
	page, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Limit: 1})
	if err != nil || page.NextCursor == "" {
		t.Fatalf("first page: %v", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(page.NextCursor)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := map[string]TokenFilter{
		"NotBase64":       {After: "%%%"},
		"NotJSON":         {After: enc("hello")},
		"TrailingData":    {After: enc(string(raw) + "{}")},
		"UnknownField":    {After: enc(strings.Replace(string(raw), `{`, `{"x":1,`, 1))},
		"BadID":           {After: enc(strings.Replace(string(raw), `"TKN-`, `"XYZ-`, 1))},
		"InjectedID":      {After: enc(strings.Replace(string(raw), `"i":"`, `"i":"' OR 1=1 --`, 1))},
		"NegativeKey":     {After: enc(`{"s":"created","o":"desc","n":-5,"i":"TKN-1234-5678"}`)},
		"TextForCreated":  {After: enc(`{"s":"created","o":"desc","t":"x","i":"TKN-1234-5678"}`)},
		"GroupOutOfRange": {Sort: SortStatus, After: enc(`{"s":"status","o":"asc","g":7,"i":"TKN-1234-5678"}`)},
		"OtherSort":       {Sort: SortName, After: page.NextCursor},
		"OtherOrder":      {Order: Ascending, Before: page.NextCursor},
		"TooLong":         {After: strings.Repeat("A", maxCursor+1)},
		"Truncated":       {After: page.NextCursor[:len(page.NextCursor)/2]},
	}
	for name, fl := range cases {
		t.Run("Err"+name, func(t *testing.T) {
			fl.Limit = 1
			_, err := f.s.ListTokens(ctx, f.account.ID, fl)
			var v *ValidationError
			if !errors.As(err, &v) || v.Fields["cursor"] == "" {
				t.Fatalf("ListTokens = %v, want a ValidationError for the cursor", err)
			}
		})
	}
	t.Run("ForgedCursorStaysInTheAccount", func(t *testing.T) {
		other, _ := f.s.CreateAccount(ctx, "Other")
		theirs, _, _ := f.s.CreateToken(ctx, NewToken{AccountID: other.ID, Name: "theirs"}, f.actor)
		forged := cursor{Sort: SortCreated, Order: Descending, Int: f.clock.Now().UnixMilli() + 1, ID: theirs.ID}.encode()
		page, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{After: forged})
		if err != nil || page.Total != 3 || slices.Contains(ids(page.Tokens), theirs.ID) {
			t.Fatalf("forged cursor: %v, %v", ids(page.Tokens), err)
		}
	})
}

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
