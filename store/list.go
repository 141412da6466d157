package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// TokenSort is an order of the token list.
type TokenSort string

// Sort orders. Each has a natural direction, used when TokenFilter.Order is
// empty; ties are broken by ID, so every order is total and a cursor always
// knows where it stands.
const (
	// SortCreated is by date created, newest first.
	SortCreated TokenSort = "created"
	// SortName is by name, A to Z, ignoring the case of ASCII letters.
	SortName TokenSort = "name"
	// SortLastAccess is by last access, most recent first; never used last.
	SortLastAccess TokenSort = "lastAccess"
	// SortStatus lists Active, then Disabled, then Expired tokens, by name
	// within each.
	SortStatus TokenSort = "status"
)

// SortOrder is the direction of a sort.
type SortOrder string

// Sort directions.
const (
	Ascending  SortOrder = "asc"
	Descending SortOrder = "desc"
)

// LastAccessFilter selects tokens by when they were last used.
type LastAccessFilter string

// Last-access filters. "Not used in N days" counts a token that was never used
// from its creation: a token made yesterday has not been idle for 30 days.
const (
	NeverUsed       LastAccessFilter = "never"
	NotUsedIn30Days LastAccessFilter = "30d"
	NotUsedIn90Days LastAccessFilter = "90d"
)

// Page sizes.
const (
	// DefaultPageSize is the number of tokens on a page when
	// TokenFilter.Limit is 0.
	DefaultPageSize = 50
	// MaxPageSize bounds TokenFilter.Limit.
	MaxPageSize = 100
	// maxCursor bounds the length of an encoded cursor; real ones are far
	// shorter.
	maxCursor = 1024
	// MaxQuery bounds the length of a search, in characters.
	MaxQuery = 200
)

// PageSizes are the page sizes the list offers.
var PageSizes = []int{25, 50, 100}

// TokenFilter selects, orders and pages an account's tokens. The zero value
// is the first page of every token, newest first. Pages are reached by
// cursor (After, Before): a deep page costs what the first one does.
type TokenFilter struct {
	Status      TokenState       // StateActive, StateDisabled or StateExpired; "": any
	ModuleID    string           // tokens scoped to this module; "": any
	CreatedBy   string           // tokens created by this user or token; "": anyone
	CreatedFrom time.Time        // created at or after; zero: no bound
	CreatedTo   time.Time        // created before (exclusive: for a date range, pass the next day); zero: no bound
	LastAccess  LastAccessFilter // "": any
	// Query finds tokens whose name contains it, ignoring case, or whose ID
	// is or starts with it ("TKN-1234", "1234-56", "12345678"). Names are
	// matched from three characters on; a shorter query matches the start
	// of a name.
	Query string
	Sort  TokenSort // "": SortCreated
	Order SortOrder // "": the sort's natural direction
	Limit int       // 0: DefaultPageSize; at most MaxPageSize

	// After and Before are cursors from TokenPage.NextCursor and PrevCursor;
	// at most one may be set, and only for the sort and order that made it.
	After, Before string

	// Offset skips tokens the slow way, reading every one it skips.
	//
	// Deprecated: for the REST API's offset pagination only; pages of the
	// list use After and Before, which cost the same at any depth.
	Offset int
}

// TokenPage is one page of tokens.
type TokenPage struct {
	Tokens []Token
	// Total counts the tokens that match the filter, on all pages.
	Total int
	// Offset is the position of the first token in the whole list: exact
	// on the first and last pages, and in between as the cursor recorded it
	// (tokens added or deleted since then shift it).
	Offset int
	Limit  int
	// Sort and Order are those the page is in, after defaults.
	Sort  TokenSort
	Order SortOrder
	// NextCursor and PrevCursor reach the next and previous pages (as
	// TokenFilter.After and Before); empty when there is none.
	NextCursor string
	PrevCursor string
}

