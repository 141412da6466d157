package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// problemFor is the one table from an error to what the client is told:
// the status, the kind of problem, and a detail for people. Both renderers
// use it, the error page and problem+json. An error no row matches is a
// server error, whose cause goes to the log and not to the client.
func problemFor(err error) *problem {
	var (
		p        *problem
		rejected *store.SecretRejected
		ve       *store.ValidationError
		he       *echo.HTTPError
		qe       *store.QueryError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, store.ErrUnavailable):
		// Before the rows below: whatever else the error says, the
		// database did not answer (a deadline that passed included), and
		// the same request may succeed in a moment.
		return errUnavailable()
	case errors.As(err, &rejected):
		// Before ErrNotFound, which it unwraps to: every rejected secret
		// (unknown, disabled, deleted, expired, malformed) gets the one
		// answer, so the caller learns nothing of why; requireToken has
		// logged the reason.
		return errInvalidToken()
	case errors.Is(err, store.ErrNotFound):
		return problemNotFound.with("There is no API token with this ID in your account; it may have been deleted.")
	case errors.As(err, &ve):
		p := problemValidation.with("The API token was not saved; see errors.")
		p.Errors = apiFieldErrors(ve)
		return p
	case errors.As(err, &qe):
		// The list's RQL: the detail names the field, operator or
		// character, and where it is.
		p := problemBadQuery.with(qe.Param + " cannot be used: " + qe.Error() + ".")
		p.Errors.add(qe.Param, p.Detail)
		return p
	case errors.Is(err, store.ErrTokenExpired):
		return problemConflict.with("This API token is past its expiry date: enabling, disabling or rotating it would change nothing, since the API refuses it either way. Give it a new expiry date on its page, or delete it.")
	case errors.Is(err, store.ErrConflict):
		return problemConflict.with("This clashes with what is stored already; nothing was saved.")
	case errors.Is(err, store.ErrInvalidCredentials):
		p := problemValidation.with("That password is not right. Try again.")
		p.Errors.add("password", p.Detail)
		return p
	case errors.As(err, &he) && he.Code < 500:
		return httpProblem(he)
	}
	return problemServerError.with("The server could not complete the request. Nothing was changed; please try again.")
}

// retryUnavailable is how long a client is asked to wait (Retry-After)
// before trying again when the database does not answer: long enough for a
// restart or a failover to be under way, short enough not to be noticed
// when it was a moment's stall.
const retryUnavailable = 5 * time.Second

// errUnavailable is the answer to a request the database did not answer:
// a 503 with Retry-After, the status load balancers and clients retry,
// rather than a 500, which says the server is at fault.
func errUnavailable() *problem {
	return problemUnavailable.retryAfter("The database cannot be reached just now; nothing was changed.", retryUnavailable)
}

// statusDetails say in plain words what an HTTP error that carries only a
// status means for whoever got it.
var statusDetails = map[int]string{
	http.StatusBadRequest:            "The request could not be read.",
	http.StatusForbidden:             "You do not have access to this page.",
	http.StatusNotFound:              "There is nothing at this address.",
	http.StatusMethodNotAllowed:      "This address does not accept that kind of request.",
	http.StatusRequestEntityTooLarge: "What was sent is too large.",
	http.StatusUnsupportedMediaType:  "This address does not accept a body of that type.",
}

// httpProblem is the problem of an HTTP error from Echo or a handler. Its
// message is the detail, unless it only repeats the status text.
func httpProblem(he *echo.HTTPError) *problem {
	detail := statusDetails[he.Code]
	if m, ok := he.Message.(string); ok && m != http.StatusText(he.Code) {
		detail = m
	}
	if detail == "" {
		detail = "The request could not be completed."
	}
	if pt, ok := problemTypesByStatus[he.Code]; ok {
		return pt.with(detail)
	}
	return &problem{Type: "about:blank", Title: http.StatusText(he.Code), Status: he.Code, Detail: detail}
}

