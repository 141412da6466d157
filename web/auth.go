package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
)

// safeNext returns next when it is a path on this site, and the list page
// otherwise, so the sign-in page cannot be used to send people elsewhere.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") &&
		!strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return templates.TokensPath
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
	email, password := c.FormValue("email"), c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	u, err := s.store.Authenticate(c.Request().Context(), email, password)
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
	// A new sign-in gets a new session: nothing from before it, not even
	// the CSRF token, carries over.
	sess := session(c)
	clear(sess.Values)
	sess.Values[keyUserID] = u.ID
	sess.Values[keyCSRF] = randomToken()
	sess.Values[keyAuthAt] = s.now().Unix()
	if err := s.saveSession(c, sess); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) handleLogout(c echo.Context) error {
	sess := session(c)
	clear(sess.Values)
	sess.Values[keyCSRF] = randomToken()
	if err := s.flash(c, "success", "You have been signed out."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}
