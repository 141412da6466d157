package templates

import (
	"net/url"
	"slices"
	"strconv"

	"apitokens/store"
	"apitokens/web/paths"
)

// ListQuery is a view of the list as query parameters: the filter, sort and
// page size, and the page's cursor. The handler fills it in canonical form
// (an empty field is the default) once the query is valid, and as sent
// when it is not, so that the form shows what the person asked for.
type ListQuery struct {
	Q          string // name or ID
	Status     string // active, disabled, expired
	Module     string // MOD-…
	CreatedBy  string // USR-… or TKN-…
	From, To   string // dates created, YYYY-MM-DD, both included
	LastAccess string // never, 30d, 90d
	Sort       string // name, created, lastAccess, status; "": date created
	Order      string // asc, desc; "": the sort's natural order
	Limit      string // 10, 25, 50, 100; "": store.ListPageSize
	After      string // cursors, from the pager
	Before     string
}

// FilterParams are the query parameters that narrow the list, which the
// bulk form carries for "select all matching".
var FilterParams = []string{"q", "status", "module", "createdBy", "from", "to", "lastAccess"}

// ListParams are every query parameter of the list page.
var ListParams = append(append([]string{}, FilterParams...), "sort", "order", "limit", "after", "before")

// sortParams are what the filter form carries besides the filters: the
// sort and the page size.
var sortParams = []string{"sort", "order", "limit"}

// viewParams are what the page-size form carries besides the size: the
// filter and the sort.
var viewParams = append(append([]string{}, FilterParams...), "sort", "order")

// Get returns a parameter by its name in the query string.
func (q ListQuery) Get(name string) string {
	switch name {
	case "q":
		return q.Q
	case "status":
		return q.Status
	case "module":
		return q.Module
	case "createdBy":
		return q.CreatedBy
	case "from":
		return q.From
	case "to":
		return q.To
	case "lastAccess":
		return q.LastAccess
	case "sort":
		return q.Sort
	case "order":
		return q.Order
	case "limit":
		return q.Limit
	case "after":
		return q.After
	case "before":
		return q.Before
	}
	return ""
}

// Filtered reports whether a filter narrows the list (sort and page size
// do not).
func (q ListQuery) Filtered() bool {
	for _, k := range FilterParams {
		if q.Get(k) != "" {
			return true
		}
	}
	return false
}

// Values is the view without its cursor: the first page of the same
// filter, sort and page size. Empty parameters are left out.
func (q ListQuery) Values() url.Values {
	v := url.Values{}
	for _, k := range ListParams {
		if k != "after" && k != "before" && q.Get(k) != "" {
			v.Set(k, q.Get(k))
		}
	}
	return v
}

// Encode is the whole view, cursor included, as a query string: where a
// bulk action comes back to.
func (q ListQuery) Encode() string {
	v := q.Values()
	if q.After != "" {
		v.Set("after", q.After)
	}
	if q.Before != "" {
		v.Set("before", q.Before)
	}
	return v.Encode()
}

// URL is the list page of the view, on its first page, with some
// parameters changed: pairs of name and value, where an empty value
// removes the parameter.
func (q ListQuery) URL(changes ...string) string {
	v := q.Values()
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i+1] == "" {
			v.Del(changes[i])
		} else {
			v.Set(changes[i], changes[i+1])
		}
	}
	return listURL(v)
}

// exportURL is the CSV of the view: all its pages, so no cursor.
func (v ListView) exportURL() string {
	if q := v.Query.Values().Encode(); q != "" {
		return paths.TokensExport + "?" + q
	}
	return paths.TokensExport
}

// ViewURL is the list page of the view, cursor included.
func (q ListQuery) ViewURL() string {
	if s := q.Encode(); s != "" {
		return paths.Tokens + "?" + s
	}
	return paths.Tokens
}

func listURL(v url.Values) string {
	if len(v) == 0 {
		return paths.Tokens
	}
	return paths.Tokens + "?" + v.Encode()
}

// ListView is what the list page shows: a page of tokens, the view that
// selected it, and what the filter form offers.
type ListView struct {
	Page    store.TokenPage
	Query   ListQuery
	Modules []store.Module // the account's, for the module filter
	Users   []store.User   // the account's, for the Created by filter
	// Errors are the problems with the query, by parameter; the page then
	// has no tokens, and answers 400.
	Errors map[string]string
	// Hidden are the keys of the columns the person has hidden.
	Hidden []string
	// Unused is what the account's policy on unused tokens disabled that
	// the person has not been told of: told now, once.
	Unused store.UnusedNotice
}

