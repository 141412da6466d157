package web

import (
	"fmt"
	"net/http"
	"strings"

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
	var events []store.AuditEvent
	switch tab {
	case templates.TabAudit:
		if events, err = s.store.AuditEvents(ctx, u.AccountID, t.ID); err != nil {
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
		Tab: tab, Events: events, Endpoint: s.endpoint(c), ShowEndpoint: c.QueryParam("show") == "endpoint",
	}))
}

// endpoint is the address of the tokens API as this request reached the server.
func (s *Server) endpoint(c echo.Context) string {
	scheme := "http"
	if s.isHTTPS(c) {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host + paths.APITokens
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
		if !t.Allows(a) {
			s.flash(c, flashSuccess, alreadyMessage(t))
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
	s.flash(c, flashSuccess, fmt.Sprintf("The API token %s (%s) has been deleted successfully.", templates.Quote(t.Name), t.ID))
	return c.Redirect(http.StatusSeeOther, paths.Tokens)
}

// handleTokenSetStatus enables or disables a token (a is ActionEnable or
// ActionDisable) and goes back where the action was asked for.
func (s *Server) handleTokenSetStatus(a store.TokenAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, by := actor(c)
		t, changed, err := s.store.SetTokenStatus(c.Request().Context(), u.AccountID, c.Param("id"), a.Status(), by)
		if err != nil {
			return err
		}
		msg := alreadyMessage(t)
		if changed {
			verb := "disabled"
			if a == store.ActionEnable {
				verb = "enabled"
			}
			msg = fmt.Sprintf("The API token %s has been %s. Its status is now %s.", templates.Quote(t.Name), verb, t.State(s.now()))
		}
		s.flash(c, flashSuccess, msg)
		return c.Redirect(http.StatusSeeOther, templates.ParseOrigin(postValue(c, "from")).Path(t.ID))
	}
}

// alreadyMessage answers a request for the state a token is already in.
func alreadyMessage(t store.Token) string {
	return fmt.Sprintf("The API token %s is already %s; nothing was changed.", templates.Quote(t.Name), strings.ToLower(string(t.Status)))
}
