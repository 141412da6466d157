package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
)

// ListTokens returns a page of the account's tokens that match the filter,
// with their total. Deleted tokens are never listed. A cursor past the end
// (the tokens after it were deleted) gives the last page, and one before
// the start the first.
func (s *Store) ListTokens(ctx context.Context, accountID string, f TokenFilter) (TokenPage, error) {
	if err := f.Validate(); err != nil {
		return TokenPage{}, err
	}
	sort, order := f.sortOrder()
	page := TokenPage{Limit: f.Limit, Sort: sort, Order: order}
	if page.Limit == 0 {
		page.Limit = DefaultPageSize
	}
	now := s.Now()
	// Each page reads one row more than it shows, to know whether another
	// page follows in the direction it was read.
	n := page.Limit + 1
	p, total, err := s.newPlan(ctx, accountID, &f, n, now)
	if err != nil {
		return page, err
	}
	page.Total = total

	var ids []string
	var c *cursor     // where the read started; nil: at an edge
	backward := false // read against the list's order, from the end or a Before cursor
	switch {
	case f.Offset > 0:
		ids, err = s.offsetIDs(ctx, p, n)
		page.Offset = f.Offset
	case f.After != "" || f.Before != "":
		cur, _ := decodeCursor(f.After+f.Before, sort, order)
		c, backward, page.Offset = &cur, f.Before != "", cur.Pos
		ids, err = s.walkIDs(ctx, p, c, n, backward)
		switch {
		case err != nil:
		case !backward && len(ids) == 0:
			// Past the end (the tokens after it were deleted): the last page.
			c, backward = nil, true
			ids, err = s.walkIDs(ctx, p, nil, n, true)
		case backward && len(ids) < n:
			// Not a whole page before the cursor: the first page.
			c, backward = nil, false
			ids, err = s.walkIDs(ctx, p, nil, n, false)
		}
	default:
		ids, err = s.walkIDs(ctx, p, nil, n, false)
	}
	if err != nil {
		return page, err
	}
	more := len(ids) > page.Limit
	if more {
		ids = ids[:page.Limit]
	}
	if backward {
		slices.Reverse(ids)
	}
	if page.Tokens, err = s.tokensByIDs(ctx, ids); err != nil || len(page.Tokens) == 0 {
		if f.Offset == 0 {
			page.Offset = 0
		}
		return page, err
	}

	// The extra row tells whether a page follows in the direction of
	// reading. The other side has a page unless the read began at the edge;
	// one step from a cursor says for sure, as the rows there may have been
	// deleted since.
	first, last := page.Tokens[0], page.Tokens[len(page.Tokens)-1]
	hasPrev, hasNext := more, more
	probe := func(t Token, backward bool) (bool, error) {
		k := keyOf(t, sort, now)
		ids, err := s.walkIDs(ctx, p, &k, 1, backward)
		return len(ids) > 0, err
	}
	switch {
	case f.Offset > 0:
		hasPrev = true
	case c == nil && backward:
		hasNext = false
	case c == nil:
		hasPrev = false
	case backward:
		hasNext, err = probe(last, false)
	default:
		hasPrev, err = probe(first, true)
	}
	if err != nil {
		return page, err
	}
	if c == nil && backward || !hasNext {
		page.Offset = page.Total - len(page.Tokens)
	}
	if !hasPrev {
		page.Offset = 0
	}
	page.Offset = max(min(page.Offset, page.Total-len(page.Tokens)), 0)
	if hasNext {
		k := keyOf(last, sort, now)
		k.Sort, k.Order, k.Pos = sort, order, page.Offset+len(page.Tokens)
		page.NextCursor = k.encode()
	}
	if hasPrev {
		k := keyOf(first, sort, now)
		k.Sort, k.Order, k.Pos = sort, order, max(page.Offset-page.Limit, 0)
		page.PrevCursor = k.encode()
	}
	return page, nil
}