// Validate checks a filter, including its cursor, and puts it in canonical
// form: Status in any letter case becomes a TokenState, Query is trimmed.
// Every problem is a ValidationError keyed by the field.
func (f *TokenFilter) Validate() error {
	var v ValidationError
	if f.Status != "" {
		switch st := TokenState(strings.ToLower(string(f.Status))); st {
		case "active":
			f.Status = StateActive
		case "disabled":
			f.Status = StateDisabled
		case "expired":
			f.Status = StateExpired
		default:
			v.add("status", "Choose a status: Active, Disabled or Expired.")
		}
	}
	if f.ModuleID != "" && !isID(f.ModuleID, "MOD") {
		v.add("module", "Choose a module of this account.")
	}
	if f.CreatedBy != "" && !isID(f.CreatedBy, "USR") && !isID(f.CreatedBy, "TKN") {
		v.add("createdBy", "Created by must be a user ID (USR-…) or a token ID (TKN-…).")
	}
	if !f.CreatedFrom.IsZero() && !f.CreatedTo.IsZero() && !f.CreatedTo.After(f.CreatedFrom) {
		v.add("created", "The end of the date range must come after its start.")
	}
	switch f.LastAccess {
	case "", NeverUsed, NotUsedIn30Days, NotUsedIn90Days:
	default:
		v.add("lastAccess", "Choose a last access: never used, or not used in 30 or 90 days.")
	}
	f.Query = strings.TrimSpace(f.Query)
	switch {
	case !utf8.ValidString(f.Query) || strings.ContainsRune(f.Query, 0):
		v.add("query", "The search contains characters that are not allowed.")
	case utf8.RuneCountInString(f.Query) > MaxQuery:
		v.add("query", fmt.Sprintf("The search must be at most %d characters.", MaxQuery))
	}
	switch f.Sort {
	case "", SortCreated, SortName, SortLastAccess, SortStatus:
	default:
		v.add("sort", "Sort by name, date created, last access or status.")
	}
	switch f.Order {
	case "", Ascending, Descending:
	default:
		v.add("order", "The sort order is asc or desc.")
	}
	if f.Limit < 0 || f.Limit > MaxPageSize {
		v.add("limit", fmt.Sprintf("A page holds 1 to %d tokens.", MaxPageSize))
	}
	if f.Offset < 0 {
		v.add("offset", "The offset cannot be negative.")
	}
	switch {
	case f.After != "" && f.Before != "":
		v.add("cursor", "A page link has either a next or a previous position, not both.")
	case f.Offset > 0 && (f.After != "" || f.Before != ""):
		v.add("cursor", "A page link has either an offset or a position, not both.")
	case len(v.Fields) == 0:
		sort, order := f.sortOrder()
		for _, c := range []string{f.After, f.Before} {
			if c == "" {
				continue
			}
			if _, err := decodeCursor(c, sort, order); err != nil {
				v.add("cursor", "This page link is not valid (it may be from another sort order). Start again from the first page.")
			}
		}
	}
	return v.err()
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

// NaturalOrder is the direction a sort takes unless told otherwise: newest
// first for dates, A to Z for names and states. "" is SortCreated.
func (s TokenSort) NaturalOrder() SortOrder {
	if s == "" || s == SortCreated || s == SortLastAccess {
		return Descending
	}
	return Ascending
}

// sortOrder returns the filter's sort and direction, with defaults.
func (f *TokenFilter) sortOrder() (TokenSort, SortOrder) {
	sort, order := f.Sort, f.Order
	if sort == "" {
		sort = SortCreated
	}
	if order == "" {
		order = sort.NaturalOrder()
	}
	return sort, order
}

// narrowed reports whether the filter has more than a status, which decides
// whether the total may come from the counters.
func (f *TokenFilter) narrowed() bool {
	return f.ModuleID != "" || f.CreatedBy != "" || !f.CreatedFrom.IsZero() || !f.CreatedTo.IsZero() ||
		f.LastAccess != "" || f.Query != ""
}

// cursor is the position between two pages: the sort key and ID of the row
// on the near side. It travels in URLs, so it is validated like any input;
// a forged one can only move within the caller's own account.
type cursor struct {
	Sort  TokenSort `json:"s"`
	Order SortOrder `json:"o"`
	Group int       `json:"g,omitempty"` // SortStatus: which state
	Int   int64     `json:"n,omitempty"` // SortCreated, SortLastAccess: Unix milliseconds (0: never)
	Text  string    `json:"t,omitempty"` // SortName, SortStatus: the name
	ID    string    `json:"i"`
	Pos   int       `json:"p,omitempty"` // the position of the page it leads to, for "Showing 51–100"
}

func (c cursor) encode() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // a struct of strings and numbers always marshals
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, sort TokenSort, order SortOrder) (cursor, error) {
	var c cursor
	if len(s) > maxCursor {
		return c, fmt.Errorf("cursor of %d bytes", len(s))
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, err
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return c, err
	}
	if d.More() {
		return c, fmt.Errorf("cursor has trailing data")
	}
	switch {
	case c.Sort != sort || c.Order != order:
		return c, fmt.Errorf("cursor of sort %s %s, not %s %s", c.Sort, c.Order, sort, order)
	case !isID(c.ID, "TKN"):
		return c, fmt.Errorf("cursor ID %q", c.ID)
	case c.Int < 0 || c.Pos < 0 || c.Group < 0 || c.Group >= len(stateOrder):
		return c, fmt.Errorf("cursor out of range")
	case !utf8.ValidString(c.Text) || utf8.RuneCountInString(c.Text) > MaxTokenName:
		return c, fmt.Errorf("cursor name")
	case (sort == SortCreated || sort == SortLastAccess) && (c.Text != "" || c.Group != 0),
		sort == SortName && (c.Int != 0 || c.Group != 0),
		sort == SortStatus && c.Int != 0:
		return c, fmt.Errorf("cursor keys do not fit sort %s", sort)
	}
	return c, nil
}

