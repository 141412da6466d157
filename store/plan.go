package store

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// How the list finds its rows. A page can walk the sort's index in order,
// checking the filter on the way, and stop after a page: cheap when many
// tokens match, as the next match is near. Or the filter's own index (or the
// search's candidates) can find every match, which are then sorted: cheap
// when few match. With N tokens in the account, M matching and pages of L,
// a walk reads about L·N/M index entries (every index carries the filtered
// columns, about 0.1 µs an entry), a driven plan looks up about M rows (at
// 1 to 3 µs each, for the sort key), so the plan is driven when
// 20·M² ≤ L·N. At 100,000 tokens either reads about 500 rows at worst.
//
// In a walk the filter's terms are written so that SQLite cannot use an
// index for them (a unary +: "+t.created_by = ?"), which leaves the sort's
// index as the only way in; in a driven plan the sort key is written so,
// which leaves the filter's index. Without statistics (no ANALYZE) the query
// planner cannot make this choice; the totals, which the page shows anyway,
// can.
type plan struct {
	accountID string
	f         *TokenFilter
	sort      TokenSort
	order     SortOrder
	now       int64
	driven    bool // the whole list
	// drivenExpired is driven for the Expired part of the status sort,
	// which finds its rows by date when there are few of them.
	drivenExpired bool
	// moduleBit is the bit of the filter's module in tokens.module_bits; 0
	// when the account has no such module.
	moduleBit int64
	// candidates are the IDs a search of three characters or more may
	// match, as a JSON array; empty for a shorter search, and when there
	// are too many to carry (the trigram query is then run in place).
	candidates     string
	candidateCount int
	d              dialect
}

// driveCost is how many index entries of a walk cost what looking up one
// row costs: the 20 in 20·M² ≤ L·N.
const driveCost = 20

// accountTotals are the account's live tokens by state.
type accountTotals struct{ active, disabled, expired int }

// accountTotals reads the account's totals: the counters give them by stored
// status, and, when expired is set, the expired ones are counted along their
// index, which costs as many steps as there are; otherwise they count as
// active.
func (s *Store) accountTotals(ctx context.Context, accountID string, now int64, expired bool) (accountTotals, error) {
	t, err := s.storedTotals(ctx, accountID)
	if err != nil || !expired {
		return t, err
	}
	t.expired, err = s.listCount(ctx, `SELECT COUNT(*) FROM tokens
		WHERE account_id = ? AND status = 'active' AND expires_at IS NOT NULL AND expires_at <= ?`, accountID, now)
	t.active -= t.expired
	return t, err
}

// storedTotals are the counters of the account's tokens by stored status,
// kept at the account's version: every page of the list shows them.
func (s *Store) storedTotals(ctx context.Context, accountID string) (accountTotals, error) {
	return keptRead(ctx, s, &s.totals, accountID, func() (accountTotals, error) {
		var t accountTotals
		rows, err := s.listQuery(ctx, `SELECT status, n FROM token_counts WHERE account_id = ?`, accountID)
		if err != nil {
			return t, err
		}
		defer rows.Close()
		for rows.Next() {
			var status TokenStatus
			var n int
			if err := rows.Scan(&status, &n); err != nil {
				return t, err
			}
			switch status {
			case StatusActive:
				t.active = n
			case StatusDisabled:
				t.disabled = n
			}
		}
		return t, rows.Err()
	})
}