// walkIDs returns up to n IDs of matching tokens in the list's order (or
// against it, backward), starting after the cursor c, or at the start when
// c is nil.
func (s *Store) walkIDs(ctx context.Context, p *plan, c *cursor, n int, backward bool) ([]string, error) {
	desc := (p.order == Descending) != backward
	dir, cmp := "ASC", ">"
	if desc {
		dir, cmp = "DESC", "<"
	}
	var ids []string
	started := c == nil
	for _, seg := range p.segments(backward) {
		// A status sort's cursor names its state: the states before it are
		// behind, and the ones after begin at their start.
		if !started && seg.group != c.Group {
			if started = (seg.group > c.Group) != desc; !started {
				continue
			}
		}
		driven := p.drivenSegment(seg.group)
		from, where := p.selection(driven, &seg)
		key := sortKey(p.sort, driven)
		if !started {
			// The keyset: rows past (key, id). Spelt out rather than as a
			// row value, which SQLite does not match to an index on an
			// expression or a collation.
			var k any = c.Int
			if p.sort == SortName || p.sort == SortStatus {
				k = c.Text
			}
			id := `t.id`
			if driven {
				id = `+t.id`
			}
			where.add(fmt.Sprintf(`%[1]s %[2]s= ? AND (%[1]s %[2]s ? OR %[3]s %[2]s ?)`, key, cmp, id), k, k, c.ID)
			started = true
		}
		orderBy := fmt.Sprintf(`%s %s, t.id %s`, key, dir, dir)
		if p.sort == SortLastAccess && p.f.LastAccess == NeverUsed && !driven {
			// The key is 0 throughout; SQLite sorts again unless told.
			orderBy = `t.id ` + dir
		}
		args := slices.Concat(from.args, where.args, []any{n - len(ids)})
		rows, err := s.listQuery(ctx, fmt.Sprintf(`SELECT t.id FROM %s WHERE %s ORDER BY %s LIMIT ?`,
			from, where, orderBy), args...)
		if err != nil {
			return nil, err
		}
		got, err := scanStrings(rows)
		if err != nil {
			return nil, err
		}
		if ids = append(ids, got...); len(ids) >= n {
			break
		}
	}
	return ids, nil
}

// offsetIDs is walkIDs for the deprecated Offset: it reads and skips every
// row before the page.
func (s *Store) offsetIDs(ctx context.Context, p *plan, n int) ([]string, error) {
	dir := "ASC"
	if p.order == Descending {
		dir = "DESC"
	}
	from, where := p.selection(p.driven, nil)
	orderBy := fmt.Sprintf(`%s %s, t.id %s`, sortKey(p.sort, p.driven), dir, dir)
	args := slices.Concat(from.args, where.args)
	if p.sort == SortStatus {
		orderBy = `CASE WHEN t.status = 'disabled' THEN 1 WHEN t.expires_at <= ? THEN 2 ELSE 0 END ` + dir + `, ` + orderBy
		args = append(args, p.now)
	}
	rows, err := s.listQuery(ctx, `SELECT t.id FROM `+from.String()+` WHERE `+where.String()+`
		ORDER BY `+orderBy+` LIMIT ? OFFSET ?`, append(args, n, p.f.Offset)...)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

// tokensByIDs loads tokens with their modules, in the order of ids.
func (s *Store) tokensByIDs(ctx context.Context, ids []string) ([]Token, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.listQuery(ctx, `SELECT `+tokenColumns+` `+tokenJoins+`
		WHERE t.id IN (SELECT value FROM json_each(?))`, jsonIDs(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := make(map[string]Token, len(ids))
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		byID[t.ID] = t
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	tokens := make([]Token, 0, len(ids))
	for _, id := range ids {
		// A token deleted between the two reads is left out.
		if t, ok := byID[id]; ok && t.Status != StatusDeleted {
			tokens = append(tokens, t)
		}
	}
	return tokens, s.loadModules(ctx, tokens)
}

// TokenIDs returns the IDs of every token that matches the filter, in its
// order, for "select all matching this filter". Cursors, Limit and Offset
// are ignored. More than MaxBulkTokens matches is a ValidationError: narrow
// the filter.
func (s *Store) TokenIDs(ctx context.Context, accountID string, f TokenFilter) ([]string, error) {
	f.After, f.Before, f.Limit, f.Offset = "", "", 0, 0
	if err := f.Validate(); err != nil {
		return nil, err
	}
	tooMany := &ValidationError{Fields: map[string]string{"selection": fmt.Sprintf(
		"More than %d API tokens match; narrow the filter to act on at most %d at a time.", maxBulk, maxBulk)}}
	p, total, err := s.newPlan(ctx, accountID, &f, maxBulk+1, s.Now())
	if err != nil {
		return nil, err
	}
	if total > maxBulk {
		return nil, tooMany
	}
	ids, err := s.walkIDs(ctx, p, nil, maxBulk+1, false)
	if err == nil && len(ids) > maxBulk {
		return nil, tooMany
	}
	return ids, err
}

// listQuery runs one of the list's reads. Tests trace every one to check
// its query plan.
func (s *Store) listQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s.listHooks.query != nil {
		s.listHooks.query(query, args)
	}
	return s.read.QueryContext(ctx, query, args...)
}

// listCount is listQuery for a count.
func (s *Store) listCount(ctx context.Context, query string, args ...any) (int, error) {
	rows, err := s.listQuery(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := scanInt(rows)
	return int(n), err
}

// scanInt reads one integer, 0 when there is no row.
func scanInt(rows *sql.Rows) (int64, error) {
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// jsonIDs encodes IDs as a JSON array, for json_each(?): a list of any
// length is then one statement text, which stays prepared.
func jsonIDs(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, err := json.Marshal(ids)
	if err != nil {
		panic(err) // a slice of strings always marshals
	}
	return string(b)
}
