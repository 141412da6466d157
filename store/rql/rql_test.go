package rql

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// show writes a node back as a canonical expression, for comparing.
func show(n *Node) string {
	value := func(v Value) string {
		switch v.Kind {
		case Null:
			return "null()"
		case Empty:
			return "empty()"
		}
		return fmt.Sprintf("%q", v.Text)
	}
	switch n.Op {
	case "and", "or", "not":
		var args []string
		for _, a := range n.Args {
			args = append(args, show(a))
		}
		return n.Op + "(" + strings.Join(args, ",") + ")"
	case "any", "all":
		return n.Op + "(" + n.Field + "," + show(n.Args[0]) + ")"
	case "in", "out":
		var vs []string
		for _, v := range n.Values {
			vs = append(vs, value(v))
		}
		return n.Op + "(" + n.Field + ",(" + strings.Join(vs, ",") + "))"
	}
	return n.Op + "(" + n.Field + "," + value(n.Value) + ")"
}

// TestParse reads what the platform's clients write: the official client's
// quoted values, its in() lists, not(), any() and null()/empty(), and the
// unquoted and shorthand forms of the platform's documentation.
func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"eq(id,'TKN-1234-5678')", `eq(id,"TKN-1234-5678")`},
		{"and(eq(id,'TKN-1234-5678'),eq(name,'E2E Seeded Token'))", `and(eq(id,"TKN-1234-5678"),eq(name,"E2E Seeded Token"))`},
		{"name=Buzz", `eq(name,"Buzz")`},
		{`name="Buzz with the ' Quote"`, `eq(name,"Buzz with the ' Quote")`},
		{"name=empty()", `eq(name,empty())`},
		{"ne(lastAccessAt,null())", `ne(lastAccessAt,null())`},
		{"in(status,('Active','Disabled'))", `in(status,("Active","Disabled"))`},
		{"out(status,Active,Disabled)", `out(status,("Active","Disabled"))`},
		{"not(and(eq(id,'A'),eq(name,'b')))", `not(and(eq(id,"A"),eq(name,"b")))`},
		{"any(modules,eq(id,MOD-1234-5678))", `any(modules,eq(id,"MOD-1234-5678"))`},
		{"any(modules,id=MOD-1234-5678)", `any(modules,eq(id,"MOD-1234-5678"))`},
		{"all(modules,and(gt(name,1),lt(name,100)))", `all(modules,and(gt(name,"1"),lt(name,"100")))`},
		{`ilike(name,"The\**")`, `ilike(name,"The\\**")`},
		{"gt(audit.created.at,'2026-01-31T23:00:00+00:00')", `gt(audit.created.at,"2026-01-31T23:00:00+00:00")`},
		{"eq(name,)", `eq(name,"")`},
		{"eq(name,a=b)", `eq(name,"a=b")`},
		{"or(eq(name,'a,b'),eq(name,\"(c)\"))", `or(eq(name,"a,b"),eq(name,"(c)"))`},
	} {
		n, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := show(n); got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestParseErrors: each error says what is wrong and where.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in  string
		pos int
		msg string
	}{
		{"", 0, "expected an expression, found the end"},
		{"eq(name", 7, `expected ',', found the end`},
		{"eq(,x)", 3, "expected a field name"},
		{"frob(name,x)", 0, `unknown operator "frob"`},
		{"name", 4, `expected "(" or "=" after "name"`},
		{"eq(name,'x", 8, "never closed"},
		{"and()", 4, `expected an operator or a field, found ')'`},
		{"eq(name,x)eq(name,y)", 10, `unexpected 'e' after the expression`},
		{"in(status,(a,b)", 15, `expected ')', found the end`},
	} {
		_, err := Parse(tc.in)
		var e *Error
		if !errors.As(err, &e) || e.Pos != tc.pos || !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("Parse(%q) = %v; want %q at %d", tc.in, err, tc.msg, tc.pos)
		}
	}
}