// newPlan counts the tokens that match and chooses how to find them.
func (s *Store) newPlan(ctx context.Context, accountID string, f *TokenFilter, limit int, now time.Time) (*plan, int, error) {
	sort, order := f.sortOrder()
	p := &plan{accountID: accountID, f: f, sort: sort, order: order, now: now.UnixMilli(), d: s.d}
	needExpired := sort == SortStatus || !f.narrowed() && (f.Status == StateActive || f.Status == StateExpired)
	totals, err := s.accountTotals(ctx, accountID, p.now, needExpired)
	if err != nil {
		return nil, 0, err
	}
	if f.ModuleID != "" {
		rows, err := s.listQuery(ctx, `SELECT CAST(1 AS BIGINT) << bit FROM modules WHERE id = ? AND account_id = ?`, f.ModuleID, accountID)
		if err != nil {
			return nil, 0, err
		}
		if p.moduleBit, err = scanInt(rows); err != nil {
			return nil, 0, err
		}
	}
	if utf8.RuneCountInString(f.Query) >= 3 {
		if p.candidates, p.candidateCount, err = s.searchCandidates(ctx, accountID, f); err != nil {
			return nil, 0, err
		}
	}
	// Tests choose the plan here, for the count, and below, for the pages.
	if s.hooks.plan != nil {
		s.hooks.plan(p)
	}
	all := totals.active + totals.disabled + totals.expired
	var total int
	switch {
	case f.narrowed():
		total, err = s.countTokens(ctx, p)
	case f.Status == StateActive:
		total = totals.active
	case f.Status == StateDisabled:
		total = totals.disabled
	case f.Status == StateExpired:
		total = totals.expired
	default:
		total = all
	}
	p.driven = driveCost*total*total <= limit*all
	p.drivenExpired = driveCost*totals.expired*totals.expired <= limit*all
	if s.hooks.plan != nil {
		s.hooks.plan(p)
	}
	return p, total, err
}

// countTokens counts the tokens that match a narrowed filter, along the
// most selective index: the cost grows with the matches, not the account.
func (s *Store) countTokens(ctx context.Context, p *plan) (int, error) {
	f := p.f
	// othersThan reports whether the filter narrows the list by anything
	// but what clear takes off a copy of it.
	othersThan := func(clear func(g *TokenFilter)) bool {
		g := *f
		clear(&g)
		return g.Status != "" || g.narrowed()
	}
	if f.ModuleID != "" && !othersThan(func(g *TokenFilter) { g.ModuleID = "" }) {
		// A module's rows are those of live tokens only (deleting a token
		// drops them): their index counts them alone.
		return s.listCount(ctx, `SELECT COUNT(*) FROM token_modules
			WHERE module_id = (SELECT id FROM modules WHERE id = ? AND account_id = ?)`, f.ModuleID, p.accountID)
	}
	if _, byID := f.queryIDPrefix(); utf8.RuneCountInString(f.Query) >= 3 && !byID &&
		!othersThan(func(g *TokenFilter) { g.Query = "" }) {
		// A search alone: the trigram index holds the account's live
		// tokens and nothing else, so its matches are the count.
		if p.candidates != "" {
			return p.candidateCount, nil
		}
		matches, args := s.d.nameMatches(p.accountID, f.Query)
		return s.listCount(ctx, `SELECT COUNT(*) FROM (`+matches+`) AS c`, args...)
	}
	from, where := p.selection(true, nil)
	return s.listCount(ctx, `SELECT COUNT(*) FROM `+from.String()+` WHERE `+where.String(), slices.Concat(from.args, where.args)...)
}

