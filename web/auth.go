package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/sessions"
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
	if u, ok := currentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, landing(u, next))
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
	ctx := c.Request().Context()
	limits := s.signInLimits(c, email)
	// Counted before the password is checked, so guessing costs the
	// guesser time and the server no bcrypt.
	if err := reserveAll(ctx, s.now(), limits...); err != nil {
		tooMany, ok := errors.AsType[*problem](err)
		if !ok {
			return err
		}
		tooMany.writeHeaders(c)
		p, err := s.page(c, "Sign in")
		if err != nil {
			return err
		}
		return render(c, tooMany.Status, templates.Login(p, email, next, tooMany.Detail))
	}
	u, err := s.store.Authenticate(ctx, email, password)
	if errors.Is(err, store.ErrInvalidCredentials) {
		p, err := s.page(c, "Sign in")
		if err != nil {
			return err
		}
		return render(c, http.StatusUnprocessableEntity,
			templates.Login(p, email, next, "The email or password is incorrect."))
	}
	if undo := succeedAll(ctx, s.now(), limits...); err == nil {
		err = undo
	}
	if err != nil {
		return err
	}
	if err := s.rememberBrowser(c, email); err != nil {
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
	return c.Redirect(http.StatusSeeOther, landing(u, next))
}

// landing is where a sign-in goes: where the person was going, except that
// a member sent to the token list, which only administrators may open,
// lands on the page that says who manages tokens.
func landing(u store.User, next string) string {
	if next == paths.Tokens && !u.IsAdmin() {
		return paths.Settings
	}
	return next
}

// handleSettings is the settings' home: the token list for an
// administrator; for a member, who manages the account's tokens.
func (s *Server) handleSettings(c echo.Context) error {
	u, _ := currentUser(c)
	if u.IsAdmin() {
		return toTokenList(c)
	}
	users, err := s.store.Users(c.Request().Context(), u.AccountID)
	if err != nil {
		return err
	}
	admins := slices.DeleteFunc(users, func(u store.User) bool { return !u.IsAdmin() })
	p, err := s.page(c, "API tokens")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.MemberHome(p, admins))
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

// A browser that has signed in to an account carries a cookie saying so,
// signed and encrypted like the session's but outliving it. Wrong passwords
// for that account from other browsers do not hold it back: someone guessing
// at an account, from one address or from many, cannot lock its owner out
// of a browser they have used before.
const (
	browserCookie = "apitokens_browser"
	browserMaxAge = 180 * 24 * time.Hour
	// Its values: a random ID of the browser, and the account (see
	// accountKey) it signed in to last.
	keyBrowserID      = "id"
	keyBrowserAccount = "account"
)

// newBrowserCookies keeps the cookies that recognise browsers.
func newBrowserCookies(authKey, encryptionKey []byte) *sessions.CookieStore {
	cookies := sessions.NewCookieStore(authKey, encryptionKey)
	cookies.Options = &sessions.Options{
		Path:     paths.Login,
		MaxAge:   int(browserMaxAge / time.Second),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	cookies.MaxAge(cookies.Options.MaxAge)
	return cookies
}

// signInLimits are the limits a sign-in as email counts against. From a
// browser that has signed in to that account before: its own. From any
// other: those of its address and of the account.
func (s *Server) signInLimits(c echo.Context, email string) []limitedBy {
	b, _ := s.browsers.Get(c.Request(), browserCookie)
	if id, _ := b.Values[keyBrowserID].(string); id != "" && b.Values[keyBrowserAccount] == accountKey(email) {
		return []limitedBy{{s.signInBrowsers, id, "Too many failed sign-ins from this browser."}}
	}
	return []limitedBy{
		{s.signIns, clientKey(c.RealIP()), "Too many failed sign-ins from your network."},
		{s.signInAccounts, accountKey(email), "Too many failed sign-ins to this account. A browser that has signed in to it before can still sign in."},
	}
}

// rememberBrowser marks the browser as one that has signed in as email.
func (s *Server) rememberBrowser(c echo.Context, email string) error {
	b, _ := s.browsers.Get(c.Request(), browserCookie)
	if id, _ := b.Values[keyBrowserID].(string); id == "" || b.Values[keyBrowserAccount] != accountKey(email) {
		b.Values[keyBrowserID], b.Values[keyBrowserAccount] = randomToken(), accountKey(email)
	}
	// Saved on every sign-in, so that a browser in use stays known.
	b.Options.Secure = s.secureCookies(c)
	return b.Save(c.Request(), c.Response())
}
