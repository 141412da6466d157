package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
)

// The REST API answers under apiPrefix: bearer tokens instead of the session
// cookie, no CSRF (nothing ambient authenticates a call), and JSON problem
// details (RFC 9457) instead of error pages.
const (
	apiPrefix     = "/public/"
	apiBase       = "/public/v1"
	apiTokensPath = apiBase + "/accounts/api-tokens"
	// ctxToken is the Echo context key of the token that authenticated the call.
	ctxToken = "apiToken"
)

// isAPIPath reports whether a request path belongs to the REST API.
func isAPIPath(path string) bool { return strings.HasPrefix(path, apiPrefix) }

// apiState is what the API keeps between requests.
type apiState struct {
	access   *accessRecorder
	failures *failureLimiter
}

// registerAPIRoutes adds the REST API. Every route but the description
// needs a token with the Access management module.
func (s *Server) registerAPIRoutes() {
	s.api = apiState{
		access:   newAccessRecorder(s.store, s.now, s.log),
		failures: newFailureLimiter(authFailureBurst, authFailureInterval, authFailureClients),
	}
	e := s.echo
	e.GET(apiBase+"/openapi.json", s.handleOpenAPI)
	auth := []echo.MiddlewareFunc{s.requireToken, s.requireModule(store.ModuleAccessManagement)}
	e.GET(apiTokensPath, s.handleAPITokenList, auth...)
	e.POST(apiTokensPath, s.handleAPITokenCreate, auth...)
	e.GET(apiTokensPath+"/:id", s.handleAPITokenGet, auth...)
	e.PUT(apiTokensPath+"/:id", s.handleAPITokenUpdate, auth...)
	e.DELETE(apiTokensPath+"/:id", s.handleAPITokenDelete, auth...)
	e.POST(apiTokensPath+"/:id/enable", s.handleAPITokenSetStatus(store.StatusActive), auth...)
	e.POST(apiTokensPath+"/:id/disable", s.handleAPITokenSetStatus(store.StatusDisabled), auth...)
	e.GET(apiTokensPath+"/:id/icon", s.handleAPITokenIcon, auth...)
}

// callerToken is the token that authenticated the call.
func callerToken(c echo.Context) store.Token {
	t, _ := c.Get(ctxToken).(store.Token)
	return t
}

// apiActor is who the audit trail names for a change made through the API:
// the token itself, so the trail shows the token's name.
func apiActor(c echo.Context) store.Actor {
	return store.TokenActor(callerToken(c).ID, c.RealIP())
}

// apiRef names another object in a response.
type apiRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// apiAuditEntry is who did something to a token, and when.
type apiAuditEntry struct {
	At time.Time `json:"at"`
	By apiRef    `json:"by"`
}

// apiToken is a token as the API shows it. Its secret is never part of it.
type apiToken struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	Description  string     `json:"description"`
	Icon         *string    `json:"icon"`
	Status       string     `json:"status"`
	LastAccessAt *time.Time `json:"lastAccessAt"`
	ExpiresAt    *time.Time `json:"expiresAt"`
	Account      apiRef     `json:"account"`
	Modules      []apiRef   `json:"modules"`
	Audit        struct {
		Created apiAuditEntry `json:"created"`
		Updated apiAuditEntry `json:"updated"`
	} `json:"audit"`
}

// apiCreatedToken is the answer to a create: the token and, this once, its
// secret.
type apiCreatedToken struct {
	apiToken
	Token string `json:"token"`
}

// apiTokenPage is a page of the list.
type apiTokenPage struct {
	Meta struct {
		Pagination struct {
			Offset int `json:"offset"`
			Limit  int `json:"limit"`
			Total  int `json:"total"`
		} `json:"pagination"`
	} `json:"$meta"`
	Data []apiToken `json:"data"`
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) toAPIToken(t store.Token, acc store.Account) apiToken {
	out := apiToken{
		ID:           t.ID,
		Name:         t.Name,
		Description:  t.Description,
		Status:       strings.ToLower(string(t.State(s.now()))),
		LastAccessAt: optionalTime(t.LastAccessAt),
		ExpiresAt:    optionalTime(t.ExpiresAt),
		Account:      apiRef{ID: acc.ID, Name: acc.Name},
		Modules:      make([]apiRef, 0, len(t.Modules)),
	}
	if t.HasLogo {
		icon := apiTokensPath + "/" + t.ID + "/icon"
		out.Icon = &icon
	}
	for _, m := range t.Modules {
		out.Modules = append(out.Modules, apiRef{ID: m.ID, Name: m.Name})
	}
	out.Audit.Created = apiAuditEntry{At: t.CreatedAt, By: apiRef{ID: t.CreatedBy.ID, Name: t.CreatedBy.Name}}
	out.Audit.Updated = apiAuditEntry{At: t.UpdatedAt, By: apiRef{ID: t.UpdatedBy.ID, Name: t.UpdatedBy.Name}}
	return out
}

