package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// safeNext returns next when it is a path on this site, and the list page
// otherwise, so the sign-in page cannot be used to send people elsewhere.
// Browsers drop tabs and newlines from URLs and read a backslash as a slash,
// so "/<tab>/evil.example" and "/\\evil.example" would both leave the site:
// any control character or backslash disqualifies.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return paths.Tokens
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return paths.Tokens
	}
	return next
}

func (s *Server) handleLoginPage(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if _, ok := currentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, next)
	}
	p, err := s.page(c, "Sign in")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.Login(p, "", next, ""))
}

func (s *Server) handleLogin(c echo.Context) error {
	email, password := postValue(c, "email"), postValue(c, "password")
	next := safeNext(postValue(c, "next"))
	client := clientKey(c.RealIP())
	if wait := s.signIns.reserve(client, s.now()); wait > 0 {
		// Refused before the password is checked, so guessing costs the
		// guesser time and the server no bcrypt.
		tooMany := tooManyAttempts("Too many failed sign-ins from your network.", wait)
		tooMany.writeHeaders(c)
		p, err := s.page(c, "Sign in")
		if err != nil {
			return err
		}
		return render(c, tooMany.Status, templates.Login(p, email, next, tooMany.Detail))
	}
	u, err := s.store.Authenticate(c.Request().Context(), email, password)
	if !errors.Is(err, store.ErrInvalidCredentials) {
		s.signIns.succeed(client, s.now())
	}
	if errors.Is(err, store.ErrInvalidCredentials) {
		p, err := s.page(c, "Sign in")
		if err != nil {
			return err
		}
		return render(c, http.StatusUnprocessableEntity,
			templates.Login(p, email, next, "The email or password is incorrect."))
	}
	if err != nil {
		return err
	}
	sid, err := s.store.CreateSession(c.Request().Context(), u.ID, sessionMaxAge)
	if err != nil {
		return err
	}
	// A new sign-in gets a new session: nothing from before it, not even
	// the CSRF token, carries over, and a session it replaces ends.
	sess := session(c)
	if old, ok := sess.Values[keySessionID].(string); ok {
		if err := s.store.EndSession(c.Request().Context(), old); err != nil {
			return err
		}
	}
	clear(sess.Values)
	sess.Values[keySessionID] = sid
	sess.Values[keyCSRF] = randomToken()
	if err := s.saveSession(c, sess); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) handleLogout(c echo.Context) error {
	sess := session(c)
	if sid, ok := sess.Values[keySessionID].(string); ok {
		// Ended in the store, the session is dead even for a copy of
		// the cookie.
		if err := s.store.EndSession(c.Request().Context(), sid); err != nil {
			return err
		}
	}
	clear(sess.Values)
	sess.Values[keyCSRF] = randomToken()
	s.flash(c, flashSuccess, "You have been signed out.")
	return c.Redirect(http.StatusSeeOther, paths.Login)
}