// Keys of the columns a person may hide; the token's name and its actions
// always show.
const (
	ColumnModules    = "modules"
	ColumnCreatedBy  = "createdBy"
	ColumnCreated    = "created"
	ColumnLastAccess = "lastAccess"
	ColumnCalls      = "calls"
	ColumnStatus     = "status"
)

// ListColumn is a column of the list that a person may hide.
type ListColumn struct{ Key, Label string }

// ListColumns are the columns a person may hide, in the table's order.
var ListColumns = []ListColumn{
	{ColumnModules, "Modules"}, {ColumnCreatedBy, "Created by"}, {ColumnCreated, "Date created"},
	{ColumnLastAccess, "Last access"}, {ColumnCalls, "Calls (7 days)"}, {ColumnStatus, "Status"},
}

// Shows reports whether the list shows a column.
func (v ListView) Shows(key string) bool { return !slices.Contains(v.Hidden, key) }

// Filtered reports whether a filter narrows the list.
func (v ListView) Filtered() bool { return v.Query.Filtered() }

// sortLink is the address of a column header: the column's sort in its
// natural direction, or the other direction when the list is sorted by it
// already. The filter and page size stay; the cursor goes.
func (v ListView) sortLink(col store.TokenSort) string {
	order := col.NaturalOrder()
	if v.Page.Sort == col {
		order = store.Ascending
		if v.Page.Order == store.Ascending {
			order = store.Descending
		}
	}
	sort, ord := string(col), string(order)
	if col == store.SortCreated {
		sort = ""
	}
	if order == col.NaturalOrder() {
		ord = ""
	}
	return v.Query.URL("sort", sort, "order", ord)
}

// ariaSort is the aria-sort value of a column header; "" when the list is
// not sorted by it.
func (v ListView) ariaSort(col store.TokenSort) string {
	if v.Page.Sort != col {
		return ""
	}
	if v.Page.Order == store.Ascending {
		return "ascending"
	}
	return "descending"
}

// pageLink is the address of the previous or next page.
func (v ListView) pageLink(cursor, name string) string {
	u := v.Query.Values()
	u.Set(name, cursor)
	return listURL(u)
}

// filterErrors lists the query's problems in the order of the form, with
// the id of the control each one is about ("" when none is).
func (v ListView) filterErrors() [][2]string {
	var out [][2]string
	for _, k := range []struct{ key, anchor string }{
		{"q", "filter-q"}, {"status", "filter-status"}, {"module", "filter-module"},
		{"createdBy", "filter-created-by"}, {"from", "filter-from"}, {"to", "filter-to"},
		{"created", "filter-from"}, {"lastAccess", "filter-last-access"}, {"limit", ""},
		{"sort", ""}, {"order", ""}, {"cursor", ""},
	} {
		if msg := v.Errors[k.key]; msg != "" {
			out = append(out, [2]string{k.anchor, msg})
		}
	}
	return out
}

// invalid is the aria-invalid value of a filter control.
func (v ListView) invalid(keys ...string) string {
	for _, k := range keys {
		if v.Errors[k] != "" {
			return "true"
		}
	}
	return "false"
}

// span is where the page lies in the list.
func (v ListView) span() Span {
	return Span{Offset: v.Page.Offset, Limit: v.Page.Limit, Shown: len(v.Page.Tokens), Total: v.Page.Total}
}

// activeFilters counts the filters that narrow the list: the dates
// created make one filter, as they make one range.
func (v ListView) activeFilters() int {
	n := 0
	for _, k := range FilterParams {
		if k != "to" && v.Query.Get(k) != "" || k == "to" && v.Query.To != "" && v.Query.From == "" {
			n++
		}
	}
	return n
}

// filterButtonLabel names the Filter button with the filters in force.
func (v ListView) filterButtonLabel() string {
	switch n := v.activeFilters(); n {
	case 0:
		return "Filter"
	case 1:
		return "Filter, 1 active"
	default:
		return "Filter, " + strconv.Itoa(n) + " active"
	}
}

// sortChoice is an order the Sort menu offers.
type sortChoice struct {
	label, href string
	current     bool
}

