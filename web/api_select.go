package web

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// selection is what select= asks of a token's members: terms applied in
// order, each adding ("+audit", or "audit") or removing ("-description") a
// member or a member of one ("-audit.updated"); "*" stands for every
// member, so "-*,+name" keeps the name alone. Every member is there unless
// removed; id always is.
type selection struct{ terms []selectTerm }

type selectTerm struct {
	path    string
	include bool
}

// selectablePaths are the members of a token select= can name: those of
// apiToken, found in its JSON names, so that a member added there can be
// selected with no other change.
var selectablePaths = memberPaths(reflect.TypeFor[apiToken](), "")

func memberPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + name
		out = append(out, path)
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			out = append(out, memberPaths(ft, path+".")...)
		}
	}
	return out
}

// parseSelect reads a select parameter: members separated by commas.
func parseSelect(s string) (selection, error) {
	var sel selection
	if s == "" {
		return sel, nil
	}
	pos := 0
	for part := range strings.SplitSeq(s, ",") {
		t := selectTerm{path: part, include: true}
		if rest, ok := strings.CutPrefix(part, "-"); ok {
			t = selectTerm{path: rest, include: false}
		} else if rest, ok := strings.CutPrefix(part, "+"); ok {
			t.path = rest
		}
		switch {
		case t.path != "*" && !slices.Contains(selectablePaths, t.path):
			return sel, badSelect(s, pos, fmt.Sprintf("%q is not a member of an API token", t.path))
		case t.path == "id" && !t.include:
			return sel, badSelect(s, pos, "id is always returned and cannot be removed")
		}
		sel.terms = append(sel.terms, t)
		pos += len(part) + 1
	}
	return sel, nil
}

func badSelect(s string, pos int, msg string) *problem {
	p := problemBadQuery.with(fmt.Sprintf("select cannot be used: %s at position %d of %q.", msg, pos+1, s))
	p.Errors.add("select", p.Detail)
	return p
}

// keep says how much of the member at path stays: none, all of it, or
// some (then each of its members is asked in turn). The last term that
// names the member, one around it or * decides; terms after that one
// about members inside it make it partial.
func (sel selection) keep(path string) (all, some bool) {
	if path == "id" {
		return true, true
	}
	in, innerIn, innerOut := true, false, false
	for _, t := range sel.terms {
		switch {
		case t.path == "*" || t.path == path || strings.HasPrefix(path, t.path+"."):
			in, innerIn, innerOut = t.include, false, false
		case strings.HasPrefix(t.path, path+"."):
			innerIn, innerOut = innerIn || t.include, innerOut || !t.include
		}
	}
	return in && !innerOut, in || innerIn
}

// apply returns v, a token as the API shows it, with only the members
// selected; v itself when select= was not given.
func (sel selection) apply(v any) (any, error) {
	if len(sel.terms) == 0 {
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return sel.prune(m, ""), nil
}

// prune removes what is not selected from v, the member at path (a list's
// items are at its path).
func (sel selection) prune(v any, path string) any {
	switch x := v.(type) {
	case map[string]any:
		for name, member := range x {
			p := name
			if path != "" {
				p = path + "." + name
			}
			switch all, some := sel.keep(p); {
			case !some:
				delete(x, name)
			case !all:
				x[name] = sel.prune(member, p)
			}
		}
	case []any:
		for i := range x {
			x[i] = sel.prune(x[i], path)
		}
	}
	return v
}
