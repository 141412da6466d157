package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"apitokens/store/rql"
)

// rqlRow is a token as the in-memory RQL filter sees it: every field a
// filter can name, read plainly.
type rqlRow struct {
	text             map[string]string // the text fields, by their RQL names
	times            map[string]*int64 // the date fields, nil when unset
	state            TokenState
	hasIcon          bool
	modules          []Module
	created, updated int64
}

// rqlRows reads the live tokens of the account.
func (f *fixture) rqlRows(t *testing.T) []rqlRow {
	t.Helper()
	rows, err := f.s.read.Query(`SELECT id, name, description, account_id, created_by, updated_by,
		created_at, updated_at, last_access_at, expires_at, status, logo IS NOT NULL
		FROM tokens WHERE account_id = ? AND status != 'deleted'`, f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now().UnixMilli()
	var out []rqlRow
	for rows.Next() {
		var id, name, desc, acc, by, upBy string
		var created, updated int64
		var last, expires *int64
		var status TokenStatus
		var icon bool
		if err := rows.Scan(&id, &name, &desc, &acc, &by, &upBy, &created, &updated, &last, &expires, &status, &icon); err != nil {
			t.Fatal(err)
		}
		r := rqlRow{
			text: map[string]string{"id": id, "name": name, "description": desc, "account.id": acc,
				"audit.created.by.id": by, "audit.updated.by.id": upBy},
			times: map[string]*int64{"audit.created.at": &created, "audit.updated.at": &updated,
				"lastAccessAt": last, "expiresAt": expires},
			hasIcon: icon, created: created, updated: updated,
		}
		r.state = oracleRow{status: status, expires: cmp.Or(ptrValue(expires), 0)}.state(now)
		out = append(out, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	for i := range out {
		tok := f.tokenByID(t, f.account.ID, out[i].text["id"])
		out[i].modules = tok.Modules
	}
	return out
}

func ptrValue(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// rqlMatch is what an RQL filter means, written plainly: the in-memory
// filter the store's SQL is checked against.
func rqlMatch(t *testing.T, n *rql.Node, r rqlRow, mod *Module) bool {
	switch n.Op {
	case "and":
		for _, a := range n.Args {
			if !rqlMatch(t, a, r, mod) {
				return false
			}
		}
		return true
	case "or":
		return slices.ContainsFunc(n.Args, func(a *rql.Node) bool { return rqlMatch(t, a, r, mod) })
	case "not":
		return !rqlMatch(t, n.Args[0], r, mod)
	case "any":
		return slices.ContainsFunc(r.modules, func(m Module) bool { return rqlMatch(t, n.Args[0], r, &m) })
	case "all":
		return !slices.ContainsFunc(r.modules, func(m Module) bool { return !rqlMatch(t, n.Args[0], r, &m) })
	}
	values := n.Values
	if n.Op != "in" && n.Op != "out" {
		values = []rql.Value{n.Value}
	}
	field := n.Field
	if mod != nil {
		field = "modules." + field
	}
	switch {
	case field == "modules":
		return (len(r.modules) == 0) == (n.Op == "eq")
	case mod == nil && strings.HasPrefix(field, "modules."):
		return rqlMatch(t, &rql.Node{Op: "any", Field: "modules", Args: []*rql.Node{{Op: n.Op, Field: strings.TrimPrefix(field, "modules."), Value: n.Value, Values: n.Values}}}, r, nil)
	case field == "status":
		in := slices.ContainsFunc(values, func(v rql.Value) bool { return strings.EqualFold(v.Text, string(r.state)) })
		return in == (n.Op == "eq" || n.Op == "in")
	case field == "icon":
		return r.hasIcon == (n.Op == "ne")
	}
	if mod != nil {
		text := map[string]string{"modules.id": mod.ID, "modules.name": mod.Name}[field]
		return compareText(n.Op, text, values)
	}
	if text, ok := r.text[field]; ok {
		if n.Value.Kind == rql.Null {
			return n.Op == "ne"
		}
		return compareText(n.Op, text, values)
	}
	at, ok := r.times[field]
	if !ok {
		t.Fatalf("no field %q in the in-memory filter", field)
	}
	if n.Value.Kind == rql.Null {
		return (at == nil) == (n.Op == "eq")
	}
	var want []int64
	for _, v := range values {
		tm, err := parseRQLTime(v.Text)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, tm.UnixMilli())
	}
	if n.Op == "out" || n.Op == "ne" {
		return at == nil || !slices.Contains(want, *at)
	}
	if at == nil {
		return false
	}
	return compareOrdered(n.Op, *at, want)
}

func compareText(op, s string, values []rql.Value) bool {
	var want []string
	for _, v := range values {
		want = append(want, v.Text)
	}
	switch op {
	case "like":
		return globMatch(want[0], s, false)
	case "ilike":
		return globMatch(want[0], s, true)
	case "ne", "out":
		return !slices.Contains(want, s)
	}
	return compareOrdered(op, s, want)
}

func compareOrdered[T cmp.Ordered](op string, v T, want []T) bool {
	switch op {
	case "eq", "in":
		return slices.Contains(want, v)
	case "gt":
		return v > want[0]
	case "ge":
		return v >= want[0]
	case "lt":
		return v < want[0]
	case "le":
		return v <= want[0]
	}
	panic(op)
}

// globMatch matches s against an RQL pattern (* for any characters, \* for
// an asterisk), ignoring the case of ASCII letters for ilike.
func globMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = asciiLower(pattern), asciiLower(s)
	}
	if pattern == "" {
		return s == ""
	}
	c := pattern[0]
	if c == '*' {
		for i := 0; i <= len(s); i++ {
			if globMatch(pattern[1:], s[i:], false) {
				return true
			}
		}
		return false
	}
	if c == '\\' && len(pattern) > 1 {
		pattern, c = pattern[1:], pattern[1]
	}
	return s != "" && s[0] == c && globMatch(pattern[1:], s[1:], false)
}

// rqlSortKey is a row's value in an order's field, as the list sorts it.
func rqlSortKey(r rqlRow, field string) any {
	switch field {
	case "name":
		return asciiLower(r.text["name"])
	case "id":
		return r.text["id"]
	case "status":
		return int64(slices.Index(stateOrder, r.state))
	}
	return ptrValue(r.times[field])
}

// rqlOracle lists the IDs that match the filter, in the order's order.
func rqlOracle(t *testing.T, rows []rqlRow, filter *rql.Node, order string) []string {
	var out []rqlRow
	for _, r := range rows {
		if filter == nil || rqlMatch(t, filter, r, nil) {
			out = append(out, r)
		}
	}
	keys := strings.Split(cmp.Or(order, "-audit.created.at"), ",")
	if strings.TrimPrefix(keys[0], "-") == "status" {
		keys = slices.Insert(keys, 1, strings.TrimSuffix(keys[0], "status")+"name")
	}
	keys = append(keys, strings.TrimSuffix(keys[0], strings.TrimPrefix(keys[0], "-"))+"id")
	slices.SortFunc(out, func(a, b rqlRow) int {
		for _, k := range keys {
			field, desc := strings.CutPrefix(k, "-")
			var c int
			switch x := rqlSortKey(a, field).(type) {
			case string:
				c = strings.Compare(x, rqlSortKey(b, field).(string))
			case int64:
				c = cmp.Compare(x, rqlSortKey(b, field).(int64))
			}
			if desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	var ids []string
	for _, r := range out {
		ids = append(ids, r.text["id"])
	}
	return ids
}

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
			f.exec(t, `UPDATE tokens SET description = 'Invoices for finance', logo = x'89504e47' WHERE id = ?`, id)
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
