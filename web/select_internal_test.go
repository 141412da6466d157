package web

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSelect: select= removes and adds members at any depth, in order,
// with * for every member; id always stays.
func TestSelect(t *testing.T) {
	var tok apiToken
	tok.ID, tok.Name, tok.Modules = "TKN-1234-5678", "Nightly", []apiRef{{ID: "MOD-1", Name: "Billing"}}
	tok.Audit.Created = apiAuditEntry{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), By: apiRef{ID: "USR-1", Name: "Ada"}}
	for _, tc := range []struct{ sel, want string }{
		{"", "account account.id account.name allowedAddresses audit audit.created audit.created.at audit.created.by audit.created.by.id audit.created.by.name audit.updated audit.updated.at audit.updated.by audit.updated.by.id audit.updated.by.name description expiresAt icon id lastAccessAt modules modules.id modules.name name previousTokenExpiresAt status"},
		{"-description,-audit", "account account.id account.name allowedAddresses expiresAt icon id lastAccessAt modules modules.id modules.name name previousTokenExpiresAt status"},
		{"-*,+name", "id name"},
		{"-*,audit.created.by.name,+modules.id", "audit audit.created audit.created.by audit.created.by.name id modules modules.id"},
		{"-audit.updated,-account.name,-modules.name,-*,+status", "id status"},
		{"+audit,-audit.created.by", "account account.id account.name allowedAddresses audit audit.created audit.created.at audit.updated audit.updated.at audit.updated.by audit.updated.by.id audit.updated.by.name description expiresAt icon id lastAccessAt modules modules.id modules.name name previousTokenExpiresAt status"},
	} {
		sel, err := parseSelect(tc.sel)
		if err != nil {
			t.Fatalf("%s: %v", tc.sel, err)
		}
		v, err := sel.apply(tok)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(memberNames(m, ""), " "); got != tc.want {
			t.Errorf("select=%s:\n got %s\nwant %s", tc.sel, got, tc.want)
		}
	}
	for _, bad := range []string{"-secret", "+audit.created.when", "-id", "name,,", "-"} {
		if _, err := parseSelect(bad); err == nil {
			t.Errorf("select=%s accepted", bad)
		}
	}
}

// memberNames lists the members of a JSON object at every depth, sorted.
func memberNames(v any, prefix string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, member := range x {
			out = append(out, prefix+k)
			out = append(out, memberNames(member, prefix+k+".")...)
		}
	case []any:
		for _, item := range x {
			out = append(out, memberNames(item, prefix)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