// stateOrder is the order of SortStatus, ascending.
var stateOrder = []TokenState{StateActive, StateDisabled, StateExpired}

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
}

// driveCost is how many index entries of a walk cost what looking up one
// row costs: the 20 in 20·M² ≤ L·N.
const driveCost = 20

// maxCandidates bounds the IDs a search carries from the trigram index to
// the count and the page, so that it is queried once.
const maxCandidates = 20_000

// accountTotals are the account's tokens by state: counters for the stored
// status, and, when asked for, a count of the expired ones along their index
// (which costs as many steps as there are; otherwise they count as active).
type accountTotals struct{ active, disabled, expired int }

func (s *Store) accountTotals(ctx context.Context, accountID string, now int64, expired bool) (accountTotals, error) {
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
	if err := rows.Err(); err != nil || !expired {
		return t, err
	}
	t.expired, err = s.listCount(ctx, `SELECT COUNT(*) FROM tokens
		WHERE account_id = ? AND status = 'active' AND expires_at IS NOT NULL AND expires_at <= ?`, accountID, now)
	t.active -= t.expired
	return t, err
}

// newPlan counts the tokens that match and chooses how to find them.
func (s *Store) newPlan(ctx context.Context, accountID string, f *TokenFilter, limit int, now time.Time) (*plan, int, error) {
	sort, order := f.sortOrder()
	p := &plan{accountID: accountID, f: f, sort: sort, order: order, now: now.UnixMilli()}
	needExpired := sort == SortStatus || !f.narrowed() && (f.Status == StateActive || f.Status == StateExpired)
	totals, err := s.accountTotals(ctx, accountID, p.now, needExpired)
	if err != nil {
		return nil, 0, err
	}
	if f.ModuleID != "" {
		rows, err := s.listQuery(ctx, `SELECT 1 << bit FROM modules WHERE id = ? AND account_id = ?`, f.ModuleID, accountID)
		if err != nil {
			return nil, 0, err
		}
		if p.moduleBit, err = scanInt(rows); err != nil {
			return nil, 0, err
		}
	}
	if utf8.RuneCountInString(f.Query) >= 3 {
		if p.candidates, p.candidateCount, err = s.searchCandidates(ctx, accountID, f.Query); err != nil {
			return nil, 0, err
		}
	}
	// Tests choose the plan here, for the count, and below, for the pages.
	if s.listHooks.plan != nil {
		s.listHooks.plan(p)
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
	if s.listHooks.plan != nil {
		s.listHooks.plan(p)
	}
	return p, total, err
}

// countTokens counts the tokens that match a narrowed filter, along the
// most selective index: the cost grows with the matches, not the account.
func (s *Store) countTokens(ctx context.Context, p *plan) (int, error) {
	f := p.f
	if f.ModuleID != "" && f.Status == "" && f.CreatedBy == "" && f.CreatedFrom.IsZero() && f.CreatedTo.IsZero() &&
		f.LastAccess == "" && f.Query == "" {
		// A module's rows are those of live tokens only (deleting a token
		// drops them): their index counts them alone.
		return s.listCount(ctx, `SELECT COUNT(*) FROM token_modules
			WHERE module_id = (SELECT id FROM modules WHERE id = ? AND account_id = ?)`, f.ModuleID, p.accountID)
	}
	if _, byID := idPrefix(f.Query); utf8.RuneCountInString(f.Query) >= 3 && !byID && f.Status == "" &&
		f.ModuleID == "" && f.CreatedBy == "" && f.CreatedFrom.IsZero() && f.CreatedTo.IsZero() && f.LastAccess == "" {
		// A search alone: the trigram index holds the account's live
		// tokens and nothing else, so its matches are the count.
		if p.candidates != "" {
			return p.candidateCount, nil
		}
		return s.listCount(ctx, `SELECT COUNT(*) FROM token_search WHERE token_search MATCH ? AND `+searchRange,
			ftsPhrase(f.Query), p.accountID, p.accountID, p.accountID, p.accountID)
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
	bySearch := p.bySearch(driven)
	usable := driven && !bySearch
	// index keeps a term usable by an index, or hides it from the indexes.
	index := func(term string, usable bool) string {
		if usable {
			return term
		}
		return "+" + term
	}
	from.add(`tokens t`)
	// Every index of the list is partial, WHERE status != 'deleted'; SQLite
	// uses one only when the query says so in the same words.
	where.add(index(`t.account_id`, !bySearch)+` = ? AND t.status != 'deleted'`, p.accountID)
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
		where.add(index(`t.created_by`, usable)+` = ?`, f.CreatedBy)
	}
	created := index(`t.created_at`, usable || (!driven && p.sort == SortCreated))
	if !f.CreatedFrom.IsZero() {
		where.add(created+` >= ?`, f.CreatedFrom.UnixMilli())
	}
	if !f.CreatedTo.IsZero() {
		where.add(created+` < ?`, f.CreatedTo.UnixMilli())
	}
	lastAccess := index(`COALESCE(t.last_access_at, 0)`, usable || (!driven && p.sort == SortLastAccess))
	switch f.LastAccess {
	case NeverUsed:
		where.add(lastAccess + ` = 0`)
	case NotUsedIn30Days, NotUsedIn90Days:
		days := int64(30)
		if f.LastAccess == NotUsedIn90Days {
			days = 90
		}
		cutoff := p.now - days*int64(24*time.Hour/time.Millisecond)
		// Last used before the cutoff, or never used and created before
		// it. A token is used after it is created, so this is: last access
		// (never: 0) and creation both before the cutoff; the last-access
		// index holds both.
		where.add(lastAccess+` < ? AND +t.created_at < ?`, cutoff, cutoff)
	}
	switch {
	case f.Query == "":
	case utf8.RuneCountInString(f.Query) < 3:
		// Too short for trigrams: the start of the name, a range of the
		// name index, or of the ID.
		name := `t.name`
		if !driven && p.sort != SortName {
			name = `(+t.name)`
		}
		term := fmt.Sprintf(`%[1]s COLLATE NOCASE >= ? AND %[1]s COLLATE NOCASE < ?`, name)
		args := []any{f.Query, f.Query + "\U0010FFFF"}
		if prefix, ok := idPrefix(f.Query); ok {
			term += ` OR ` + index(`t.id`, driven) + ` >= ? AND ` + index(`t.id`, driven) + ` < ?`
			args = append(args, prefix, prefixEnd(prefix))
		}
		where.add(`(`+term+`)`, args...)
	case p.candidates != "":
		if driven {
			from = conditions{}
			from.add(`json_each(?) AS c CROSS JOIN tokens t ON t.id = c.value`, p.candidates)
		} else {
			where.add(`+t.id IN (SELECT value FROM json_each(?))`, p.candidates)
		}
	default:
		candidates, args := candidatesQuery(p.accountID, f.Query)
		if driven {
			from = conditions{}
			from.add(`(`+candidates+`) AS c CROSS JOIN tokens t ON t.id = c.id`, args...)
		} else {
			where.add(`+t.id IN (`+candidates+`)`, args...)
		}
	}
	return from, where
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

// searchRange is the account's range of rowids in token_search, in the
// words the migration's triggers use.
const searchRange = `rowid BETWEEN CAST(substr(?, 5, 4) || substr(?, 10, 4) AS INTEGER) * 100000000
	AND CAST(substr(?, 5, 4) || substr(?, 10, 4) AS INTEGER) * 100000000 + 99999999`

// ftsPhrase quotes q as an FTS5 string, which matches it as a substring.
func ftsPhrase(q string) string { return `"` + strings.ReplaceAll(q, `"`, `""`) + `"` }

// candidatesQuery selects, as a column id and in order, the tokens whose
// name contains q (of three characters or more), in the account, or whose
// ID starts with it, in any account: the caller keeps to one.
func candidatesQuery(accountID, q string) (string, []any) {
	query := `SELECT printf('TKN-%04d-%04d', rowid % 100000000 / 10000, rowid % 10000) AS id
		FROM token_search WHERE token_search MATCH ? AND ` + searchRange
	args := []any{ftsPhrase(q), accountID, accountID, accountID, accountID}
	if prefix, ok := idPrefix(q); ok {
		query += ` UNION SELECT id FROM tokens WHERE id >= ? AND id < ?`
		args = append(args, prefix, prefixEnd(prefix))
	}
	return query, args
}

// searchCandidates finds, once for the count and the page to share, the IDs
// candidatesQuery selects, and says how many there are. It returns "" when
// there are more than maxCandidates. The trigram index gives numbers, which
// are quicker made into IDs here than by SQLite's printf.
func (s *Store) searchCandidates(ctx context.Context, accountID, q string) (string, int, error) {
	rows, err := s.listQuery(ctx, `SELECT rowid % 100000000 FROM token_search
		WHERE token_search MATCH ? AND `+searchRange+` LIMIT ?`,
		ftsPhrase(q), accountID, accountID, accountID, accountID, maxCandidates+1)
	if err != nil {
		return "", 0, err
	}
	var ids []string
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return "", 0, err
		}
		ids = append(ids, fmt.Sprintf("TKN-%04d-%04d", n/10000, n%10000))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", 0, err
	}
	if prefix, ok := idPrefix(q); ok && len(ids) <= maxCandidates {
		rows, err := s.listQuery(ctx, `SELECT id FROM tokens WHERE id >= ? AND id < ? LIMIT ?`,
			prefix, prefixEnd(prefix), maxCandidates+1)
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

// conditions is a clause under construction.
type conditions struct {
	terms []string
	args  []any
}

func (w *conditions) add(term string, args ...any) {
	w.terms = append(w.terms, term)
	w.args = append(w.args, args...)
}

func (w conditions) String() string { return strings.Join(w.terms, " AND ") }

// idPrefix reads q as the start of a token ID, the way people type one:
// "TKN-1234-5678", "tkn 1234", "1234-56", "12345678". It returns the
// canonical prefix ("TKN-1234-56").
func idPrefix(q string) (string, bool) {
	s := strings.ToUpper(strings.ReplaceAll(q, " ", ""))
	named := strings.HasPrefix(s, "TKN")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "TKN"), "-")
	if first, rest, ok := strings.Cut(s, "-"); ok {
		if len(first) != 4 {
			return "", false
		}
		s = first + rest
	}
	if len(s) > 8 || (s == "" && !named) {
		return "", false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	prefix := "TKN-" + s
	if len(s) > 4 {
		prefix = "TKN-" + s[:4] + "-" + s[4:]
	}
	return prefix, true
}

// prefixEnd is the least string above every string that starts with the
// ASCII prefix p.
func prefixEnd(p string) string {
	return p[:len(p)-1] + string(p[len(p)-1]+1)
}

// sortKey is the SQL of the list's order, before the ID tie-break; hidden
// from the indexes for a driven plan.
func sortKey(s TokenSort, driven bool) string {
	switch {
	case s == SortName || s == SortStatus:
		if driven {
			return `(+t.name) COLLATE NOCASE`
		}
		return `t.name COLLATE NOCASE`
	case s == SortLastAccess && driven:
		return `+COALESCE(t.last_access_at, 0)`
	case s == SortLastAccess:
		return `COALESCE(t.last_access_at, 0)`
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
	group int
	cond  string
	args  []any
}

// segments returns the runs of the list in the order of a walk forward or
// backward, each with whether its plan is driven.
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

// keyOf returns the sort key of a token, as a cursor records it.
func keyOf(t Token, sort TokenSort, now time.Time) cursor {
	c := cursor{ID: t.ID}
	switch sort {
	case SortCreated:
		c.Int = t.CreatedAt.UnixMilli()
	case SortLastAccess:
		if !t.LastAccessAt.IsZero() {
			c.Int = t.LastAccessAt.UnixMilli()
		}
	case SortName:
		c.Text = t.Name
	case SortStatus:
		c.Text = t.Name
		c.Group = slices.Index(stateOrder, t.State(now))
	}
	return c
}

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

// MaxBulkTokens bounds how many tokens one bulk action, or one "select all
// matching", takes.
const MaxBulkTokens = 10_000

// maxBulk is MaxBulkTokens, which tests make smaller.
var maxBulk = MaxBulkTokens

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
