package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// pageSizeProblem says which page sizes the list offers.
var pageSizeProblem = func() string {
	sizes := make([]string, len(store.PageSizes))
	for i, n := range store.PageSizes {
		sizes[i] = strconv.Itoa(n)
	}
	last := len(sizes) - 1
	return "Choose " + strings.Join(sizes[:last], ", ") + " or " + sizes[last] + " rows a page."
}()

// listFilter reads the list page's query parameters into a store filter,
// and the view in canonical form for the page's links. Every problem is a
// store.ValidationError keyed by parameter; the view then holds the
// parameters as sent, for the form to show them. Parameters the list does
// not know are ignored, as links elsewhere may add their own.
func listFilter(v url.Values) (store.TokenFilter, templates.ListQuery, error) {
	q := templates.ListQuery{
		Q: v.Get("q"), Status: v.Get("status"), Module: v.Get("module"), CreatedBy: v.Get("createdBy"),
		From: v.Get("from"), To: v.Get("to"), LastAccess: v.Get("lastAccess"),
		Sort: v.Get("sort"), Order: v.Get("order"), Limit: v.Get("limit"),
		After: v.Get("after"), Before: v.Get("before"),
	}
	f := store.TokenFilter{
		Query: q.Q, Status: store.TokenState(q.Status), ModuleID: q.Module, CreatedBy: q.CreatedBy,
		LastAccess: store.LastAccessFilter(q.LastAccess), Sort: store.TokenSort(q.Sort), Order: store.SortOrder(q.Order),
		After: q.After, Before: q.Before,
	}
	problems := map[string]string{}
	f.CreatedFrom, f.CreatedTo = dayRange(q.From, q.To, "date created", problems)
	f.Limit = store.ListPageSize
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || !slices.Contains(store.PageSizes, n) {
			problems["limit"] = pageSizeProblem
		} else {
			f.Limit = n
		}
	}
	if len(problems) > 0 {
		// Dates and page size are checked; the store's own checks below
		// would only repeat that without them.
		f.CreatedFrom, f.CreatedTo, f.After, f.Before = time.Time{}, time.Time{}, "", ""
	}
	if err := f.Validate(); err != nil {
		fields, ok := fieldMessages(err)
		if !ok {
			return f, q, err
		}
		for k, msg := range fields {
			if k == "query" {
				k = "q"
			}
			if _, ok := problems[k]; !ok {
				problems[k] = msg
			}
		}
	}
	if len(problems) > 0 {
		return f, q, &store.ValidationError{Fields: problems}
	}

	// Canonical: lower-case words, and nothing for a default, so that one
	// view has one address.
	q.Q = f.Query
	q.Status = strings.ToLower(string(f.Status))
	if f.Sort == store.SortCreated {
		q.Sort = ""
	}
	if f.Order != "" && f.Order == f.Sort.NaturalOrder() {
		q.Order = ""
	}
	if f.Limit == store.ListPageSize {
		q.Limit = ""
	}
	return f, q, nil
}

// dayRange reads a range of days typed into a filter's from and to, each
// optional, as the moments the store's filters take: the start of the
// first day, and the start of the day after the last, since the range
// includes its last day and the filter's end is exclusive. A date that
// cannot be read is a problem for its field, named by what: "Enter the
// first day as a date…".
func dayRange(from, to, what string, problems map[string]string) (start, end time.Time) {
	if from != "" {
		day, err := time.Parse(time.DateOnly, from)
		if err != nil {
			problems["from"] = "Enter the first " + what + " as a date, for example 2026-01-31."
		}
		start = day
	}
	if to != "" {
		day, err := time.Parse(time.DateOnly, to)
		if err != nil {
			problems["to"] = "Enter the last " + what + " as a date, for example 2026-01-31."
		} else {
			end = day.AddDate(0, 0, 1)
		}
	}
	return start, end
}

// handleTokenList is the list page, filtered, sorted and paged as its
// query says. A query it cannot use is a 400 with the form as sent and
// what is wrong with it, never an error page.
func (s *Server) handleTokenList(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	mods, err := s.store.Modules(ctx, u.AccountID)
	if err != nil {
		return err
	}
	users, err := s.store.Users(ctx, u.AccountID)
	if err != nil {
		return err
	}
	f, q, err := listFilter(c.QueryParams())
	if err == nil && f.ModuleID != "" && !slices.ContainsFunc(mods, func(m store.Module) bool { return m.ID == f.ModuleID }) {
		err = &store.ValidationError{Fields: map[string]string{"module": "Choose a module of this account."}}
	}
	v := templates.ListView{Query: q, Modules: mods, Users: users, Hidden: u.HiddenColumns}
	if err == nil {
		v.Page, err = s.store.ListTokens(ctx, u.AccountID, f)
	}
	status := http.StatusOK
	if fields, ok := fieldMessages(err); ok {
		status, v.Errors = http.StatusBadRequest, fields
	} else if err != nil {
		return err
	}
	if v.Unused, err = s.unusedNotice(c, u); err != nil {
		return err
	}
	p, err := s.page(c, "API tokens")
	if err != nil {
		return err
	}
	return render(c, status, templates.TokenList(p, v))
}

// listReturn is the list view a bulk action goes back to, from the query
// string the form carried. Only the list's own parameters pass, re-encoded:
// the answer is always a path on this site, and a view that no longer
// makes sense is the whole list.
func listReturn(raw string) string {
	v, err := url.ParseQuery(strings.TrimPrefix(raw, "?"))
	if err != nil {
		return paths.Tokens
	}
	if _, q, err := listFilter(v); err == nil {
		return q.ViewURL()
	}
	return paths.Tokens
}

// columnsFields are what the Columns form posts.
var columnsFields = []string{csrfField, "column", "return"}

// handleListColumns keeps the columns the person shows in the list, for
// them alone and on every device, and goes back to the list view.
func (s *Server) handleListColumns(c echo.Context) error {
	r := c.Request()
	if k := unknownField(r, columnsFields); k != "" {
		return problemValidation.with(unexpectedField(k))
	}
	shown := r.PostForm["column"]
	var hidden []string
	for _, col := range templates.ListColumns {
		if !slices.Contains(shown, col.Key) {
			hidden = append(hidden, col.Key)
		}
	}
	for _, k := range shown {
		if !slices.ContainsFunc(templates.ListColumns, func(col templates.ListColumn) bool { return col.Key == k }) {
			return problemValidation.with(fmt.Sprintf("%s is not a column of the list. Nothing was saved.", strconv.Quote(k)))
		}
	}
	u, _ := currentUser(c)
	if err := s.store.SetHiddenColumns(r.Context(), u.ID, hidden); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, listReturn(postValue(c, "return")))
}