// callerAccount is the account of the token that authenticated the call;
// TokenBySecret read it with the token, so this costs no query.
func callerAccount(c echo.Context) store.Account {
	t := callerToken(c)
	return store.Account{ID: t.AccountID, Name: t.AccountName}
}

// sendToken answers with one token.
func (s *Server) sendToken(c echo.Context, status int, t store.Token) error {
	return c.JSON(status, s.toAPIToken(t, callerAccount(c)))
}

func (s *Server) handleAPITokenList(c echo.Context) error {
	f, err := pageParams(c)
	if err != nil {
		return err
	}
	acc := callerAccount(c)
	page, err := s.store.ListTokens(c.Request().Context(), acc.ID, f)
	if err != nil {
		return err
	}
	var out apiTokenPage
	out.Meta.Pagination.Offset, out.Meta.Pagination.Limit, out.Meta.Pagination.Total = page.Offset, page.Limit, page.Total
	out.Data = make([]apiToken, 0, len(page.Tokens))
	for _, t := range page.Tokens {
		out.Data = append(out.Data, s.toAPIToken(t, acc))
	}
	return c.JSON(http.StatusOK, out)
}

// pageParams reads offset and limit. Unlike the page, which forgives a bad
// offset, a client gets told: it may be paging through data it relies on.
func pageParams(c echo.Context) (store.TokenFilter, error) {
	f := store.TokenFilter{Limit: store.DefaultPageSize}
	var errs []fieldError
	q := c.QueryParams()
	if q.Has("offset") {
		n, err := strconv.Atoi(q.Get("offset"))
		if err != nil || n < 0 {
			errs = append(errs, fieldError{"offset", "offset must be a whole number, 0 or more."})
		}
		f.Offset = n
	}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > store.MaxPageSize {
			errs = append(errs, fieldError{"limit", fmt.Sprintf("limit must be a whole number from 1 to %d.", store.MaxPageSize)})
		}
		f.Limit = n
	}
	if len(errs) > 0 {
		p := problemInvalidParameters.with("Some query parameters are not valid; see errors.")
		p.Errors = errs
		return f, p
	}
	return f, nil
}

