package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"time"
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
	page := TokenPage{Limit: cmp.Or(f.Limit, DefaultPageSize), Sort: sort, Order: order}
	now := s.Now()
	p, total, err := s.newPlan(ctx, accountID, &f, page.Limit+1, now)
	if err != nil {
		return page, err
	}
	page.Total = total
	r, err := s.readPage(ctx, p, page.Limit)
	if err != nil {
		return page, err
	}
	if page.Tokens, err = s.tokensByIDs(ctx, accountID, r.ids, true); err != nil || len(page.Tokens) == 0 {
		// An offset past the end still says where it was, for the REST
		// API's paging.
		page.Offset = f.Offset
		return page, err
	}
	hasPrev, hasNext, err := s.neighbours(ctx, p, r, page.Tokens, now)
	if err != nil {
		return page, err
	}
	page.place(r.offset, hasPrev, hasNext, now)
	return page, nil
}

// CountTokens returns how many of the account's tokens match the filter,
// reading none of them: the REST API's count-only page.
func (s *Store) CountTokens(ctx context.Context, accountID string, f TokenFilter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	_, total, err := s.newPlan(ctx, accountID, &f, 1, s.Now())
	return total, err
}

// pageRead is how the rows of a page were read.
type pageRead struct {
	ids      []string // in the list's order, at most a page
	more     bool     // another page follows in the direction of reading
	from     *cursor  // where the read started; nil: at an edge, or by Offset
	backward bool     // read against the list's order: from the end, or before a cursor
	offset   int      // the position of the first row, as the cursor or Offset gave it
}

// readPage reads the IDs of the filter's page: by Offset, from a cursor,
// or from the start.
func (s *Store) readPage(ctx context.Context, p *plan, limit int) (pageRead, error) {
	f := p.f
	// One row more than the page shows tells whether another page follows
	// in the direction of reading.
	n := limit + 1
	var r pageRead
	var err error
	switch {
	case f.Offset > 0 || len(f.then) > 0:
		// Sorts after the first are read in one statement, by offset.
		r.offset = f.Offset
		r.ids, err = s.offsetIDs(ctx, p, n)
	case f.After != "" || f.Before != "":
		// Validate has decoded it once already.
		c, _ := decodeCursor(f.After+f.Before, p.sort, p.order)
		r.from, r.backward, r.offset = &c, f.Before != "", c.Pos
		r.ids, err = s.walkIDs(ctx, p, r.from, n, r.backward)
		switch {
		case err != nil:
		case !r.backward && len(r.ids) == 0:
			// Past the end (the tokens after it were deleted): the last page.
			r.from, r.backward = nil, true
			r.ids, err = s.walkIDs(ctx, p, nil, n, true)
		case r.backward && len(r.ids) < n:
			// Not a whole page before the cursor: the first page.
			r.from, r.backward = nil, false
			r.ids, err = s.walkIDs(ctx, p, nil, n, false)
		}
	default:
		r.ids, err = s.walkIDs(ctx, p, nil, n, false)
	}
	if err != nil {
		return r, err
	}
	if r.more = len(r.ids) > limit; r.more {
		r.ids = r.ids[:limit]
	}
	if r.backward {
		slices.Reverse(r.ids)
	}
	return r, nil
}

// neighbours reports whether pages come before and after the page of
// tokens that r read. The extra row tells in the direction of reading. The
// other side has a page unless the read began at the edge; one step from
// the cursor says for sure, as the rows there may have been deleted since.
func (s *Store) neighbours(ctx context.Context, p *plan, r pageRead, tokens []Token, now time.Time) (hasPrev, hasNext bool, err error) {
	probe := func(t Token, backward bool) (bool, error) {
		k := keyOf(t, p.sort, now)
		ids, err := s.walkIDs(ctx, p, &k, 1, backward)
		return len(ids) > 0, err
	}
	hasPrev, hasNext = r.more, r.more
	switch {
	case p.f.Offset > 0:
		hasPrev = true
	case r.from == nil && r.backward:
		hasNext = false
	case r.from == nil:
		hasPrev = false
	case r.backward:
		hasNext, err = probe(tokens[len(tokens)-1], false)
	default:
		hasPrev, err = probe(tokens[0], true)
	}
	return hasPrev, hasNext, err
}

// place sets where the page stands, from offset (what the cursor or Offset
// said), and its links to the pages around it. The offset is exact on the
// first and last pages, whatever the cursor recorded.
func (page *TokenPage) place(offset int, hasPrev, hasNext bool, now time.Time) {
	shown := len(page.Tokens)
	page.Offset = offset
	if !hasNext {
		page.Offset = page.Total - shown
	}
	if !hasPrev {
		page.Offset = 0
	}
	page.Offset = max(min(page.Offset, page.Total-shown), 0)
	if hasNext {
		k := keyOf(page.Tokens[shown-1], page.Sort, now)
		k.Sort, k.Order, k.Pos = page.Sort, page.Order, page.Offset+shown
		page.NextCursor = k.encode()
	}
	if hasPrev {
		k := keyOf(page.Tokens[0], page.Sort, now)
		k.Sort, k.Order, k.Pos = page.Sort, page.Order, max(page.Offset-page.Limit, 0)
		page.PrevCursor = k.encode()
	}
}

