package store

import (
	"fmt"
	"strings"

	"apitokens/store/rql"
)

// fieldKind is what a field of a filter holds, which decides the operators
// and values it takes.
type fieldKind int

const (
	textField       fieldKind = iota // a string, never null
	timeField                        // a date and time, null when unset
	stateField                       // Active, Disabled or Expired
	iconField                        // an image or null: compared with null() alone
	collectionField                  // the modules: any(), all(), or compared with empty()
	itemField                        // a field of the modules: any() of a comparison
)

// rqlField is a field a filter can name, and the SQL that reads it. Every
// column is hidden from the indexes (a unary +): the terms the list's
// indexes serve are those fold makes into the page's filters, and the plan
// must not be turned from them.
type rqlField struct {
	kind fieldKind
	sql  string // textField, timeField: the column; itemField: the module's field
}

// tokenFields are the fields of a token a filter can name, as the API
// writes them.
var tokenFields = map[string]rqlField{
	"id":                  {textField, `+t.id`},
	"name":                {textField, `+t.name`},
	"description":         {textField, `+t.description`},
	"status":              {kind: stateField},
	"icon":                {kind: iconField},
	"account.id":          {textField, `+t.account_id`},
	"modules":             {kind: collectionField},
	"modules.id":          {itemField, "id"},
	"modules.name":        {itemField, "name"},
	"audit.created.at":    {timeField, `+t.created_at`},
	"audit.created.by.id": {textField, `+t.created_by`},
	"audit.updated.at":    {timeField, `+t.updated_at`},
	"audit.updated.by.id": {textField, `+t.updated_by`},
	"lastAccessAt":        {timeField, `+t.last_access_at`},
	"expiresAt":           {timeField, `+t.expires_at`},
}

// moduleFields are the fields of a module, inside any(modules,…).
var moduleFields = map[string]rqlField{
	"id":   {textField, `m.id`},
	"name": {textField, `m.name`},
}

// rqlEnv is what the SQL of a filter depends on beyond the filter.
type rqlEnv struct {
	now       int64 // Unix milliseconds: which active tokens have expired
	accountID string
	d         dialect
}

// compileRQL writes a filter as an SQL condition on tokens t (or on
// modules m, with moduleFields), every value a parameter. The condition is
// true or false, never NULL, so that not() is the opposite of what it
// negates even for unset fields.
func compileRQL(n *rql.Node, env rqlEnv, fields map[string]rqlField) (string, []any, *QueryError) {
	switch n.Op {
	case "and", "or", "not":
		var terms []string
		var args []any
		for _, a := range n.Args {
			term, a, err := compileRQL(a, env, fields)
			if err != nil {
				return "", nil, err
			}
			terms, args = append(terms, "("+term+")"), append(args, a...)
		}
		if n.Op == "not" {
			return "NOT " + terms[0], args, nil
		}
		return strings.Join(terms, " "+strings.ToUpper(n.Op)+" "), args, nil
	}
	fd, ok := fields[n.Field]
	if !ok {
		return "", nil, queryErrorAt(n.FieldPos, "unknown field %q", n.Field)
	}
	switch fd.kind {
	case collectionField:
		return compileCollection(n, env)
	case itemField:
		// modules.id=X is any(modules,eq(id,X)).
		item := *n
		item.Field = fd.sql
		return compileCollection(&rql.Node{Op: "any", Field: n.Field, Args: []*rql.Node{&item}}, env)
	case stateField:
		return compileState(n, env)
	case iconField:
		if (n.Op == "eq" || n.Op == "ne") && n.Value.Kind != rql.Literal {
			return nullTest(`+t.logo`, n.Op), nil, nil
		}
		return "", nil, queryErrorAt(n.Pos, "icon can only be compared with null() or empty(), by eq or ne")
	}
	if isNullTest(n) {
		return nullTest(fd.sql, n.Op), nil, nil
	}
	if n.Op == "any" || n.Op == "all" {
		return "", nil, queryErrorAt(n.FieldPos, "%s() takes a collection (modules), not %q", n.Op, n.Field)
	}
	values := n.Values
	if n.Op != "in" && n.Op != "out" {
		values = []rql.Value{n.Value}
	}
	args := make([]any, 0, len(values))
	for _, v := range values {
		a, err := sqlValue(fd, n, v, env.d)
		if err != nil {
			return "", nil, err
		}
		args = append(args, a)
	}
	return comparison(fd, n.Op, len(args), env.d), args, nil
}

// sqlValue is a value of a comparison as the column stores it.
func sqlValue(fd rqlField, n *rql.Node, v rql.Value, d dialect) (any, *QueryError) {
	if v.Kind == rql.Null {
		return nil, queryErrorAt(v.Pos, "null() can only be compared by eq or ne")
	}
	switch {
	case fd.kind == textField && (n.Op == "like" || n.Op == "ilike"):
		return likePattern(v.Text, n.Op == "ilike" || d.postgres), nil
	case fd.kind == textField:
		return v.Text, nil
	case n.Op == "like" || n.Op == "ilike":
		return nil, queryErrorAt(n.Pos, "%s() compares text; %s is a date and time", n.Op, n.Field)
	case v.Kind == rql.Empty:
		return nil, queryErrorAt(v.Pos, "%s is a date and time, never empty(); compare it with null()", n.Field)
	}
	at, err := parseRQLTime(v.Text)
	if err != nil {
		return nil, queryErrorAt(v.Pos, "%q is not a date and time for %s (write 2026-01-31T23:00:00.000Z)", v.Text, n.Field)
	}
	return at.UnixMilli(), nil
}

