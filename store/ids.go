package store

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
