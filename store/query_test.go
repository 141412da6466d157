package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"apitokens/store/rql"
)

// rqlFixture is the list fixture with descriptions, icons and updates
// that differ from token to token.
func rqlFixture(t *testing.T) (*listFixture, []rqlRow) {
	f := newListFixture(t)
	all, err := f.s.TokenIDs(context.Background(), f.account.ID, TokenFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range all {
		switch i % 3 {
		case 0:
			f.exec(t, `UPDATE tokens SET description = 'Invoices for finance', logo = ? WHERE id = ?`, []byte("\x89PNG"), id)
		case 1:
			f.exec(t, `UPDATE tokens SET description = 'finance * star', updated_at = created_at + ? WHERE id = ?`, int64(i)*int64(time.Hour/time.Millisecond), id)
		}
	}
	return f, f.rqlRows(t)
}

// TestRQL runs filters of every operator on every field, alone and
// combined, in several orders both ways, and checks each page against the
// in-memory filter of the same tokens, under both plans and paged by
// offset.
func TestRQL(t *testing.T) {
	f, rows := rqlFixture(t)
	ids := rqlOracle(t, rows, nil, "name")
	at := func(days int) string {
		return f.clock.Now().Add(time.Duration(days) * 24 * time.Hour).Format("2006-01-02T15:04:05.000Z")
	}
	m0, m1 := f.modules[0], f.modules[1]
	// Times that some token has exactly, where > and >= differ.
	exact := func(field string) string {
		for _, r := range rows {
			if at := r.times[field]; at != nil {
				return time.UnixMilli(*at).UTC().Format("2006-01-02T15:04:05.000Z")
			}
		}
		t.Fatalf("no token has %s", field)
		return ""
	}
	filters := []string{
		"eq(status,Active)", "status=Disabled", "eq(status,expired)", "ne(status,Active)",
		"in(status,(Active,Expired))", "out(status,(Disabled))",
		"ilike(name,*sync*)", "ilike(name,*SYNC*)", "like(name,*sync*)", "ilike(name,ab*)", "like(name,S*)",
		"ilike(name,*a*)", "eq(name,'Sync job')", "name='sync job'", `eq(name,'Quote "q" token')`,
		"gt(name,M)", "le(name,b)", "ge(name,'Sync job')", "lt(name,'sync')", "ilike(name,*é*)",
		"eq(id," + ids[3] + ")", "in(id,(" + ids[0] + "," + ids[5] + ",TKN-0000-0000))", "ne(id," + ids[2] + ")",
		"like(id,TKN-*)", "out(id,(" + ids[1] + "))", `eq(id,"` + ids[4] + `")`, "eq(id,nonsense)",
		"eq(description,empty())", "ne(description,empty())", "ilike(description,*FINANCE*)",
		`like(description,*\**)`, "ilike(description,finance*)",
		"eq(icon,null())", "ne(icon,null())", "eq(icon,empty())",
		"eq(account.id," + f.account.ID + ")", "eq(account.id,ACC-0000-0000)",
		"any(modules,eq(id," + m0.ID + "))", "eq(modules.id," + m1.ID + ")", "any(modules,ilike(name,*bill*))",
		"all(modules,eq(name," + m0.Name + "))", "eq(modules,empty())", "ne(modules,empty())",
		"any(modules,id=" + m1.ID + ")", "ne(modules.id," + m0.ID + ")", "any(modules,in(id,(" + m0.ID + "," + m1.ID + ")))",
		"any(modules,eq(id,MOD-0000-0000))", "not(any(modules,eq(id," + m0.ID + ")))",
		"ge(audit.created.at," + at(-300) + ")", "lt(audit.created.at," + at(-330) + ")",
		"and(gt(audit.created.at," + at(-380) + "),le(audit.created.at," + at(-330) + "))",
		"and(ge(audit.created.at," + at(-300) + "),lt(audit.created.at," + at(-380) + "))",
		"gt(audit.updated.at," + at(-390) + ")", "eq(audit.created.at,'" + at(-400) + "')",
		"eq(audit.created.by.id," + f.second.ID + ")", "ne(audit.created.by.id," + f.admin.ID + ")",
		"eq(audit.created.by.id," + f.apiID + ")", "eq(audit.updated.by.id," + f.admin.ID + ")",
		"gt(name,'Sync job')", "or(gt(audit.created.at," + exact("audit.created.at") + "),eq(status,Disabled))",
		"ge(audit.updated.at," + exact("audit.updated.at") + ")", "gt(lastAccessAt," + exact("lastAccessAt") + ")",
		"le(lastAccessAt," + exact("lastAccessAt") + ")", "lt(expiresAt," + exact("expiresAt") + ")",
		"ne(lastAccessAt," + exact("lastAccessAt") + ")", "out(expiresAt,(" + exact("expiresAt") + "))",
		"eq(lastAccessAt,null())", "ne(lastAccessAt,null())", "lt(lastAccessAt," + at(-60) + ")",
		"not(gt(lastAccessAt," + at(-60) + "))", "in(lastAccessAt,(" + at(-1) + "))",
		"eq(expiresAt,null())", "gt(expiresAt," + at(0) + ")", "le(expiresAt,'" + f.clock.Now().Format(time.RFC3339) + "')",
		"and(eq(status,Active),ilike(name,*sync*))", "or(eq(status,Disabled),ilike(name,*sync*))",
		"not(and(eq(status,Active),any(modules,eq(id," + m0.ID + "))))", "and(eq(status,Active),eq(status,Disabled))",
		"and(eq(id," + ids[7] + "),eq(name,'" + rowName(rows, ids[7]) + "'))", "and(eq(id," + ids[7] + "),eq(name,'wrong'))",
		"and(eq(status,Active),any(modules,eq(id," + m0.ID + ")),ilike(name,*sync*),eq(lastAccessAt,null()))",
		"and(and(eq(status,Active),ge(audit.created.at," + at(-390) + ")),eq(audit.created.by.id," + f.admin.ID + "))",
	}
	orders := []string{"", "-audit.created.at", "audit.created.at", "name", "-name", "status,-lastAccessAt",
		"-status", "lastAccessAt,name", "-lastAccessAt,-expiresAt", "name,-id", "audit.created.at,-audit.updated.at"}
	for _, expr := range filters {
		n, err := rql.Parse(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		for i, order := range orders {
			want := rqlOracle(t, rows, n, order)
			// Each plan in the default order; the others in the plan the
			// list chooses.
			modes := []string{""}
			if i == 0 {
				modes = []string{"", "walk", "driven"}
			}
			for _, mode := range modes {
				f.s.hooks.plan = func(p *plan) {
					if mode != "" {
						p.driven, p.drivenExpired = mode == "driven", mode == "driven"
					}
				}
				got := rqlList(t, f.s, f.account.ID, expr, order, 0, MaxPageSize)
				if !slices.Equal(got.ids, want) || got.total != len(want) {
					t.Fatalf("%s order %q (%s plan): got %d %v\nwant %d %v", expr, order, mode, got.total, got.ids, len(want), want)
				}
			}
			f.s.hooks.plan = nil
			if i > 1 && order != "name,-id" {
				continue
			}
			// Paged by offset: from a cursor's walk at 0, by offset after,
			// and with sorts after the first always by offset.
			var paged []string
			for off := 0; off < len(want); off += 7 {
				paged = append(paged, rqlList(t, f.s, f.account.ID, expr, order, off, 7).ids...)
			}
			if !slices.Equal(paged, want) {
				t.Fatalf("%s order %q by pages of 7: got %v\nwant %v", expr, order, paged, want)
			}
		}
	}
}

func rowName(rows []rqlRow, id string) string {
	for _, r := range rows {
		if r.text["id"] == id {
			return r.text["name"]
		}
	}
	return ""
}

type rqlPage struct {
	ids   []string
	total int
}

func rqlList(t *testing.T, s *Store, accountID, expr, order string, offset, limit int) rqlPage {
	t.Helper()
	fl := TokenFilter{Offset: offset, Limit: limit}
	if err := fl.ApplyRQL([]string{expr}); err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	if order != "" {
		if err := fl.ApplyRQLOrder(order); err != nil {
			t.Fatalf("%s: %v", order, err)
		}
	}
	page, err := s.ListTokens(context.Background(), accountID, fl)
	if err != nil {
		t.Fatalf("%s order %q: %v", expr, order, err)
	}
	return rqlPage{ids: ids(page.Tokens), total: page.Total}
}

// TestRQLErrors: what cannot be used is an error that names it and where,
// before any query runs.
func TestRQLErrors(t *testing.T) {
	for _, tc := range []struct{ expr, msg string }{
		{"eq(colour,red)", `unknown field "colour" at position 4`},
		{"foo(name,x)", `unknown operator "foo" at position 1`},
		{"eq(name,x", `expected ')', found the end at position 10`},
		{"eq(name,'x)", `the quote ' that starts here is never closed at position 9`},
		{"eq(status,Deleted)", `"Deleted" is not a status (Active, Disabled or Expired) at position 11`},
		{"gt(status,Active)", `status can only be compared by eq, ne, in or out at position 1`},
		{"gt(audit.created.at,yesterday)", `"yesterday" is not a date and time for audit.created.at`},
		{"ilike(lastAccessAt,*2026*)", `ilike() compares text; lastAccessAt is a date and time`},
		{"eq(icon,x)", `icon can only be compared with null() or empty()`},
		{"any(name,eq(id,x))", `any() takes a collection (modules), not "name"`},
		{"any(modules,eq(secret,x))", `unknown field "secret" at position 16`},
		{"any(modules,any(modules,eq(id,x)))", `a module has no collection for any()`},
		{"eq(modules,MOD-1234-5678)", `modules is a collection`},
		{"not(eq(name,a),eq(name,b))", `not() takes one condition`},
		{"and(eq(name,a))x", `unexpected 'x' after the expression`},
		{"eq(name,a(b))", `unexpected "(" in the value "a"`},
		{"in(name,(a,null()))", `null() can only be compared by eq or ne`},
		{"", `expected an expression, found the end`},
		{strings.Repeat("not(", 20) + "eq(name,a)" + strings.Repeat(")", 20), `nests more than 16 deep`},
		{"in(id,(" + strings.Repeat("a,", 300) + "b))", `more than 200 terms`},
	} {
		t.Run(tc.expr[:min(len(tc.expr), 30)], func(t *testing.T) {
			var fl TokenFilter
			err := fl.ApplyRQL([]string{tc.expr})
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Param != "filter" || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("ApplyRQL(%q) = %v; want a QueryError with %q", tc.expr, err, tc.msg)
			}
		})
	}
	for _, tc := range []struct{ order, msg string }{
		{"colour", `cannot order by "colour" at position 1`},
		{"name,-secret", `cannot order by "secret" at position 6`},
		{"id", `cannot order by "id" first`},
	} {
		var fl TokenFilter
		err := fl.ApplyRQLOrder(tc.order)
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Param != "order" || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ApplyRQLOrder(%q) = %v; want a QueryError with %q", tc.order, err, tc.msg)
		}
	}
}

