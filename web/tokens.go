package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// actor is the signed-in user acting from the request's address.
func actor(c echo.Context) (store.User, store.Actor) {
	u, _ := currentUser(c)
	return u, store.UserActor(u.ID, c.RealIP())
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
	v := templates.ListView{Query: q, Modules: mods, Users: users}
	if err == nil {
		v.Page, err = s.store.ListTokens(ctx, u.AccountID, f)
	}
	status := http.StatusOK
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		status, v.Errors = http.StatusBadRequest, ve.Fields
	} else if err != nil {
		return err
	}
	p, err := s.page(c, "API tokens")
	if err != nil {
		return err
	}
	return render(c, status, templates.TokenList(p, v))
}

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
	return scheme + "://" + c.Request().Host + "/public/v1/accounts/api-tokens"
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
			s.flash(c, "success", alreadyMessage(t))
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
	s.flash(c, "success", fmt.Sprintf("The API token %s (%s) has been deleted successfully.", templates.Quote(t.Name), t.ID))
	return c.Redirect(http.StatusSeeOther, paths.Tokens)
}

func (s *Server) handleTokenSetStatus(status store.TokenStatus) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, by := actor(c)
		t, changed, err := s.store.SetTokenStatus(c.Request().Context(), u.AccountID, c.Param("id"), status, by)
		if err != nil {
			return err
		}
		msg := alreadyMessage(t)
		if changed {
			verb := "disabled"
			if status == store.StatusActive {
				verb = "enabled"
			}
			msg = fmt.Sprintf("The API token %s has been %s. Its status is now %s.", templates.Quote(t.Name), verb, t.State(s.now()))
		}
		s.flash(c, "success", msg)
		return c.Redirect(http.StatusSeeOther, templates.ParseOrigin(postValue(c, "from")).Path(t.ID))
	}
}

// alreadyMessage answers a request for the state a token is already in.
func alreadyMessage(t store.Token) string {
	return fmt.Sprintf("The API token %s is already %s; nothing was changed.", templates.Quote(t.Name), strings.ToLower(string(t.Status)))
}
