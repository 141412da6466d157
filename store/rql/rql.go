// Package rql reads the Resource Query Language of the platform's REST API:
// filters such as and(eq(status,Active),ilike(name,*sync*)) as they arrive
// in a query string, already percent-decoded. It knows the syntax and the
// operators, not the fields: what a field means is for the caller.
package rql

import (
	"fmt"
	"slices"
	"strings"
)

// Limits on what an expression may hold, so that a query string cannot make
// the parser or the SQL built from it arbitrarily large.
const (
	// MaxDepth bounds how deeply calls nest.
	MaxDepth = 16
	// MaxTerms bounds the calls and values of a whole filter.
	MaxTerms = 200
)

// Node is one call: a logical operator with its conditions, a comparison
// of a field with a value (or values), or any/all of a collection.
type Node struct {
	Op    string // one of the operators below
	Field string // comparisons, in, out, any, all
	// FieldPos is where Field is written, a byte offset.
	FieldPos int
	Value    Value   // comparisons, like, ilike
	Values   []Value // in, out
	Args     []*Node // and, or: one or more; not, any, all: one
	Pos      int     // where the call starts, a byte offset
}

// Kind tells a literal from the constants null() and empty().
type Kind int

// Kinds of value.
const (
	Literal Kind = iota
	Null         // null(): no value at all
	Empty        // empty(): the empty string
)

// Value is an argument that is a value: the text as written, without its
// quotes.
type Value struct {
	Text string
	Kind Kind
	Pos  int
}

// Error is an expression that cannot be read, with what is wrong and where.
type Error struct {
	Pos int    // byte offset in the expression
	Msg string // names the operator, field or character
}

func (e *Error) Error() string { return fmt.Sprintf("%s at position %d", e.Msg, e.Pos+1) }

// Operators, by the shape of their arguments.
var (
	comparisons = []string{"eq", "ne", "gt", "ge", "lt", "le", "like", "ilike"}
	lists       = []string{"in", "out"}
	logical     = []string{"and", "or", "not"}
	collections = []string{"any", "all"}
)

// Parse reads one expression: a call such as eq(name,'Nightly export'), or
// the shorthand name=value for eq(name,value). Nothing may follow it.
func Parse(s string) (*Node, error) {
	p := &parser{s: s}
	n, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(s) {
		return nil, p.errorf("unexpected %q after the expression", s[p.i])
	}
	return n, nil
}

type parser struct {
	s     string
	i     int
	terms int
}

func (p *parser) errorf(format string, args ...any) *Error {
	return &Error{Pos: p.i, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) count() error {
	if p.terms++; p.terms > MaxTerms {
		return p.errorf("the filter has more than %d terms", MaxTerms)
	}
	return nil
}

// name reads an operator or field name: letters, digits, '_' and '.'.
func (p *parser) name() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c == '.' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *parser) expect(c byte) error {
	if p.i >= len(p.s) {
		return p.errorf("expected %q, found the end", c)
	}
	if p.s[p.i] != c {
		return p.errorf("expected %q, found %q", c, p.s[p.i])
	}
	p.i++
	return nil
}

func (p *parser) peek(c byte) bool { return p.i < len(p.s) && p.s[p.i] == c }

// expr reads a call or a field=value shorthand.
func (p *parser) expr(depth int) (*Node, error) {
	if depth >= MaxDepth {
		return nil, p.errorf("the filter nests more than %d deep", MaxDepth)
	}
	if err := p.count(); err != nil {
		return nil, err
	}
	start := p.i
	word := p.name()
	if word == "" {
		if p.i >= len(p.s) {
			return nil, p.errorf("expected an expression, found the end")
		}
		return nil, p.errorf("expected an operator or a field, found %q", p.s[p.i])
	}
	if p.peek('=') {
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		return &Node{Op: "eq", Field: word, FieldPos: start, Value: v, Pos: start}, nil
	}
	if !p.peek('(') {
		return nil, p.errorf("expected \"(\" or \"=\" after %q", word)
	}
	n := &Node{Op: word, Pos: start}
	p.i++
	n.FieldPos = p.i
	var err error
	switch {
	case slices.Contains(logical, word):
		err = p.conditions(n, depth)
	case slices.Contains(comparisons, word):
		if n.Field, err = p.field(); err == nil {
			n.Value, err = p.value()
		}
	case slices.Contains(lists, word):
		if n.Field, err = p.field(); err == nil {
			n.Values, err = p.valueList()
		}
	case slices.Contains(collections, word):
		var cond *Node
		if n.Field, err = p.field(); err == nil {
			if cond, err = p.expr(depth + 1); err == nil {
				n.Args = []*Node{cond}
			}
		}
	default:
		return nil, &Error{Pos: start, Msg: fmt.Sprintf("unknown operator %q", word)}
	}
	if err != nil {
		return nil, err
	}
	return n, p.expect(')')
}

// conditions reads the arguments of and, or and not.
func (p *parser) conditions(n *Node, depth int) error {
	for {
		a, err := p.expr(depth + 1)
		if err != nil {
			return err
		}
		n.Args = append(n.Args, a)
		if !p.peek(',') {
			break
		}
		p.i++
	}
	if n.Op == "not" && len(n.Args) != 1 {
		return &Error{Pos: n.Pos, Msg: "not() takes one condition"}
	}
	return nil
}

// field reads a field name and the comma after it.
func (p *parser) field() (string, error) {
	f := p.name()
	if f == "" {
		return "", p.errorf("expected a field name")
	}
	return f, p.expect(',')
}

// valueList reads the values of in and out: (a,b,c), or a,b,c.
func (p *parser) valueList() ([]Value, error) {
	paren := p.peek('(')
	if paren {
		p.i++
	}
	var vs []Value
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if err := p.count(); err != nil {
			return nil, err
		}
		vs = append(vs, v)
		if !p.peek(',') {
			break
		}
		p.i++
	}
	if paren {
		return vs, p.expect(')')
	}
	return vs, nil
}

// value reads a quoted value ('…' or "…", which may hold any character but
// its own quote), null(), empty(), or an unquoted value, which ends at a
// comma or parenthesis.
func (p *parser) value() (Value, error) {
	v := Value{Pos: p.i}
	if p.i < len(p.s) && (p.s[p.i] == '\'' || p.s[p.i] == '"') {
		q := p.s[p.i]
		end := strings.IndexByte(p.s[p.i+1:], q)
		if end < 0 {
			return v, p.errorf("the quote %c that starts here is never closed", q)
		}
		v.Text = p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return v, nil
	}
	for _, c := range []struct {
		text string
		kind Kind
	}{{"null()", Null}, {"empty()", Empty}} {
		if strings.HasPrefix(p.s[p.i:], c.text) {
			p.i += len(c.text)
			v.Kind = c.kind
			return v, nil
		}
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune("(),", rune(p.s[p.i])) {
		p.i++
	}
	if p.peek('(') {
		return v, p.errorf("unexpected \"(\" in the value %q (quote a value that holds one)", p.s[start:p.i])
	}
	v.Text = p.s[start:p.i]
	return v, nil
}