// TestRQLFoldsToThePageFilter: the terms the page has a filter for become
// that filter, so the list finds them as the page does.
func TestRQLFoldsToThePageFilter(t *testing.T) {
	from := time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		expr string
		want TokenFilter
	}{
		{"and(eq(status,Active),ilike(name,*sync*))", TokenFilter{Status: StateActive, Query: "sync", nameOnly: true}},
		{"any(modules,eq(id,MOD-1234-5678))", TokenFilter{ModuleID: "MOD-1234-5678"}},
		{"modules.id=MOD-1234-5678", TokenFilter{ModuleID: "MOD-1234-5678"}},
		{"audit.created.by.id=USR-1234-5678", TokenFilter{CreatedBy: "USR-1234-5678"}},
		{"and(ge(audit.created.at,2026-01-31T23:00:00.000Z),lt(audit.created.at,2026-02-01))",
			TokenFilter{CreatedFrom: from, CreatedTo: from.Add(time.Hour)}},
		{"gt(audit.created.at,2026-01-31T23:00:00+00:00)", TokenFilter{CreatedFrom: from.Add(time.Millisecond)}},
		{"eq(lastAccessAt,null())", TokenFilter{LastAccess: NeverUsed}},
		{"and(eq(id,'TKN-1234-5678'),eq(status,Disabled))", TokenFilter{ids: []string{"TKN-1234-5678"}, Status: StateDisabled}},
	} {
		var fl TokenFilter
		if err := fl.ApplyRQL([]string{tc.expr}); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(fl) != fmt.Sprint(tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.expr, fl, tc.want)
		}
	}
}
