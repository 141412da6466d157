package store

import "strings"

// IsTokenID reports whether s has the form of a token ID: TKN-0123-4567.
func IsTokenID(s string) bool { return isID(s, "TKN") }

// UniqueIDs returns ids without repeats, each where it first appears.
func UniqueIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// isID reports whether s looks like an ID with the prefix: "USR-0123-4567".
func isID(s, prefix string) bool {
	if len(s) != len(prefix)+10 || !strings.HasPrefix(s, prefix+"-") || s[len(prefix)+5] != '-' {
		return false
	}
	for i := len(prefix) + 1; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && i != len(prefix)+5 {
			return false
		}
	}
	return true
}