func (s *Server) handleAPITokenGet(c echo.Context) error {
	// A token asking about itself was read whole a moment ago, to
	// authenticate this very request.
	if caller := callerToken(c); c.Param("id") == caller.ID {
		return s.sendToken(c, http.StatusOK, caller)
	}
	t, err := s.store.TokenByID(c.Request().Context(), callerToken(c).AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	return s.sendToken(c, http.StatusOK, t)
}

// Members of a token a client may send, and those it may only read. A
// read-only or unknown member is refused rather than ignored, so that an
// attempt to set the status, account or secret of a token never looks as
// if it worked.
var (
	createMembers   = []string{"name", "description", "modules", "expiresAt"}
	updateMembers   = []string{"name", "description", "modules"}
	readOnlyMembers = []string{"id", "icon", "status", "lastAccessAt", "expiresAt", "account", "audit", "token"}
)

func (s *Server) handleAPITokenCreate(c echo.Context) error {
	body, err := readJSONObject(c)
	if err != nil {
		return err
	}
	n := store.NewToken{AccountID: callerToken(c).AccountID}
	body.string("name", &n.Name)
	body.string("description", &n.Description)
	body.stringList("modules", &n.ModuleIDs)
	if raw, ok := body.members["expiresAt"]; ok && string(raw) != "null" {
		var v string
		if body.string("expiresAt", &v) {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				body.fail("expiresAt", "expiresAt must be a date and time in RFC 3339 form, such as 2027-01-31T00:00:00Z.")
			}
			n.ExpiresAt = at
		}
	}
	body.refuseOthers(createMembers)
	if err := body.err(n.Validate); err != nil {
		return err
	}
	t, secret, err := s.store.CreateToken(c.Request().Context(), n, apiActor(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, apiTokensPath+"/"+t.ID)
	return c.JSON(http.StatusCreated, apiCreatedToken{apiToken: s.toAPIToken(t, callerAccount(c)), Token: secret})
}

// handleAPITokenUpdate changes name, description and modules. A member left
// out keeps its value, so a client that sends only a new name loses nothing.
func (s *Server) handleAPITokenUpdate(c echo.Context) error {
	body, err := readJSONObject(c)
	if err != nil {
		return err
	}
	ctx, caller := c.Request().Context(), callerToken(c)
	// Members left out keep their stored values; the store reads those in
	// the same transaction as the write, so concurrent updates of
	// different members do not undo each other.
	u := store.TokenUpdate{Only: []string{}}
	if body.string("name", &u.Name) {
		u.Only = append(u.Only, store.FieldName)
	}
	if body.string("description", &u.Description) {
		u.Only = append(u.Only, store.FieldDescription)
	}
	if _, ok := body.members["modules"]; ok {
		body.stringList("modules", &u.ModuleIDs)
		u.Only = append(u.Only, store.FieldModules)
	}
	body.refuseOthers(updateMembers)
	if err := body.err(u.Validate); err != nil {
		return err
	}
	t, _, err := s.store.UpdateToken(ctx, caller.AccountID, c.Param("id"), u, apiActor(c))
	if err != nil {
		return err
	}
	return s.sendToken(c, http.StatusOK, t)
}

func (s *Server) handleAPITokenDelete(c echo.Context) error {
	if _, err := s.store.DeleteToken(c.Request().Context(), callerToken(c).AccountID, c.Param("id"), apiActor(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleAPITokenSetStatus enables or disables a token. Asking for the state
// it is in already is not an error: the answer shows the token as it is.
func (s *Server) handleAPITokenSetStatus(status store.TokenStatus) echo.HandlerFunc {
	return func(c echo.Context) error {
		t, _, err := s.store.SetTokenStatus(c.Request().Context(), callerToken(c).AccountID, c.Param("id"), status, apiActor(c))
		if err != nil {
			return err
		}
		return s.sendToken(c, http.StatusOK, t)
	}
}

func (s *Server) handleAPITokenIcon(c echo.Context) error {
	ctx, account := c.Request().Context(), callerToken(c).AccountID
	logo, err := s.store.TokenLogo(ctx, account, c.Param("id"))
	if err != nil {
		return err
	}
	if logo == nil {
		return problemNotFound.with("This API token has no icon.")
	}
	return c.Blob(http.StatusOK, "image/png", logo)
}

// jsonObject is a request body that is a JSON object, read member by member
// so that each bad member gets its own message.
type jsonObject struct {
	members map[string]json.RawMessage
	errs    []fieldError
}

// readJSONObject reads the request body, which must be a JSON object sent
// as application/json.
func readJSONObject(c echo.Context) (*jsonObject, error) {
	r := c.Request()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return nil, he // over the size limit
		}
		return nil, problemMalformedBody.with("The request body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, problemMalformedBody.with("The request body is empty; send a JSON object.")
	}
	media, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || media != echo.MIMEApplicationJSON ||
		(params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return nil, problemUnsupportedMediaType.with("Send the request body as JSON with Content-Type: application/json.")
	}
	o := &jsonObject{}
	if err := json.Unmarshal(body, &o.members); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, problemMalformedBody.with(fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntax.Offset))
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, problemMalformedBody.with("The request body ends in the middle of its JSON.")
		}
		return nil, problemMalformedBody.with("The request body must be a JSON object.")
	}
	if o.members == nil {
		return nil, problemMalformedBody.with("The request body must be a JSON object, not null.")
	}
	return o, nil
}

// fail records a message for a member, keeping the first.
func (o *jsonObject) fail(field, detail string) {
	for _, e := range o.errs {
		if e.Field == field {
			return
		}
	}
	o.errs = append(o.errs, fieldError{Field: field, Detail: detail})
}

// string reads a string member into dst, reporting whether it was there and
// a string.
func (o *jsonObject) string(name string, dst *string) bool {
	raw, ok := o.members[name]
	if !ok {
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil || string(raw) == "null" {
		o.fail(name, name+" must be a string.")
		return false
	}
	return true
}

// stringList reads a member that is a list of strings into dst.
func (o *jsonObject) stringList(name string, dst *[]string) {
	raw, ok := o.members[name]
	if !ok {
		return
	}
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil || string(raw) == "null" {
		o.fail(name, name+" must be a list of module IDs, such as [\"MOD-1234-5678\"].")
		return
	}
	*dst = v
}

// refuseOthers reports every member not in allowed.
func (o *jsonObject) refuseOthers(allowed []string) {
	names := make([]string, 0, len(o.members))
	for name := range o.members {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case slices.Contains(allowed, name):
		case slices.Contains(readOnlyMembers, name):
			o.fail(name, name+" cannot be set here.")
		default:
			o.fail(name, name+" is not a field of an API token.")
		}
	}
}

