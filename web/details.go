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
	var usage store.Usage
	switch tab {
	case templates.TabUsage:
		if usage, err = s.store.TokenUsage(ctx, u.AccountID, t.ID); err != nil {
			return err
		}
	case templates.TabAudit:
		if audit, err = s.auditView(c, u.AccountID, store.AuditFilter{TokenID: t.ID}, paths.Token(t.ID)); err != nil {
			return err
		}
	case templates.TabModules, templates.TabDetails:
	default:
		tab = templates.TabGeneral
	}
	previous, err := s.previousUsage(c, t)
	if err != nil {
		return err
	}
	p, err := s.page(c, t.Name)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.TokenDetails(p, t, templates.DetailsView{
		Tab: tab, Audit: audit, Usage: usage, Endpoint: s.endpoint(), Previous: previous,
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
			// A dialog's script asks for the page only for what it says of
			// the token's use: a message for later would surprise.
			if !fetchedByScript(c.Request()) {
				s.flashNotAllowed(c, t, a)
			}
			return c.Redirect(http.StatusSeeOther, origin.Path(t.ID))
		}
		return s.renderConfirm(c, t, a, origin, templates.ConfirmView{}, http.StatusOK)
	}
}

// renderConfirm answers with the confirmation page of an action on t. For
// an action that stops the token working, the page says what the token has
// been doing lately: the dialogs take those words from it.
func (s *Server) renderConfirm(c echo.Context, t store.Token, a store.TokenAction, origin templates.Origin, v templates.ConfirmView, status int) error {
	confirm := templates.ConfirmationOf(a)
	if a.Stops() {
		sum, err := s.store.SummarizeUsage(c.Request().Context(), t.AccountID, []string{t.ID})
		if err != nil {
			return err
		}
		v.Usage = templates.NoteUsage(sum, s.now(), 1)
	}
	p, err := s.page(c, confirm.Title)
	if err != nil {
		return err
	}
	return render(c, status, templates.TokenConfirm(p, t, confirm, origin, v))
}

// changeActor is who makes the confirmed action a on the token of the
// request, with the reason they gave. A reason the audit trail would refuse
// is answered here, with the confirmation page again and what was wrong:
// done is then set, and nothing changed.
func (s *Server) changeActor(c echo.Context, a store.TokenAction) (u store.User, by store.Actor, done bool, err error) {
	u, by = actor(c)
	if !a.Stops() {
		// Only the actions that stop a token ask why.
		return u, by, false, nil
	}
	reason, err := store.CheckReason(postValue(c, "reason"))
	fields, invalid := fieldMessages(err)
	if !invalid {
		return u, by.WithReason(reason), false, err
	}
	t, err := s.store.TokenByID(c.Request().Context(), u.AccountID, c.Param("id"))
	if err != nil {
		return u, by, true, err
	}
	v := templates.ConfirmView{Reason: postValue(c, "reason"), Problem: fields["reason"]}
	return u, by, true, s.renderConfirm(c, t, a, templates.ParseOrigin(postValue(c, "from")), v, http.StatusBadRequest)
}

func (s *Server) handleTokenDelete(c echo.Context) error {
	u, by, done, err := s.changeActor(c, store.ActionDelete)
	if done || err != nil {
		return err
	}
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
		u, by, done, err := s.changeActor(c, a)
		if done || err != nil {
			return err
		}
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
