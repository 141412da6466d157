package web

import (
	"errors"
	"maps"
	"net/http"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// keyRotatedDue holds the ID of the token whose rotation has not shown its
// new secret yet: as after Add, the secret itself never leaves the server
// but on that page.
const keyRotatedDue = "rotated_due"

// handleTokenRotateForm asks how long the current secret keeps working.
func (s *Server) handleTokenRotateForm(c echo.Context) error {
	u, _ := currentUser(c)
	t, err := s.store.TokenByID(c.Request().Context(), u.AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	origin := templates.ParseOrigin(c.QueryParam("from"))
	if !t.Allows(store.ActionRotate, s.now()) {
		s.flashNotAllowed(c, t, store.ActionRotate)
		return c.Redirect(http.StatusSeeOther, origin.Path(t.ID))
	}
	return s.renderRotate(c, t, origin, templates.RotateView{}, http.StatusOK)
}

func (s *Server) renderRotate(c echo.Context, t store.Token, origin templates.Origin, v templates.RotateView, status int) error {
	p, err := s.page(c, "Rotate secret")
	if err != nil {
		return err
	}
	return render(c, status, templates.TokenRotate(p, t, origin, v))
}

// handleTokenRotate gives the token a new secret and leads to the page that
// shows it, once. A grace period or reason that is not one is answered with
// the form again, nothing changed.
func (s *Server) handleTokenRotate(c echo.Context) error {
	u, by := actor(c)
	ctx, id := c.Request().Context(), c.Param("id")
	origin := templates.ParseOrigin(postValue(c, "from"))
	v := templates.RotateView{Grace: postValue(c, "grace"), Reason: postValue(c, "reason"), Errors: map[string]string{}}
	if k := unknownField(c.Request(), rotateFields); k != "" {
		v.Errors["form"] = unexpectedField(k)
	}
	grace, err := store.ParseGracePeriod(v.Grace)
	if fields, ok := fieldMessages(err); ok {
		maps.Copy(v.Errors, fields)
	}
	reason, err := store.CheckReason(v.Reason)
	if fields, ok := fieldMessages(err); ok {
		maps.Copy(v.Errors, fields)
	}
	if len(v.Errors) > 0 {
		t, err := s.store.TokenByID(ctx, u.AccountID, id)
		if err != nil {
			return err
		}
		status := http.StatusBadRequest
		if v.Errors["form"] != "" {
			status = http.StatusUnprocessableEntity // as every form answers a field it does not have
		}
		return s.renderRotate(c, t, origin, v, status)
	}
	t, _, err := s.store.RotateSecret(ctx, u.AccountID, id, store.Rotation{Grace: grace}, by.WithReason(reason))
	if errors.Is(err, store.ErrTokenExpired) {
		t, err = s.store.TokenByID(ctx, u.AccountID, id)
		if err != nil {
			return err
		}
		s.flashNotAllowed(c, t, store.ActionRotate)
		return c.Redirect(http.StatusSeeOther, origin.Path(id))
	}
	if err != nil {
		return err
	}
	// As after Add: a redirect, so that reload asks for a page rather
	// than rotate again, to a page that reads the secret from the store.
	sess := session(c)
	sess.Values[keyRotatedDue] = t.ID
	if err := s.saveSession(c, sess); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, paths.TokenRotated(t.ID)+origin.Query())
}

// handleTokenRotated shows the new secret the first time; later (Back,
// reload) it says where to show it again.
func (s *Server) handleTokenRotated(c echo.Context) error {
	u, _ := currentUser(c)
	t, err := s.store.TokenByID(c.Request().Context(), u.AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	secret, err := s.takeDueSecret(c, keyRotatedDue, t)
	if err != nil {
		return err
	}
	p, err := s.page(c, "Secret rotated")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.TokenRotated(p, t, secret, templates.ParseOrigin(c.QueryParam("from"))))
}

// takeDueSecret returns the secret of t when the session says its showing
// is due under key, and says it is due no more; "" otherwise. Only a GET
// takes it, so that a HEAD never uses up the one showing.
func (s *Server) takeDueSecret(c echo.Context, key string, t store.Token) (string, error) {
	sess := session(c)
	if due, _ := sess.Values[key].(string); due != t.ID || c.Request().Method != http.MethodGet {
		return "", nil
	}
	delete(sess.Values, key)
	if err := s.saveSession(c, sess); err != nil {
		return "", err
	}
	return s.store.NewSecret(c.Request().Context(), t.AccountID, t.ID)
}

// handleTokenEndPrevious stops a rotated token's previous secret now.
func (s *Server) handleTokenEndPrevious(c echo.Context) error {
	u, by := actor(c)
	if k := unknownField(c.Request(), []string{csrfField}); k != "" {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, unexpectedField(k))
	}
	t, ended, err := s.store.EndPreviousSecret(c.Request().Context(), u.AccountID, c.Param("id"), by)
	if err != nil {
		return err
	}
	if ended {
		s.flash(c, flashSuccess, templates.TokenMessage(t, templates.DidEndOld))
	} else {
		s.flash(c, flashSuccess, templates.TokenMessage(t, templates.DidEndedOld))
	}
	return c.Redirect(http.StatusSeeOther, paths.Token(t.ID))
}

// previousUsage is what the details page says of t's previous secret: its
// use since the rotation, while it works; nothing read otherwise.
func (s *Server) previousUsage(c echo.Context, t store.Token) (store.PreviousSecretUsage, error) {
	if !t.PreviousWorks(s.now()) {
		return store.PreviousSecretUsage{}, nil
	}
	return s.store.PreviousUsage(c.Request().Context(), t)
}
