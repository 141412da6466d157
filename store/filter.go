package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"apitokens/store/rql"
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
	// SortCalls is by the calls of the last 7 days, most first.
	SortCalls TokenSort = "calls"
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
)

// PageSizes are the page sizes the list offers.
var PageSizes = []int{10, 25, 50, 100}

// ListPageSize is the list page's own default, the platform's: fewer rows
// than the REST API's DefaultPageSize, for a first screen a person reads.
const ListPageSize = 10

// Limits on what a filter carries, which comes from URLs.
const (
	// MaxQuery bounds the length of a search, in characters.
	MaxQuery = 200
	// maxCursor bounds the length of an encoded cursor; real ones are far
	// shorter.
	maxCursor = 1024
)

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

	// Offset is where the REST API's offset paging starts: it skips that
	// many tokens, reading every one it skips, so a deep page costs more
	// than the first. The pages of the list use After and Before instead.
	Offset int

	// What the REST API's RQL adds (ApplyRQL, ApplyRQLOrder): tokens with
	// these IDs only (nil: any); Query matching names alone, not IDs; terms
	// no filter above expresses, all of which must hold; and sorts that
	// break the ties of the first, which take offset paging.
	ids      []string
	nameOnly bool
	where    []*rql.Node
	then     []orderKey
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
		if st, ok := parseState(string(f.Status)); ok {
			f.Status = st
		} else {
			v.add("status", "Choose a status: Active, Disabled or Expired.")
		}
	}
	if f.ModuleID != "" && !isID(f.ModuleID, modulePrefix) {
		v.add("module", "Choose a module of this account.")
	}
	if f.CreatedBy != "" && !isID(f.CreatedBy, userPrefix) && !IsTokenID(f.CreatedBy) {
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
	case "", SortCreated, SortName, SortLastAccess, SortCalls, SortStatus:
	default:
		v.add("sort", "Sort by name, date created, last access, calls or status.")
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
	case (f.Offset > 0 || len(f.then) > 0) && (f.After != "" || f.Before != ""):
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

// NaturalOrder is the direction a sort takes unless told otherwise: newest
// first for dates, A to Z for names and states. "" is SortCreated.
func (s TokenSort) NaturalOrder() SortOrder {
	if s == "" || s == SortCreated || s == SortLastAccess || s == SortCalls {
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
		f.LastAccess != "" || f.Query != "" || f.rqlNarrowed()
}

// rqlNarrowed reports whether RQL has narrowed the filter beyond what the
// page's filters say.
func (f *TokenFilter) rqlNarrowed() bool { return f.ids != nil || len(f.where) > 0 }

// queryIDPrefix reads Query as the start of a token ID, unless it searches
// names alone.
func (f *TokenFilter) queryIDPrefix() (string, bool) {
	if f.nameOnly {
		return "", false
	}
	return idPrefix(f.Query)
}

// cursor is the position between two pages: the sort key and ID of the row
// on the near side. It travels in URLs, so it is validated like any input;
// a forged one can only move within the caller's own account.
type cursor struct {
	Sort  TokenSort `json:"s"`
	Order SortOrder `json:"o"`
	Group int       `json:"g,omitempty"` // SortStatus: which state
	Int   int64     `json:"n,omitempty"` // SortCreated, SortLastAccess: Unix milliseconds (0: never); SortCalls: calls
	Text  string    `json:"t,omitempty"` // SortName, SortStatus: the name
	ID    string    `json:"i"`
	Pos   int       `json:"p,omitempty"` // the position of the page it leads to, for "Showing 51–100"
}

// encode writes the cursor for a URL: base64 of its JSON.
func (c cursor) encode() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // a struct of strings and numbers always marshals
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor that came back in a URL, and refuses it
// unless it is one encode could have made for this sort and order.
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
	case !IsTokenID(c.ID):
		return c, fmt.Errorf("cursor ID %q", c.ID)
	case c.Int < 0 || c.Pos < 0 || c.Group < 0 || c.Group >= len(stateOrder):
		return c, fmt.Errorf("cursor out of range")
	case !utf8.ValidString(c.Text) || utf8.RuneCountInString(c.Text) > MaxTokenName:
		return c, fmt.Errorf("cursor name")
	case (sort == SortCreated || sort == SortLastAccess || sort == SortCalls) && (c.Text != "" || c.Group != 0),
		sort == SortName && (c.Int != 0 || c.Group != 0),
		sort == SortStatus && c.Int != 0:
		return c, fmt.Errorf("cursor keys do not fit sort %s", sort)
	}
	return c, nil
}

// stateOrder is the order of SortStatus, ascending.
var stateOrder = []TokenState{StateActive, StateDisabled, StateExpired}

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
	case SortCalls:
		c.Int = t.Calls7d
	case SortName:
		c.Text = t.Name
	case SortStatus:
		c.Text = t.Name
		c.Group = slices.Index(stateOrder, t.State(now))
	}
	return c
}
