package web

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
)

// revealWindow is how long a password confirmation lets a person show token
// values without being asked again.
const revealWindow = 10 * time.Minute

// errPasswordRequired asks for the password before a token value is shown.
var errPasswordRequired = problemPasswordRequired.with("Confirm your password to show the token value.")

// handleTokenReveal shows a token's secret again. It asks for the person's
// password unless they gave it in the last revealWindow, shows at most
// revealLimit values a person a minute, records the reveal in the audit
// trail, and is never cached. A script that asks for JSON gets
// {"token": …}, or the problem (password required, wrong, or too many
// tries) to show in its dialog; a browser without one gets a page.
func (s *Server) handleTokenReveal(c echo.Context) error {
	u, by := actor(c)
	ctx := c.Request().Context()
	t, err := s.store.TokenByID(ctx, u.AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	if k := unknownField(c.Request(), revealFields); k != "" {
		return s.askPassword(c, t, problemValidation.with(unexpectedField(k)))
	}
	if err := s.confirmPassword(c, u, t); err != nil {
		return s.askPassword(c, t, err)
	}
	// Even within the confirmation's window, values are shown at a
	// person's pace, not a script's.
	wait, err := s.reveals.reserve(ctx, u.ID, s.now())
	if err != nil {
		return err
	}
	if wait > 0 {
		s.log.Warn("token value not shown: too many", slog.String("user", u.ID), slog.String("token", t.ID), slog.String("ip", c.RealIP()))
		return problemTooManyRequests.retryAfter("Too many token values were shown in the last minute.", wait)
	}
	secret, err := s.store.RevealSecret(ctx, u.AccountID, t.ID, by)
	if err != nil {
		return err
	}
	if wantsJSON(c.Request()) {
		return c.JSON(http.StatusOK, map[string]string{"token": secret})
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
		Tab: templates.TabGeneral, Endpoint: s.endpoint(), Secret: secret, Previous: previous,
	}))
}

// confirmPassword makes sure the person gave their password within the
// last revealWindow: at sign-in, before, or in this request. Wrong
// passwords are limited per user, counted before the password is checked so
// that tries sent at once cannot slip past the limit.
func (s *Server) confirmPassword(c echo.Context, u store.User, t store.Token) error {
	ctx := c.Request().Context()
	sid, _ := session(c).Values[keySessionID].(string)
	confirmed, err := s.store.SessionConfirmedAt(ctx, sid)
	if err != nil || s.now().Sub(confirmed) < revealWindow {
		return err
	}
	password := postValue(c, "password")
	if password == "" {
		return errPasswordRequired
	}
	if err := reserveAll(ctx, s.now(), limitedBy{s.confirms, u.ID, "Too many wrong passwords."}); err != nil {
		return err
	}
	err = s.store.ConfirmPassword(ctx, sid, password)
	if errors.Is(err, store.ErrInvalidCredentials) {
		s.log.Warn("password confirmation failed", slog.String("user", u.ID), slog.String("token", t.ID), slog.String("ip", c.RealIP()))
		return err
	}
	if err == nil {
		err = s.confirms.succeed(ctx, u.ID, s.now())
	}
	return err
}

// askPassword answers a reveal that needs the password first: a script
// gets the problem; a browser without one, the password page saying what
// is wrong. Errors that are not about the password are answered as errors.
func (s *Server) askPassword(c echo.Context, t store.Token, err error) error {
	p := problemFor(err)
	if wantsJSON(c.Request()) || p.Status >= 500 || p.Status == http.StatusNotFound {
		return err
	}
	p.writeHeaders(c)
	message := p.Detail
	if p == errPasswordRequired {
		message = "" // the page asks for it already
	}
	page, perr := s.page(c, "Confirm your password")
	if perr != nil {
		return perr
	}
	status := p.Status
	if p.is(problemValidation) {
		// The form shown again with what to fix, as Add and Edit answer.
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, templates.PasswordConfirm(page, t, message))
}

// handleTokenLogo serves a token's logo, a PNG this server encoded.
func (s *Server) handleTokenLogo(c echo.Context) error {
	u, _ := currentUser(c)
	logo, err := s.store.TokenLogo(c.Request().Context(), u.AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	if logo == nil {
		return problemNotFound.with("This API token has no logo.")
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=300")
	return c.Blob(http.StatusOK, "image/png", logo)
}
