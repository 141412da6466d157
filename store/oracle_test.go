package store

import (
	"cmp"
	"context"
	"errors"
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
	return newListFixtureOn(t, newTestDSN(t))
}

// newListFixtureOn makes the list fixture on the empty database dsn.
func newListFixtureOn(t *testing.T, dsn string) *listFixture {
	t.Helper()
	f := &listFixture{fixture: newFixtureOn(t, dsn)}
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
		// Calls of the last 7 days: none for most, ties in pairs.
		calls := []int64{0, 0, 3, 3, 120, 7}[i%6] * int64(1+i/12)
		f.exec(t, `UPDATE tokens SET created_at = ?, last_access_at = ?, created_by = ?, calls_7d = ? WHERE id = ?`,
			created.UnixMilli(), lastAccess, creator, calls, tok.ID)
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

// oracleRow is a token as the brute-force oracle sees it.
type oracleRow struct {
	id, name, createdBy    string
	status                 TokenStatus
	created, last, expires int64
	calls                  int64
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
		COALESCE(expires_at, 0), created_by, calls_7d FROM tokens WHERE account_id = ? AND status != 'deleted'`, f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	var all []oracleRow
	for rows.Next() {
		r := oracleRow{modules: map[string]bool{}}
		if err := rows.Scan(&r.id, &r.name, &r.status, &r.created, &r.last, &r.expires, &r.createdBy, &r.calls); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
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
		case SortCalls:
			c = cmp.Compare(a.calls, b.calls)
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
