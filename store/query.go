package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"apitokens/store/rql"
)

// QueryError is a filter or order of the REST API that cannot be used: an
// unknown field or operator, a value of the wrong kind, or a malformed
// expression. It names what is wrong and where.
type QueryError struct {
	Param string // the query parameter: "filter" (an RQL expression) or "order"
	Query string // the expression as received
	Pos   int    // byte offset in Query
	Msg   string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("%s at position %d of %q", e.Msg, e.Pos+1, e.Query)
}

// ApplyRQL narrows the filter by RQL expressions, each a part of a query
// string (percent-decoded), all of which must hold. Terms the list page has
// a filter for (status, module, creator, date created, never used, a name
// search, IDs) become that filter, so they are found through the same
// indexes; any other term is checked on the rows those find.
func (f *TokenFilter) ApplyRQL(exprs []string) error {
	for _, e := range exprs {
		n, err := rql.Parse(e)
		if err != nil {
			var re *rql.Error
			if errors.As(err, &re) {
				return &QueryError{Param: "filter", Query: e, Pos: re.Pos, Msg: re.Msg}
			}
			return err
		}
		if _, _, err := compileRQL(n, rqlEnv{}, tokenFields); err != nil {
			err.Param, err.Query = "filter", e
			return err
		}
		for _, term := range conjuncts(n) {
			if !f.fold(term) {
				f.where = append(f.where, term)
			}
		}
	}
	return nil
}

// conjuncts splits and(a,and(b,c)) into a, b and c.
func conjuncts(n *rql.Node) []*rql.Node {
	if n.Op != "and" {
		return []*rql.Node{n}
	}
	var out []*rql.Node
	for _, a := range n.Args {
		out = append(out, conjuncts(a)...)
	}
	return out
}

// fold makes a term one of the list page's filters, when it is one and
// that filter is not set yet, and reports whether it did.
func (f *TokenFilter) fold(n *rql.Node) bool {
	v := n.Value
	literal := v.Kind == rql.Literal
	switch {
	case n.Op == "eq" && n.Field == "status" && f.Status == "" && literal:
		st, ok := parseState(v.Text)
		f.Status = st
		return ok
	case n.Op == "any" && n.Field == "modules" && f.ModuleID == "":
		c := n.Args[0]
		if c.Op == "eq" && c.Field == "id" && c.Value.Kind == rql.Literal && isID(c.Value.Text, modulePrefix) {
			f.ModuleID = c.Value.Text
			return true
		}
	case n.Op == "eq" && n.Field == "modules.id" && f.ModuleID == "" && literal && isID(v.Text, modulePrefix):
		f.ModuleID = v.Text
		return true
	case n.Op == "eq" && n.Field == "audit.created.by.id" && f.CreatedBy == "" && literal &&
		(isID(v.Text, userPrefix) || IsTokenID(v.Text)):
		f.CreatedBy = v.Text
		return true
	case n.Field == "audit.created.at" && literal:
		return f.foldCreated(n)
	case n.Op == "eq" && n.Field == "lastAccessAt" && v.Kind == rql.Null && f.LastAccess == "":
		f.LastAccess = NeverUsed
		return true
	case n.Op == "ilike" && n.Field == "name" && f.Query == "":
		// *text* is the page's search of names, through the trigram
		// index, when text is long enough for it and plain.
		q, ok := strings.CutPrefix(v.Text, "*")
		if q, ok2 := strings.CutSuffix(q, "*"); ok && ok2 && literal && utf8.ValidString(q) && q == strings.TrimSpace(q) &&
			utf8.RuneCountInString(q) >= 3 && utf8.RuneCountInString(q) <= MaxQuery && !strings.ContainsAny(q, "*\\\x00") {
			f.Query, f.nameOnly = q, true
			return true
		}
	case (n.Op == "eq" || n.Op == "in") && n.Field == "id" && f.ids == nil:
		vals := n.Values
		if n.Op == "eq" {
			vals = []rql.Value{v}
		}
		ids := make([]string, 0, len(vals))
		for _, v := range vals {
			if v.Kind != rql.Literal {
				return false
			}
			ids = append(ids, v.Text)
		}
		// Each once: a driven plan joins the list to the tokens.
		f.ids = slices.Compact(slices.Sorted(slices.Values(ids)))
		return true
	}
	return false
}

