package web

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// auditPageSize is how many events a page of an audit trail shows.
const auditPageSize = 25

// errNoSuchPage answers a page number that is not one.
var errNoSuchPage = problemInvalidParameters.with("The page must be a whole number from 1.")

// errNoSuchRecord answers a record that is not in the account's trail,
// another account's included.
var errNoSuchRecord = problemNotFound.with("There is no such record in your account's audit trail.")

// auditPageNumber is the page the query asks for, from 1.
func auditPageNumber(q url.Values) (int, error) {
	v := q.Get("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, errNoSuchPage
	}
	return n, nil
}

// auditView reads the page of the trail the filter picks that the query
// asks for, and says where it lies; base is the address of the view, to
// which the other pages' links add the query with their page.
func (s *Server) auditView(c echo.Context, accountID string, f store.AuditFilter, base string) (templates.AuditView, error) {
	page, err := auditPageNumber(c.QueryParams())
	if err != nil {
		return templates.AuditView{}, err
	}
	f.Limit, f.Offset = auditPageSize, (page-1)*auditPageSize
	trail, err := s.store.AuditTrail(c.Request().Context(), accountID, f)
	if err != nil {
		return templates.AuditView{}, err
	}
	p := templates.AuditPager{Span: templates.Span{Offset: f.Offset, Limit: f.Limit, Shown: len(trail.Events), Total: trail.Total}}
	pages := p.Pages()
	at := func(n int) string {
		q := maps.Clone(c.QueryParams())
		q.Set("page", strconv.Itoa(n))
		return base + "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = at(min(page-1, pages))
	}
	if page < pages {
		p.Next = at(page + 1)
	}
	return templates.AuditView{Events: trail.Events, Pager: p}, nil
}

// handleAuditTrail is the account's audit trail: every event of every
// token, filtered by object, actor, event and date.
func (s *Server) handleAuditTrail(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	q := c.QueryParams()
	form := templates.AuditFilterForm{Object: q.Get("object"), Actor: q.Get("actor"), Event: q.Get("event"), From: q.Get("from"), To: q.Get("to")}
	f := store.AuditFilter{Object: form.Object, ActorID: form.Actor, Action: form.Event}
	problems := map[string]string{}
	f.From, f.To = dayRange(form.From, form.To, "day", problems)
	actors, err := s.store.Users(ctx, u.AccountID)
	if err != nil {
		return err
	}
	v := templates.AuditTrailView{Filter: form, Actors: actors}
	if err := f.Validate(); err != nil {
		fields, ok := fieldMessages(err)
		if !ok {
			return err
		}
		for k, msg := range fields {
			if _, seen := problems[k]; !seen {
				problems[k] = msg
			}
		}
	}
	status := http.StatusOK
	if len(problems) > 0 {
		v.Errors, status = problems, http.StatusBadRequest
	} else if v.AuditView, err = s.auditView(c, u.AccountID, f, paths.AuditTrail); err != nil {
		return err
	}
	v.Objects = true
	p, err := s.page(c, "Audit trail")
	if err != nil {
		return err
	}
	return render(c, status, templates.AuditTrail(p, v))
}

// handleAuditRecord is the record details of one event of the account's
// trail, on a page of its own; the script shows the same in a dialog.
func (s *Server) handleAuditRecord(c echo.Context) error {
	u, _ := currentUser(c)
	id, err := strconv.ParseInt(c.Param("event"), 10, 64)
	if err != nil || id < 1 {
		return errNoSuchRecord
	}
	e, err := s.store.AuditEventByID(c.Request().Context(), u.AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return errNoSuchRecord
	}
	if err != nil {
		return err
	}
	p, err := s.page(c, "Record details")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.AuditRecordPage(p, e))
}