// selection is the FROM and WHERE of the rows that match, in segment seg
// of the list (nil: all of it), for a driven plan or a walk.
func (p *plan) selection(driven bool, seg *segment) (from, where conditions) {
	f := p.f
	// A driven plan finds the rows through the filter's index, or through
	// the search's candidates: then every term of tokens is kept from the
	// indexes, as the candidates come by ID.
	// Or a driven plan looks up the IDs the filter names (RQL's eq and in
	// on id), by primary key.
	bySearch := p.bySearch(driven)
	byIDs := driven && !bySearch && f.ids != nil
	usable := driven && !bySearch && !byIDs
	if byIDs {
		from.add(p.d.jsonStrings(`c`)+p.d.join()+`tokens t ON t.id = c.value`, jsonIDs(f.ids))
	} else {
		from.add(`tokens t`)
	}
	// Every index of the list is partial, WHERE status != 'deleted'; SQLite
	// uses one only when the query says so in the same words.
	where.add(indexed(`t.account_id`, !bySearch && !byIDs)+` = ? AND t.status != 'deleted'`, p.accountID)
	if f.Status != "" {
		cond, args := stateCondition(f.Status, p.now, usable || (!driven && p.sort == SortStatus), usable)
		where.add(cond, args...)
	}
	if seg != nil && seg.cond != "" {
		where.add(seg.cond, seg.args...)
	}
	if f.ModuleID != "" {
		where.add(`t.module_bits & ? != 0`, p.moduleBit)
	}
	if f.CreatedBy != "" {
		where.add(indexed(`t.created_by`, usable)+` = ?`, f.CreatedBy)
	}
	created := indexed(`t.created_at`, usable || (!driven && p.sort == SortCreated))
	if !f.CreatedFrom.IsZero() {
		where.add(created+` >= ?`, f.CreatedFrom.UnixMilli())
	}
	if !f.CreatedTo.IsZero() {
		where.add(created+` < ?`, f.CreatedTo.UnixMilli())
	}
	p.lastAccessTerm(&where, usable || (!driven && p.sort == SortLastAccess))
	p.searchTerm(&from, &where, driven)
	if f.ids != nil && !byIDs {
		where.add(`+t.id`+p.d.inStrings(), jsonIDs(f.ids))
	}
	for _, n := range f.where {
		// ApplyRQL has compiled each term once already, without error.
		cond, args, _ := compileRQL(n, rqlEnv{now: p.now, accountID: p.accountID, d: p.d}, tokenFields)
		where.add(`(`+cond+`)`, args...)
	}
	return from, where
}

// indexed returns term as it is when an index may serve it, and hidden from
// the indexes (a unary +) when none may.
func indexed(term string, usable bool) string {
	if usable {
		return term
	}
	return "+" + term
}

// lastAccessTerm adds the filter's last-access term to where, usable by
// the last-access index or not.
func (p *plan) lastAccessTerm(where *conditions, usable bool) {
	lastAccess := indexed(`COALESCE(t.last_access_at, 0)`, usable)
	switch p.f.LastAccess {
	case NeverUsed:
		where.add(lastAccess + ` = 0`)
	case NotUsedIn30Days, NotUsedIn90Days:
		days := int64(30)
		if p.f.LastAccess == NotUsedIn90Days {
			days = 90
		}
		cutoff := p.now - days*int64(24*time.Hour/time.Millisecond)
		// Last used before the cutoff, or never used and created before
		// it. A token is used after it is created, so this is: last access
		// (never: 0) and creation both before the cutoff; the last-access
		// index holds both.
		where.add(lastAccess+` < ? AND +t.created_at < ?`, cutoff, cutoff)
	}
}

// searchTerm adds the filter's search to the selection: a range of the
// name or ID index for a short one, and for a longer one the trigram
// index's candidates, which a driven plan reads first.
func (p *plan) searchTerm(from, where *conditions, driven bool) {
	q := p.f.Query
	switch {
	case q == "":
	case utf8.RuneCountInString(q) < 3:
		// Too short for trigrams: the start of the name, a range of the
		// name index, or of the ID.
		name := `t.name`
		if !driven && p.sort != SortName {
			name = `(+t.name)`
		}
		term := p.d.nocase(name) + ` >= ` + p.d.nocaseArg() + ` AND ` + p.d.nocase(name) + ` < ` + p.d.nocaseArg()
		args := []any{q, q + "\U0010FFFF"}
		if prefix, ok := p.f.queryIDPrefix(); ok {
			term += ` OR ` + indexed(`t.id`, driven) + ` >= ? AND ` + indexed(`t.id`, driven) + ` < ?`
			args = append(args, prefix, prefixEnd(prefix))
		}
		where.add(`(`+term+`)`, args...)
	case p.candidates != "":
		if driven {
			*from = conditions{}
			from.add(p.d.jsonStrings(`c`)+p.d.join()+`tokens t ON t.id = c.value`, p.candidates)
		} else {
			where.add(`+t.id`+p.d.inStrings(), p.candidates)
		}
	default:
		candidates, args := candidatesQuery(p.d, p.accountID, p.f)
		if driven {
			*from = conditions{}
			from.add(`(`+candidates+`) AS c`+p.d.join()+`tokens t ON t.id = c.id`, args...)
		} else {
			where.add(`+t.id IN (`+candidates+`)`, args...)
		}
	}
}