// sortChoices are the orders of the Sort menu, each column both ways.
func (v ListView) sortChoices() []sortChoice {
	orders := []struct {
		col   store.TokenSort
		order store.SortOrder
		label string
	}{
		{store.SortCreated, store.Descending, "Newest first"},
		{store.SortCreated, store.Ascending, "Oldest first"},
		{store.SortName, store.Ascending, "Name, A to Z"},
		{store.SortName, store.Descending, "Name, Z to A"},
		{store.SortLastAccess, store.Descending, "Last access, latest first"},
		{store.SortLastAccess, store.Ascending, "Last access, earliest first"},
		{store.SortCalls, store.Descending, "Calls (7 days), most first"},
		{store.SortCalls, store.Ascending, "Calls (7 days), fewest first"},
		{store.SortStatus, store.Ascending, "Status, A to Z"},
		{store.SortStatus, store.Descending, "Status, Z to A"},
	}
	out := make([]sortChoice, len(orders))
	for i, o := range orders {
		sort, ord := string(o.col), string(o.order)
		if o.col == store.SortCreated {
			sort = ""
		}
		if o.order == o.col.NaturalOrder() {
			ord = ""
		}
		out[i] = sortChoice{label: o.label, href: v.Query.URL("sort", sort, "order", ord),
			current: v.Page.Sort == o.col && v.Page.Order == o.order}
	}
	return out
}

// moreThanPage reports whether more tokens match than the page shows, when
// "select all matching" means more than ticking every row.
func (v ListView) moreThanPage() bool { return v.Page.Total > len(v.Page.Tokens) }

// selectAllLabel is the label of "select all matching".
func (v ListView) selectAllLabel() string {
	n := strconv.Itoa(v.Page.Total)
	if v.Filtered() {
		return "Select all " + n + " API tokens that match these filters"
	}
	return "Select all " + n + " API tokens"
}

// createdByChoices are the choices of the Created by filter: the account's
// users, and a token ID from the query, which the list cannot name.
func (v ListView) createdByChoices() []store.UserRef {
	out := make([]store.UserRef, 0, len(v.Users)+1)
	found := v.Query.CreatedBy == ""
	for _, u := range v.Users {
		out = append(out, store.UserRef{ID: u.ID, Name: u.Name})
		found = found || u.ID == v.Query.CreatedBy
	}
	if !found {
		out = append(out, store.UserRef{ID: v.Query.CreatedBy})
	}
	return out
}

// pageSizeChoices are the options of the page size: value and label. The
// default's value is empty, as it is in a canonical query.
func pageSizeChoices() [][2]string {
	out := make([][2]string, len(store.PageSizes))
	for i, n := range store.PageSizes {
		out[i] = [2]string{strconv.Itoa(n), strconv.Itoa(n)}
		if n == store.ListPageSize {
			out[i][0] = ""
		}
	}
	return out
}

// BulkAction is an action on many tokens at once, confirmed once.
type BulkAction struct {
	Action  store.TokenAction // the form's action value
	Verb    string            // "Delete"
	Past    string            // "deleted"
	Working string            // the button while the request is under way
	Warning string            // what happens, said before it happens
	Danger  bool
}

// BulkActions are the bulk actions, in the order of the toolbar.
var BulkActions = []BulkAction{
	{Action: store.ActionDisable, Verb: "Disable", Past: "disabled", Working: "Disabling…",
		Warning: "Every API call made with these tokens will be refused until they are enabled again."},
	{Action: store.ActionEnable, Verb: "Enable", Past: "enabled", Working: "Enabling…",
		Warning: "API calls made with these tokens will be accepted again."},
	{Action: store.ActionDelete, Verb: "Delete", Past: "deleted", Working: "Deleting…", Danger: true,
		Warning: "Deleted API tokens can't be reinstated or reused. Applications that use them lose access immediately."},
}

// BulkActionNamed finds a bulk action by its form value.
func BulkActionNamed(name string) (BulkAction, bool) {
	for _, a := range BulkActions {
		if string(a.Action) == name {
			return a, true
		}
	}
	return BulkAction{}, false
}

// CountTokens is "1 API token" or "3 API tokens".
func CountTokens(n int) string {
	if n == 1 {
		return "1 API token"
	}
	return strconv.Itoa(n) + " API tokens"
}

// Question is the title of the confirmation: "Delete 3 API tokens?".
func (a BulkAction) Question(n int) string { return a.Verb + " " + CountTokens(n) + "?" }

// HiddenField is a form field carried as is to the next request.
type HiddenField struct{ Name, Value string }

// BulkConfirmView is the confirmation page of a bulk action, for browsers
// without JavaScript and for "select all matching".
type BulkConfirmView struct {
	Action BulkAction
	Count  int           // how many tokens the action takes
	Named  []store.Token // the first of them, by name and ID (an ID alone for one not found)
	All    bool          // every token that matches the filter
	Fields []HiddenField // what the form carries to the action, besides confirm
	Return string        // the list view to go back to
	Note   string        // why the person is asked again, if they are
	Usage  UsageNote     // what the tokens have been doing, for an action that stops them
	Reason string        // the reason given, when the page comes back
}

// more is how many tokens the page does not name.
func (v BulkConfirmView) more() int { return v.Count - len(v.Named) }
