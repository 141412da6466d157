package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// handleTokenDetails is the details page of a token, on one of its tabs.
func (s *Server) handleTokenDetails(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	t, err := s.store.TokenByID(ctx, u.AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	tab := c.QueryParam("tab")
	var audit templates.AuditView
	switch tab {
	case templates.TabAudit:
		if audit, err = s.auditView(c, u.AccountID, store.AuditFilter{TokenID: t.ID}, paths.Token(t.ID)); err != nil {
			return err
		}
	case templates.TabModules, templates.TabDetails:
	default:
		tab = templates.TabGeneral
	}
	p, err := s.page(c, t.Name)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.TokenDetails(p, t, templates.DetailsView{
		Tab: tab, Audit: audit, Endpoint: s.endpoint(),
	}))
}

// endpoint is the address of the tokens API, under the configured public
// URL: never the request's Host header, which the client chooses.
func (s *Server) endpoint() string {
	return s.publicOrigin() + paths.APITokens
}

// handleTokenConfirm is the confirmation page of an action, for browsers
// without JavaScript; with it, the same question comes as a dialog.
func (s *Server) handleTokenConfirm(a store.TokenAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, _ := currentUser(c)
		t, err := s.store.TokenByID(c.Request().Context(), u.AccountID, c.Param("id"))
		if err != nil {
			return err
		}
		origin := templates.ParseOrigin(c.QueryParam("from"))
		if !t.Allows(a, s.now()) {
			s.flashNotAllowed(c, t, a)
			return c.Redirect(http.StatusSeeOther, origin.Path(t.ID))
		}
		confirm := templates.ConfirmationOf(a)
		p, err := s.page(c, confirm.Title)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.TokenConfirm(p, t, confirm, origin))
	}
}

func (s *Server) handleTokenDelete(c echo.Context) error {
	u, by := actor(c)
	t, err := s.store.DeleteToken(c.Request().Context(), u.AccountID, c.Param("id"), by)
	if err != nil {
		return err
	}
	s.flash(c, flashSuccess, templates.TokenMessage(t, templates.DidDelete))
	return c.Redirect(http.StatusSeeOther, paths.Tokens)
}

// handleTokenSetStatus enables or disables a token (a is ActionEnable or
// ActionDisable) and goes back where the action was asked for. A token past
// its expiry date is renewed by Edit instead, which the store enforces:
// either action would leave the API refusing it.
func (s *Server) handleTokenSetStatus(a store.TokenAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, by := actor(c)
		back := templates.ParseOrigin(postValue(c, "from"))
		t, changed, err := s.store.SetTokenStatus(c.Request().Context(), u.AccountID, c.Param("id"), a.Status(), by)
		switch {
		case errors.Is(err, store.ErrTokenExpired):
			s.flashNotAllowed(c, t, a)
		case err != nil:
			return err
		default:
			s.flash(c, flashSuccess, templates.StatusMessage(t, a, changed))
		}
		return c.Redirect(http.StatusSeeOther, back.Path(t.ID))
	}
}

// flashNotAllowed answers a request for an action the token does not allow
// now: it is in that state already, which is no harm, or past its expiry
// date, which the person should know.
func (s *Server) flashNotAllowed(c echo.Context, t store.Token, a store.TokenAction) {
	if t.Allows(store.ActionRenew, s.now()) {
		s.flash(c, flashWarning, templates.TokenMessage(t, templates.NeedsRenewal))
		return
	}
	s.flash(c, flashSuccess, templates.StatusMessage(t, a, false))
}