// foldCreated makes a bound on the date created the page's date range.
func (f *TokenFilter) foldCreated(n *rql.Node) bool {
	at, err := parseRQLTime(n.Value.Text)
	if err != nil {
		return false
	}
	from, to := f.CreatedFrom, f.CreatedTo
	switch n.Op {
	case "ge":
		from = at
	case "gt":
		from = at.Add(time.Millisecond)
	case "lt":
		to = at
	case "le":
		to = at.Add(time.Millisecond)
	default:
		return false
	}
	// A bound the range has already, or one that would leave it empty
	// (which the page refuses as a mistake), is checked row by row.
	if n.Op[0] == 'g' && !f.CreatedFrom.IsZero() || n.Op[0] == 'l' && !f.CreatedTo.IsZero() ||
		!from.IsZero() && !to.IsZero() && !to.After(from) {
		return false
	}
	f.CreatedFrom, f.CreatedTo = from, to
	return true
}

// parseState reads a state as the API writes it, in any letter case.
func parseState(s string) (TokenState, bool) {
	for _, st := range stateOrder {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

// parseRQLTime reads a date and time as clients write them: RFC 3339 with
// or without fractions of a second, without a zone (UTC), or a date alone
// (its midnight, UTC). Times are kept to the millisecond.
func parseRQLTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", s)
}

// orderFields are the fields an order can name, with the SQL each sorts by
// when it comes after the first; the first must be one of the list's sorts.
var orderFields = map[string]struct {
	sort   TokenSort
	sql    string
	nocase bool // compared ignoring the case of ASCII letters
}{
	"name":             {sort: SortName, sql: `t.name`, nocase: true},
	"audit.created.at": {sort: SortCreated, sql: `t.created_at`},
	"lastAccessAt":     {sort: SortLastAccess, sql: `COALESCE(t.last_access_at, 0)`},
	"status":           {sort: SortStatus, sql: stateRankSQL},
	"audit.updated.at": {sql: `t.updated_at`},
	"expiresAt":        {sql: `COALESCE(t.expires_at, 0)`},
	"id":               {sql: `t.id`},
}

// stateRankSQL is a token's place in stateOrder; its one argument is now.
const stateRankSQL = `CASE WHEN t.status = 'disabled' THEN 1 WHEN t.expires_at <= ? THEN 2 ELSE 0 END`

// orderKey is a sort after the first, to break its ties.
type orderKey struct {
	field string
	desc  bool
}

// ApplyRQLOrder sets the order from an RQL order: fields separated by
// commas, each ascending, or descending after a '-' ("-audit.created.at,name").
func (f *TokenFilter) ApplyRQLOrder(order string) error {
	pos := 0
	for i, part := range strings.Split(order, ",") {
		field, desc := strings.CutPrefix(part, "-")
		if !desc {
			field, _ = strings.CutPrefix(field, "+")
		}
		fail := func(msg string) error {
			return &QueryError{Param: "order", Query: order, Pos: pos, Msg: msg}
		}
		of, ok := orderFields[field]
		switch {
		case !ok:
			return fail(fmt.Sprintf("cannot order by %q", field))
		case i == 0 && of.sort == "":
			return fail(fmt.Sprintf("cannot order by %q first (first order by name, status, audit.created.at or lastAccessAt)", field))
		case i == 0:
			f.Sort, f.Order = of.sort, Ascending
			if desc {
				f.Order = Descending
			}
		default:
			f.then = append(f.then, orderKey{field, desc})
		}
		pos += len(part) + 1
	}
	return nil
}
