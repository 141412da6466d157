package web

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/web/paths"
)

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
	// PreviousTokenExpiresAt is when the secret the token had before its
	// rotation stops working; null when it works no more.
	PreviousTokenExpiresAt *time.Time `json:"previousTokenExpiresAt"`
	// AllowedAddresses are where the token may be used from; [] for
	// anywhere.
	AllowedAddresses []string `json:"allowedAddresses"`
	Account          apiRef   `json:"account"`
	Modules          []apiRef `json:"modules"`
	Audit            struct {
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
	Data []any `json:"data"` // apiToken, or what select= keeps of one
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) toAPIToken(t store.Token, acc store.Account) apiToken {
	out := apiToken{
		ID:               t.ID,
		Name:             t.Name,
		Description:      t.Description,
		Status:           string(t.State(s.now())),
		LastAccessAt:     optionalTime(t.LastAccessAt),
		ExpiresAt:        optionalTime(t.ExpiresAt),
		Account:          apiRef{ID: acc.ID, Name: acc.Name},
		Modules:          make([]apiRef, 0, len(t.Modules)),
		AllowedAddresses: t.AllowedAddresses.Strings(),
	}
	if now := s.now(); t.PreviousWorks(now) {
		out.PreviousTokenExpiresAt = &t.PreviousUntil
	}
	if t.HasLogo {
		icon := paths.APITokenIcon(t.ID)
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
	q, err := parseListQuery(c.Request().URL.RawQuery)
	if err != nil {
		return err
	}
	acc := callerAccount(c)
	var out apiTokenPage
	if q.countOnly {
		total, err := s.store.CountTokens(c.Request().Context(), acc.ID, q.filter)
		if err != nil {
			return err
		}
		out.Meta.Pagination.Offset, out.Meta.Pagination.Total, out.Data = q.filter.Offset, total, []any{}
		return c.JSON(http.StatusOK, out)
	}
	page, err := s.store.ListTokens(c.Request().Context(), acc.ID, q.filter)
	if err != nil {
		return err
	}
	out.Meta.Pagination.Offset, out.Meta.Pagination.Limit, out.Meta.Pagination.Total = page.Offset, page.Limit, page.Total
	out.Data = make([]any, 0, len(page.Tokens))
	for _, t := range page.Tokens {
		v, err := q.sel.apply(s.toAPIToken(t, acc))
		if err != nil {
			return err
		}
		out.Data = append(out.Data, v)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleAPITokenGet(c echo.Context) error {
	sel, err := selectParam(c)
	if err != nil {
		return err
	}
	// A token asking about itself was read whole a moment ago, to
	// authenticate this very request.
	t := callerToken(c)
	if c.Param("id") != t.ID {
		if t, err = s.store.TokenByID(c.Request().Context(), t.AccountID, c.Param("id")); err != nil {
			return err
		}
	}
	v, err := sel.apply(s.toAPIToken(t, callerAccount(c)))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// Members of a token a client may send, and those it may only read. A
// read-only or unknown member is refused rather than ignored, so that an
// attempt to set the status or secret of a token never looks as if it
// worked; an update takes a read-only member back unchanged. account may
// be sent, but only as the caller's own.
var (
	createMembers   = []string{"account", "name", "description", "icon", "modules", "expiresAt", "allowedAddresses"}
	updateMembers   = []string{"account", "name", "description", "icon", "modules", "allowedAddresses"}
	readOnlyMembers = []string{"id", "status", "lastAccessAt", "expiresAt", "previousTokenExpiresAt", "audit", "token"}
)

// maxAPITokenBody is how large a create or update may be: room for an icon
// of store.MaxLogoBytes as a base64 data URL, beside the other members.
var maxAPITokenBody = maxBody + int64(base64.StdEncoding.EncodedLen(store.MaxLogoBytes))

// limitAPITokenBodies is the limit of the API's create and update.
var limitAPITokenBodies = limitBody(maxAPITokenBody, fmt.Sprintf(
	"What was sent is too large. At most %d KB is accepted here, with an icon of at most %d KB.",
	maxAPITokenBody>>10, store.MaxLogoBytes>>10))

// ownAccount checks the account member: a token is made and kept in the
// account of the token that calls, so account may be left out or name that
// account, and nothing else.
func (o *jsonObject) ownAccount(accountID string) {
	var id string
	if o.ref("account", &id) && id != accountID {
		o.fail("account.id", "account.id must be your own account, "+accountID+", or be left out: "+
			"an API token manages the tokens of its own account only.")
	}
}

func (s *Server) handleAPITokenCreate(c echo.Context) error {
	body, err := readJSONObject(c)
	if err != nil {
		return err
	}
	caller := callerToken(c)
	n := store.NewToken{AccountID: caller.AccountID, Grantable: caller.Modules}
	body.ownAccount(caller.AccountID)
	body.string("name", &n.Name)
	body.string("description", &n.Description)
	body.icon(&n.Logo)
	body.refList("modules", &n.ModuleIDs)
	// A client that sends a range of every address means it: no box to
	// tick here.
	n.AllowEveryone = body.stringList("allowedAddresses", &n.AllowedAddresses)
	if _, ok := body.members["expiresAt"]; ok && !body.null("expiresAt") {
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
	c.Response().Header().Set(echo.HeaderLocation, paths.APIToken(t.ID))
	return c.JSON(http.StatusCreated, apiCreatedToken{apiToken: s.toAPIToken(t, callerAccount(c)), Token: secret})
}

// handleAPITokenUpdate changes name, description, icon, modules and
// allowed addresses. A
// member left out keeps its value, so a client that sends only a new name
// loses nothing; read-only members may come back as a read showed them.
func (s *Server) handleAPITokenUpdate(c echo.Context) error {
	ctx, caller, id := c.Request().Context(), callerToken(c), c.Param("id")
	// The token is looked up before the body is read: to a client, an ID
	// that is not there is the answer, whatever it meant to change.
	current, err := s.store.TokenByID(ctx, caller.AccountID, id)
	if err != nil {
		return err
	}
	body, err := readJSONObject(c)
	if err != nil {
		return err
	}
	body.dropUnchanged(s.toAPIToken(current, callerAccount(c)))
	// Members left out keep their stored values; the store reads those in
	// the same transaction as the write, so concurrent updates of
	// different members do not undo each other.
	u := store.TokenUpdate{Only: []string{}, Grantable: caller.Modules}
	body.ownAccount(caller.AccountID)
	if body.string("name", &u.Name) {
		u.Only = append(u.Only, store.FieldName)
	}
	if body.string("description", &u.Description) {
		u.Only = append(u.Only, store.FieldDescription)
	}
	// The icon's own address, as a read of the token shows it, is sent
	// back by a client that changes something else: it keeps the icon.
	if logo := []byte{}; !body.is("icon", paths.APITokenIcon(id)) && body.icon(&logo) {
		u.Logo = &logo
	}
	if body.refList("modules", &u.ModuleIDs) {
		u.Only = append(u.Only, store.FieldModules)
	}
	if body.stringList("allowedAddresses", &u.AllowedAddresses) {
		u.Only, u.AllowEveryone = append(u.Only, store.FieldAddresses), true
	}
	body.refuseOthers(updateMembers)
	if err := body.err(u.Validate); err != nil {
		return err
	}
	t, _, err := s.store.UpdateToken(ctx, caller.AccountID, id, u, apiActor(c))
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

// handleAPITokenSetStatus enables or disables a token (a is ActionEnable or
// ActionDisable). Asking for the state it is in already is not an error: the
// answer shows the token as it is.
func (s *Server) handleAPITokenSetStatus(a store.TokenAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		t, _, err := s.store.SetTokenStatus(c.Request().Context(), callerToken(c).AccountID, c.Param("id"), a.Status(), apiActor(c))
		if err != nil {
			return err
		}
		return s.sendToken(c, http.StatusOK, t)
	}
}

// handleAPITokenRotate gives a token a new secret, in the answer this once
// as a create's; the one it replaces works on for gracePeriod (ISO 8601,
// PT24H when the body or the member is left out). The token may be the
// caller: its secret then becomes the previous one.
func (s *Server) handleAPITokenRotate(c echo.Context) error {
	ctx, caller, id := c.Request().Context(), callerToken(c), c.Param("id")
	// As for an update: an ID that is not there is the answer, whatever
	// the body says.
	if _, err := s.store.TokenByID(ctx, caller.AccountID, id); err != nil {
		return err
	}
	grace := store.DefaultGracePeriod
	if c.Request().ContentLength != 0 {
		body, err := readJSONObject(c)
		if err != nil {
			return err
		}
		var v string
		if _, ok := body.members["gracePeriod"]; ok && body.string("gracePeriod", &v) {
			if grace, err = store.ParseGracePeriod(v); err != nil {
				body.fail("gracePeriod", store.MsgGracePeriod)
			}
		}
		body.refuseOthers([]string{"gracePeriod"})
		if err := body.err(func() error { return nil }); err != nil {
			return err
		}
	}
	t, secret, err := s.store.RotateSecret(ctx, caller.AccountID, id, store.Rotation{Grace: grace, Grantable: caller.Modules}, apiActor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiCreatedToken{apiToken: s.toAPIToken(t, callerAccount(c)), Token: secret})
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

// handleOpenAPI serves the API's description.
func handleOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}
