package store

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"

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
