package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"math/big"
)

// Every ID is a prefix that names its kind, then a number of eight digits
// in two groups of four: TKN-0123-4567. The number is drawn at random, so an
// ID tells nothing of how many there are. A token's digits appear again in
// its secret, and with its account's they make its rowid in the search
// index (migration 007; see searchRange).
const (
	accountPrefix = "ACC"
	userPrefix    = "USR"
	modulePrefix  = "MOD"
	tokenPrefix   = "TKN"

	// idDigits is how many digits an ID has, and idNumbers how many
	// numbers they can write.
	idDigits  = 8
	idNumbers = 100_000_000
)

// makeID returns the ID of the kind prefix with the number n, 0 ≤ n < idNumbers.
func makeID(prefix string, n int64) string {
	return fmt.Sprintf("%s-%04d-%04d", prefix, n/10_000, n%10_000)
}

// randomID draws an ID of the kind prefix, which may be taken already.
func randomID(prefix string) (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(idNumbers))
	if err != nil {
		return "", err
	}
	return makeID(prefix, n.Int64()), nil
}

// newID returns an ID such as "TKN-0123-4567" that no row of table has yet.
// It runs inside the write transaction, so no other writer can take the same
// ID between the check and the insert.
func newID(ctx context.Context, tx *sql.Tx, prefix, table string) (string, error) {
	for range 20 {
		id, err := randomID(prefix)
		if err != nil {
			return "", err
		}
		var taken int
		// table is one of a few constants, never user input.
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = ?`, id).Scan(&taken); err != nil {
			return "", err
		}
		if taken == 0 {
			return id, nil
		}
	}
	return "", fmt.Errorf("no free %s ID after 20 tries", prefix)
}

// isID reports whether s is an ID of the kind prefix: "USR-0123-4567".
func isID(s, prefix string) bool {
	if len(s) != len(prefix)+idDigits+2 || s[:len(prefix)] != prefix || s[len(prefix)] != '-' || s[len(prefix)+5] != '-' {
		return false
	}
	for i := len(prefix) + 1; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && i != len(prefix)+5 {
			return false
		}
	}
	return true
}

// IsTokenID reports whether s has the form of a token ID: TKN-0123-4567.
func IsTokenID(s string) bool { return isID(s, tokenPrefix) }

// tokenDigits returns the digits of a token ID, "01234567" for
// TKN-0123-4567: what a secret carries of its token.
func tokenDigits(id string) string {
	p := len(tokenPrefix)
	return id[p+1:p+5] + id[p+6:]
}

// tokenIDOf is tokenDigits reversed. Given fewer digits it returns the start
// of the IDs that begin with them: "12345" gives "TKN-1234-5".
func tokenIDOf(digits string) string {
	if len(digits) <= 4 {
		return tokenPrefix + "-" + digits
	}
	return tokenPrefix + "-" + digits[:4] + "-" + digits[4:]
}

// sqlIDNumber is the SQL for the number of the ID that expr gives (a column
// or a parameter), in the words migration 007 uses for the search index.
func sqlIDNumber(expr string) string {
	return fmt.Sprintf(`CAST(substr(%[1]s, 5, 4) || substr(%[1]s, 10, 4) AS INTEGER)`, expr)
}

// sqlTokenID is makeID(tokenPrefix, n) in SQL, for the number that expr
// gives.
func sqlTokenID(expr string) string {
	return fmt.Sprintf(`printf('%s-%%04d-%%04d', %[2]s / 10000, %[2]s %% 10000)`, tokenPrefix, expr)
}

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