// comparison is the SQL of a comparison of a text or time field with n
// values. A time may be null: the comparisons of order are false then.
func comparison(fd rqlField, op string, n int, d dialect) string {
	col := fd.sql
	list := "(?" + strings.Repeat(", ?", n-1) + ")"
	if fd.kind == timeField {
		switch op {
		case "eq":
			return col + ` IS NOT DISTINCT FROM ?`
		case "ne":
			return col + ` IS DISTINCT FROM ?`
		case "in":
			return `COALESCE(` + col + ` IN ` + list + `, FALSE)`
		case "out":
			return `NOT COALESCE(` + col + ` IN ` + list + `, FALSE)`
		}
		return `COALESCE(` + col + ` ` + sqlOps[op] + ` ?, FALSE)`
	}
	switch op {
	case "in":
		return col + ` IN ` + list
	case "out":
		return col + ` NOT IN ` + list
	case "ilike":
		return d.likeNocase(col)
	case "like":
		return d.globLike(col)
	}
	return col + ` ` + sqlOps[op] + ` ?`
}

var sqlOps = map[string]string{"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}

// isNullTest reports whether n is eq or ne with null().
func isNullTest(n *rql.Node) bool {
	return (n.Op == "eq" || n.Op == "ne") && n.Value.Kind == rql.Null
}

func nullTest(col, op string) string {
	if op == "eq" {
		return col + ` IS NULL`
	}
	return col + ` IS NOT NULL`
}

// compileState compares the status, which is Expired for an active token
// past its date: it takes the states' words alone, by eq, ne, in and out.
func compileState(n *rql.Node, env rqlEnv) (string, []any, *QueryError) {
	values := n.Values
	switch n.Op {
	case "eq", "ne":
		values = []rql.Value{n.Value}
	case "in", "out":
	default:
		return "", nil, queryErrorAt(n.Pos, "status can only be compared by eq, ne, in or out")
	}
	var terms []string
	var args []any
	for _, v := range values {
		st, ok := parseState(v.Text)
		if !ok || v.Kind != rql.Literal {
			return "", nil, queryErrorAt(v.Pos, "%q is not a status (Active, Disabled or Expired)", v.Text)
		}
		cond, a := stateCondition(st, env.now, false, false)
		terms, args = append(terms, "("+cond+")"), append(args, a...)
	}
	cond := strings.Join(terms, " OR ")
	if n.Op == "ne" || n.Op == "out" {
		cond = "NOT (" + cond + ")"
	}
	return cond, args, nil
}

// compileCollection filters by the modules: any(modules,…) and
// all(modules,…), or modules compared with empty() or null() (none).
// The modules the condition picks are those of the account, each a bit of
// tokens.module_bits, so no row of token_modules is read per token.
func compileCollection(n *rql.Node, env rqlEnv) (string, []any, *QueryError) {
	switch {
	case (n.Op == "eq" || n.Op == "ne") && n.Value.Kind != rql.Literal:
		if n.Op == "eq" {
			return `+t.module_bits = 0`, nil, nil
		}
		return `+t.module_bits != 0`, nil, nil
	case n.Op != "any" && n.Op != "all":
		return "", nil, queryErrorAt(n.Pos, "%s is a collection: filter it with any() or all(), or compare it with empty()", n.Field)
	}
	if c := n.Args[0]; c.Op == "any" || c.Op == "all" {
		return "", nil, queryErrorAt(c.Pos, "a module has no collection for %s()", c.Op)
	}
	cond, args, err := compileRQL(n.Args[0], env, moduleFields)
	if err != nil {
		return "", nil, err
	}
	// Each module's bit once: their sum is the mask.
	mask := `(SELECT CAST(COALESCE(SUM(CAST(1 AS BIGINT) << m.bit), 0) AS BIGINT) FROM modules m WHERE m.account_id = ? AND (` + cond + `))`
	args = append([]any{env.accountID}, args...)
	if n.Op == "any" {
		return `(+t.module_bits & ` + mask + `) != 0`, args, nil
	}
	return `(+t.module_bits & ~` + mask + `) = 0`, args, nil
}

// likePattern turns an RQL pattern, where * stands for any characters and
// \* for an asterisk, into a GLOB pattern (SQLite's like, case-sensitive)
// or a LIKE pattern with \ as its escape (ilike, which ignores the case of
// ASCII letters; and PostgreSQL's like, which does not).
func likePattern(p string, ilike bool) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		literal := false
		if c == '\\' && i+1 < len(p) {
			i++
			c, literal = p[i], true
		}
		switch {
		case c == '*' && !literal && ilike:
			b.WriteByte('%')
		case c == '*' && !literal:
			b.WriteByte('*')
		case ilike && (c == '%' || c == '_' || c == '\\'):
			b.WriteByte('\\')
			b.WriteByte(c)
		case !ilike && (c == '*' || c == '?' || c == '['):
			b.WriteByte('[')
			b.WriteByte(c)
			b.WriteByte(']')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func queryErrorAt(pos int, format string, args ...any) *QueryError {
	return &QueryError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