// stateCondition selects the tokens in a state at now. Expired is not
// stored: it is an active token whose date has passed. The status and the
// date may each be kept from the indexes.
func stateCondition(st TokenState, now int64, statusIndexed, dateIndexed bool) (string, []any) {
	status := `t.status`
	if !statusIndexed {
		status = `+t.status`
	}
	switch st {
	case StateActive:
		return status + ` = 'active' AND (t.expires_at IS NULL OR t.expires_at > ?)`, []any{now}
	case StateDisabled:
		return status + ` = 'disabled'`, nil
	case StateExpired:
		if !dateIndexed {
			return status + ` = 'active' AND +t.expires_at <= ?`, []any{now}
		}
		// In these words, which the partial index on expires_at needs.
		return `t.status = 'active' AND t.expires_at IS NOT NULL AND t.expires_at <= ?`, []any{now}
	}
	panic("stateCondition: " + st)
}

// conditions is a FROM or WHERE clause under construction: its terms, which
// String joins with AND, and their arguments in order.
type conditions struct {
	terms []string
	args  []any
}

func (w *conditions) add(term string, args ...any) {
	w.terms = append(w.terms, term)
	w.args = append(w.args, args...)
}

func (w conditions) String() string { return strings.Join(w.terms, " AND ") }

// sortKey is the SQL of the list's order, before the ID tie-break; hidden
// from the indexes for a driven plan.
func sortKey(d dialect, s TokenSort, driven bool) string {
	switch {
	case s == SortName || s == SortStatus:
		if driven {
			return d.nocase(`(+t.name)`)
		}
		return d.nocase(`t.name`)
	case s == SortLastAccess && driven:
		return `+COALESCE(t.last_access_at, 0)`
	case s == SortLastAccess:
		return `COALESCE(t.last_access_at, 0)`
	case s == SortCalls && driven:
		return `+t.calls_7d`
	case s == SortCalls:
		return `t.calls_7d`
	case driven:
		return `+t.created_at`
	}
	return `t.created_at`
}

// segment is a run of the list in which one sort key applies. Every sort is
// a single segment but SortStatus, which is one per state: that way each
// state is a range of an index on (status, name, id), and a deep page of the
// status sort costs what the first does.
type segment struct {
	group int    // SortStatus: the state's place in stateOrder
	cond  string // SortStatus: the state's condition, written for the segment's plan
	args  []any
}

// segments returns the runs of the list in the order a walk meets them,
// forward or backward.
func (p *plan) segments(backward bool) []segment {
	var out []segment
	if p.sort != SortStatus {
		out = []segment{{}}
	} else {
		for g, st := range stateOrder {
			if p.f.Status != "" && p.f.Status != st {
				continue
			}
			driven := p.drivenSegment(g)
			cond, args := stateCondition(st, p.now, !p.bySearch(driven), driven && !p.bySearch(driven))
			out = append(out, segment{group: g, cond: cond, args: args})
		}
	}
	if (p.order == Descending) != backward {
		slices.Reverse(out)
	}
	return out
}

// bySearch reports whether a driven plan is driven by the search's
// candidates.
func (p *plan) bySearch(driven bool) bool {
	return driven && utf8.RuneCountInString(p.f.Query) >= 3
}

// drivenSegment reports whether segment g's plan is driven.
func (p *plan) drivenSegment(g int) bool {
	return p.driven || (p.sort == SortStatus && stateOrder[g] == StateExpired && p.drivenExpired)
}
