package store

import (
	"context"
	"slices"
	"strings"
)

// maxCandidates bounds the IDs a search carries from the trigram index to
// the count and the page, so that it is queried once.
const maxCandidates = 20_000

// searchRange is the account's range of rowids in token_search, whose rowid
// is the account's ID number times 100000000 plus the token's: migration
// 007 lays them out so, and this is in the words of its triggers. A rowid
// modulo 100000000 is thus the token's number.
var searchRange = `rowid BETWEEN ` + sqlIDNumber("?") + ` * 100000000
	AND ` + sqlIDNumber("?") + ` * 100000000 + 99999999`

// ftsPhrase quotes q as an FTS5 string, which matches it as a substring.
func ftsPhrase(q string) string { return `"` + strings.ReplaceAll(q, `"`, `""`) + `"` }

// idRange selects the account's live tokens whose ID starts with prefix,
// along the account's ID index: never another account's IDs, however many
// share the prefix.
const idRange = `SELECT id FROM tokens WHERE account_id = ? AND status != 'deleted' AND id >= ? AND id < ?`

// nameMatches selects, as a column id, the account's live tokens whose
// name contains q (of three characters or more), ignoring case: on SQLite
// from the FTS5 trigram index, on PostgreSQL through pg_trgm's index of
// the names.
func (d dialect) nameMatches(accountID, q string) (string, []any) {
	if d.postgres {
		return `SELECT id FROM tokens WHERE account_id = ? AND status != 'deleted'
			AND search_fold(name) LIKE search_fold(?) ESCAPE '\'`,
			[]any{accountID, "%" + likeEscaper.Replace(q) + "%"}
	}
	return `SELECT ` + sqlTokenID("(rowid % 100000000)") + ` AS id
		FROM token_search WHERE token_search MATCH ? AND ` + searchRange,
		[]any{ftsPhrase(q), accountID, accountID, accountID, accountID}
}

// candidatesQuery selects, as a column id and in order, the account's
// tokens whose name contains the filter's Query (of three characters or
// more) or, unless it searches names alone, whose ID starts with it.
func candidatesQuery(d dialect, accountID string, f *TokenFilter) (string, []any) {
	query, args := d.nameMatches(accountID, f.Query)
	if prefix, ok := f.queryIDPrefix(); ok {
		query += ` UNION ` + idRange
		args = append(args, accountID, prefix, prefixEnd(prefix))
	}
	return query, args
}

// searchCandidates finds, once for the count and the page to share, the IDs
// candidatesQuery selects, and says how many there are. It returns "" when
// there are more than maxCandidates. The trigram index gives numbers, which
// are quicker made into IDs here than by SQLite's printf.
//
// PostgreSQL carries none, and reads its trigram index in place in each
// statement, which costs less there than carrying thousands of IDs.
func (s *Store) searchCandidates(ctx context.Context, accountID string, f *TokenFilter) (string, int, error) {
	if s.d.postgres {
		return "", 0, nil
	}
	ids, err := s.nameCandidates(ctx, accountID, f.Query)
	if err != nil {
		return "", 0, err
	}
	if prefix, ok := f.queryIDPrefix(); ok && len(ids) <= maxCandidates {
		rows, err := s.listQuery(ctx, idRange+` LIMIT ?`, accountID, prefix, prefixEnd(prefix), maxCandidates+1)
		if err != nil {
			return "", 0, err
		}
		byID, err := scanStrings(rows)
		if err != nil {
			return "", 0, err
		}
		// In ID order, so that looking them up goes along the ID index.
		ids = slices.Compact(slices.Sorted(slices.Values(append(ids, byID...))))
	}
	if len(ids) > maxCandidates {
		return "", 0, nil
	}
	return jsonIDs(ids), len(ids), nil
}

// nameCandidates are up to maxCandidates+1 IDs of the account's live
// tokens whose name contains q.
func (s *Store) nameCandidates(ctx context.Context, accountID, q string) ([]string, error) {
	rows, err := s.listQuery(ctx, `SELECT rowid % 100000000 FROM token_search
		WHERE token_search MATCH ? AND `+searchRange+` LIMIT ?`,
		ftsPhrase(q), accountID, accountID, accountID, accountID, maxCandidates+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		ids = append(ids, makeID(tokenPrefix, n))
	}
	return ids, rows.Err()
}

// idPrefix reads q as the start of a token ID, the way people type one:
// "TKN-1234-5678", "tkn 1234", "1234-56", "12345678". It returns the
// canonical prefix ("TKN-1234-56").
func idPrefix(q string) (string, bool) {
	s := strings.ToUpper(strings.ReplaceAll(q, " ", ""))
	named := strings.HasPrefix(s, tokenPrefix)
	s = strings.TrimPrefix(strings.TrimPrefix(s, tokenPrefix), "-")
	if first, rest, ok := strings.Cut(s, "-"); ok {
		if len(first) != 4 {
			return "", false
		}
		s = first + rest
	}
	if len(s) > idDigits || (s == "" && !named) {
		return "", false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return tokenIDOf(s), true
}

// prefixEnd is the least string above every string that starts with the
// ASCII prefix p.
func prefixEnd(p string) string {
	return p[:len(p)-1] + string(p[len(p)-1]+1)
}