// err returns the problems found so far, with those validate finds in the
// values read, so that one answer lists everything to fix.
func (o *jsonObject) err(validate func() error) error {
	if len(o.errs) == 0 {
		return nil
	}
	var ve *store.ValidationError
	if errors.As(validate(), &ve) {
		for _, e := range validationErrors(ve) {
			o.fail(e.Field, e.Detail)
		}
	}
	p := problemValidation.with("The API token was not saved; see errors.")
	p.Errors = o.errs
	return p
}

// apiFieldNames maps the store's field names to the API's where they differ.
var apiFieldNames = map[string]string{"expires": "expiresAt", "logo": "icon"}

// validationErrors lists a store validation error by API field name.
func validationErrors(ve *store.ValidationError) []fieldError {
	out := make([]fieldError, 0, len(ve.Fields))
	for field, msg := range ve.Fields {
		if name, ok := apiFieldNames[field]; ok {
			field = name
		}
		out = append(out, fieldError{Field: field, Detail: msg})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// fieldError is one invalid field of a request.
type fieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// problem is an RFC 9457 problem details object. Handlers return it as an
// error; handleAPIError sends it.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Errors []fieldError `json:"errors,omitempty"`
}

func (p *problem) Error() string { return p.Title + ": " + p.Detail }

// problemType is a kind of problem: its type URI never changes, so clients
// can branch on it; the detail says what happened this time.
type problemType struct {
	slug   string
	title  string
	status int
}

// problemTypeBase prefixes every problem type URI.
const problemTypeBase = "urn:apitokens:problem:"

// The API's problem types, all listed in openapi.json.
var (
	problemUnauthorized         = problemType{"unauthorized", "Unauthorized", http.StatusUnauthorized}
	problemInsufficientScope    = problemType{"insufficient-scope", "Insufficient scope", http.StatusForbidden}
	problemNotFound             = problemType{"not-found", "Not found", http.StatusNotFound}
	problemMethodNotAllowed     = problemType{"method-not-allowed", "Method not allowed", http.StatusMethodNotAllowed}
	problemBodyTooLarge         = problemType{"body-too-large", "Request body too large", http.StatusRequestEntityTooLarge}
	problemUnsupportedMediaType = problemType{"unsupported-media-type", "Unsupported media type", http.StatusUnsupportedMediaType}
	problemMalformedBody        = problemType{"malformed-body", "Malformed request body", http.StatusBadRequest}
	problemInvalidParameters    = problemType{"invalid-parameters", "Invalid query parameters", http.StatusBadRequest}
	problemValidation           = problemType{"validation-failed", "Validation failed", http.StatusUnprocessableEntity}
	problemTooManyFailures      = problemType{"too-many-failures", "Too many failed authentications", http.StatusTooManyRequests}
	problemServerError          = problemType{"server-error", "Internal server error", http.StatusInternalServerError}
)

func (pt problemType) with(detail string) *problem {
	return &problem{Type: problemTypeBase + pt.slug, Title: pt.title, Status: pt.status, Detail: detail}
}

// handleAPIError answers an error on an API path with problem details.
func (s *Server) handleAPIError(err error, c echo.Context) {
	var p *problem
	var ve *store.ValidationError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &p):
	case errors.Is(err, store.ErrNotFound):
		p = problemNotFound.with("There is no API token with this ID in your account.")
	case errors.As(err, &ve):
		p = problemValidation.with("The API token was not saved; see errors.")
		p.Errors = validationErrors(ve)
	case errors.As(err, &he) && he.Code == http.StatusNotFound:
		p = problemNotFound.with("There is nothing at this address. The API is described at " + apiBase + "/openapi.json.")
	case errors.As(err, &he) && he.Code == http.StatusMethodNotAllowed:
		p = problemMethodNotAllowed.with(c.Request().Method + " is not allowed here; the Allow header lists what is.")
	case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
		p = problemBodyTooLarge.with("The request body is larger than the 64 KB allowed.")
	case errors.As(err, &he) && he.Code < 500:
		p = &problem{Type: "about:blank", Title: http.StatusText(he.Code), Status: he.Code, Detail: http.StatusText(he.Code) + "."}
	default:
		s.log.Error("API request failed", slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path), slog.Any("err", err))
		p = problemServerError.with("The server could not complete the request. Nothing was changed; please try again.")
	}
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

// handleOpenAPI serves the API's description.
func (s *Server) handleOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}