// walkIDs returns up to n IDs of matching tokens in the list's order (or
// against it, backward), starting after the cursor c, or at the start when
// c is nil.
func (s *Store) walkIDs(ctx context.Context, p *plan, c *cursor, n int, backward bool) ([]string, error) {
	desc := (p.order == Descending) != backward
	dir, op := "ASC", ">"
	if desc {
		dir, op = "DESC", "<"
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
		key := sortKey(p.d, p.sort, driven)
		if !started {
			// The keyset: rows past (key, id). Spelt out rather than as a
			// row value, which SQLite does not match to an index on an
			// expression or a collation.
			var k any = c.Int
			arg := "?"
			if p.sort == SortName || p.sort == SortStatus {
				k, arg = c.Text, p.d.nocaseArg()
			}
			id := `t.id`
			if driven {
				id = `+t.id`
			}
			where.add(fmt.Sprintf(`%[1]s %[2]s= %[4]s AND (%[1]s %[2]s %[4]s OR %[3]s %[2]s ?)`, key, op, id, arg), k, k, c.ID)
			started = true
		}
		orderBy := fmt.Sprintf(`%s %s, t.id %s`, key, dir, dir)
		if p.sort == SortLastAccess && p.f.LastAccess == NeverUsed && !driven {
			// The key is 0 throughout; SQLite sorts again unless told.
			orderBy = `t.id ` + dir
		}
		args := slices.Concat(from.args, where.args, []any{n - len(ids)})
		got, err := s.walkRead(ctx, p.accountID, n <= MaxPageSize+1, fmt.Sprintf(`SELECT t.id FROM %s WHERE %s ORDER BY %s LIMIT ?`,
			from, where, orderBy), args)
		if err != nil {
			return nil, err
		}
		if ids = append(ids, got...); len(ids) >= n {
			break
		}
	}
	return ids, nil
}

// offsetIDs is walkIDs for the REST API's Offset: it reads and skips every
// row before the page. It also serves the sorts that follow the first.
func (s *Store) offsetIDs(ctx context.Context, p *plan, n int) ([]string, error) {
	dir := "ASC"
	if p.order == Descending {
		dir = "DESC"
	}
	from, where := p.selection(p.driven, nil)
	orderBy := fmt.Sprintf(`%s %s`, sortKey(p.d, p.sort, p.driven), dir)
	args := slices.Concat(from.args, where.args)
	if p.sort == SortStatus {
		orderBy = stateRankSQL + ` ` + dir + `, ` + orderBy
		args = append(args, p.now)
	}
	for _, k := range p.f.then {
		if of := orderFields[k.field]; of.nocase {
			orderBy += `, ` + p.d.nocase(of.sql)
		} else {
			orderBy += `, ` + of.sql
		}
		if k.field == "status" {
			args = append(args, p.now)
		}
		if k.desc {
			orderBy += ` DESC`
		}
	}
	orderBy += `, t.id ` + dir
	rows, err := s.listQuery(ctx, `SELECT t.id FROM `+from.String()+` WHERE `+where.String()+`
		ORDER BY `+orderBy+` LIMIT ? OFFSET ?`, append(args, n, p.f.Offset)...)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

// ExportTokens calls fn with every token that matches the filter, in its
// order, as the filter found them when the export began: the IDs are read
// in one statement, then the tokens a page at a time. A token whose sort
// key moves meanwhile (its last access, its calls) is given once, in its
// place then; one deleted meanwhile is left out. Cursors, Limit and Offset
// are ignored. An error of fn stops the export and is returned.
func (s *Store) ExportTokens(ctx context.Context, accountID string, f TokenFilter, fn func(Token) error) error {
	f.After, f.Before, f.Limit, f.Offset = "", "", 0, 0
	if err := f.Validate(); err != nil {
		return err
	}
	p, _, err := s.newPlan(ctx, accountID, &f, MaxPageSize, s.Now())
	if err != nil {
		return err
	}
	ids, err := s.walkIDs(ctx, p, nil, math.MaxInt32, false)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(ids, MaxPageSize) {
		tokens, err := s.tokensByIDs(ctx, accountID, chunk, false)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			if err := fn(t); err != nil {
				return err
			}
		}
	}
	return nil
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

// walkRead runs a walk's statement, or, when keep is set, gives what it
// gave at the account's version, kept (a page's walk, read again and
// again). A statement whose arguments hold the clock is kept under each
// moment apart, and so never found again: only what the version decides
// is used twice.
func (s *Store) walkRead(ctx context.Context, accountID string, keep bool, query string, args []any) ([]string, error) {
	var walks *keptMap[[]string]
	var key string
	if keep {
		// Go syntax quotes each argument: ("ab", "c") and ("a", "bc")
		// are two keys.
		key = fmt.Sprintf("%s\x00%#v", query, args)
		v, err := s.accountVersion(ctx, accountID)
		if err != nil {
			return nil, err
		}
		walks = keptIn(&s.walks, accountID, v, maxKeptWalks)
		if ids, ok := walks.get(key); ok {
			return ids, nil
		}
	}
	rows, err := s.listQuery(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	ids, err := scanStrings(rows)
	if err == nil && walks != nil {
		walks.put(key, ids)
	}
	return ids, err
}

// listQuery runs one of the list's reads. Tests trace every one to check
// its query plan.
func (s *Store) listQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s.hooks.query != nil {
		s.hooks.query(query, args)
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