// apiFieldErrors are a validation error's messages by field, with the
// API's names for the fields.
func apiFieldErrors(ve *store.ValidationError) fieldErrors {
	var out fieldErrors
	for field, message := range ve.Fields {
		name := field
		if n, ok := apiFieldNames[field]; ok {
			name = n
		}
		out.add(name, message)
	}
	return out
}

// apiFieldNames maps the store's field names to the API's where they differ.
var apiFieldNames = map[string]string{"expires": "expiresAt", "logo": "icon"}

// fieldMessages returns the message per field of a validation error, and
// whether err is one: what a form shows beside its fields.
func fieldMessages(err error) (map[string]string, bool) {
	var ve *store.ValidationError
	if !errors.As(err, &ve) {
		return nil, false
	}
	return ve.Fields, true
}

// problemOf is problemFor, with the cause of a server error logged; ok is
// false when the response has begun already and nothing more can be sent.
func (s *Server) problemOf(c echo.Context, err error) (*problem, bool) {
	r := c.Request()
	if c.Response().Committed {
		s.log.Error("error after the response began", slog.String("path", r.URL.Path), slog.Any("err", err))
		return nil, false
	}
	p := problemFor(err)
	if p.Status >= 500 {
		s.log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("traceId", traceID(c)), slog.Any("err", err))
	}
	return p, true
}

// handlePageError answers an error on a page: an error page that says what
// went wrong, with a way back; or, to a script that asks for JSON, the
// problem itself.
func (s *Server) handlePageError(err error, c echo.Context) {
	p, ok := s.problemOf(c, err)
	if !ok {
		return
	}
	p.writeHeaders(c)
	switch {
	case wantsJSON(c.Request()):
		s.sendProblem(c, p)
	case c.Request().Method == http.MethodHead:
		c.NoContent(p.Status)
	default:
		if session(c) == nil && len(c.Request().CookiesNamed(s.cookieName)) > 0 {
			// An address no route has (404, 405) passed no page chain:
			// read the session here, so the page still shows who is
			// signed in. It is only a page header; failing to is no error.
			// A visitor without the cookie gets no session made for a
			// page of errors: scanners ask for thousands of them.
			_ = s.loadSession(func(echo.Context) error { return nil })(c)
		}
		page, _ := s.page(c, p.Title)
		if err := render(c, p.Status, templates.ErrorPage(page, p.Status, p.Title, p.Detail)); err != nil {
			s.log.Error("render error page", slog.Any("err", err))
			c.String(p.Status, p.Title+"\n")
		}
	}
}

// errNoSuchAPIAddress is the API's answer to an address it does not have.
var errNoSuchAPIAddress = problemNotFound.with("There is nothing at this address. The API is described at " + paths.OpenAPI + ".")

// handleAPIError answers every error of the API with problem details.
func (s *Server) handleAPIError(err error, c echo.Context) {
	if errors.Is(err, echo.ErrNotFound) {
		err = errNoSuchAPIAddress // from the router, which knows no such route
	}
	if p, ok := s.problemOf(c, err); ok {
		p.writeHeaders(c)
		s.sendProblem(c, p)
	}
}

// sendProblem writes a problem as application/problem+json.
func (s *Server) sendProblem(c echo.Context, p *problem) {
	// A copy: problems of a fixed kind (errNoSuchAPIAddress) are shared.
	withTrace := *p
	withTrace.TraceID = traceID(c)
	p = &withTrace
	// Not HTML-escaped: a detail such as "Bearer <token>" reads as written.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		s.log.Error("encode problem", slog.Any("err", err))
		c.NoContent(http.StatusInternalServerError)
		return
	}
	c.Blob(p.Status, "application/problem+json", b.Bytes())
}

// wantsJSON reports whether the request asks for JSON rather than a page,
// as the pages' scripts do.
func wantsJSON(r *http.Request) bool {
	for _, accept := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(accept, ",") {
			media, _, err := mime.ParseMediaType(part)
			if err == nil && (media == echo.MIMEApplicationJSON || media == "application/problem+json") {
				return true
			}
		}
	}
	return false
}
