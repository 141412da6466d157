package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
)

const (
	sessionName = "apitokens_session"
	// Session cookie values. The sign-in itself lives in the store, so that
	// signing out ends it even for a copy of the cookie.
	keySessionID = "sid"
	keyCSRF      = "csrf"
	keyFlash     = "flash"
	// Echo context keys.
	ctxSession = "session"
	ctxUser    = "user"
	// csrfField is the form field that carries the CSRF token.
	csrfField = "_csrf"
)

// contentSecurityPolicy allows scripts and styles from this origin only: no
// inline script, no inline style, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders runs before routing, so every response carries the headers,
// errors and unknown paths included.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if s.isHTTPS(c) {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		// Pages carry account data and CSRF tokens: never cache them.
		// Static assets override this with their own policy.
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

// logRequests logs one line per request. It logs the path, never the query
// string or headers, so no credential can reach the log.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		r := c.Request()
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", c.Response().Status),
			slog.Duration("duration", time.Since(start)),
			slog.String("ip", c.RealIP()),
		)
		return nil
	}
}

// recoverPanics turns a panic into a logged 500 page.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// loadSession reads the session cookie, makes sure the session has a CSRF
// token, and loads the signed-in user, if any.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// The API authenticates by bearer token alone: a session cookie
		// must not count there.
		if p := c.Request().URL.Path; strings.HasPrefix(p, "/static/") || isAPIPath(p) {
			return next(c)
		}
		// A cookie that does not decode (old keys, tampering) starts a new
		// session rather than an error.
		sess, _ := s.sessions.Get(c.Request(), sessionName)
		c.Set(ctxSession, sess)
		if _, ok := sess.Values[keyCSRF].(string); !ok {
			sess.Values[keyCSRF] = randomToken()
			if err := s.saveSession(c, sess); err != nil {
				return err
			}
		}
		if sid, ok := sess.Values[keySessionID].(string); ok {
			u, err := s.store.SessionUser(c.Request().Context(), sid)
			switch {
			case err == nil:
				c.Set(ctxUser, u)
			case errors.Is(err, store.ErrNotFound):
				// Signed out, expired, or the user is gone.
				delete(sess.Values, keySessionID)
				if err := s.saveSession(c, sess); err != nil {
					return err
				}
			default:
				return err
			}
		}
		return next(c)
	}
}

// isHTTPS reports whether the client reached the server over TLS; behind a
// trusted proxy, the proxy says so.
func (s *Server) isHTTPS(c echo.Context) bool {
	r := c.Request()
	return r.TLS != nil || (s.trustProxy && r.Header.Get(echo.HeaderXForwardedProto) == "https")
}

func (s *Server) saveSession(c echo.Context, sess *sessions.Session) error {
	sess.Options.Secure = s.isHTTPS(c)
	return sess.Save(c.Request(), c.Response())
}

func session(c echo.Context) *sessions.Session {
	sess, _ := c.Get(ctxSession).(*sessions.Session)
	return sess
}

func currentUser(c echo.Context) (store.User, bool) {
	u, ok := c.Get(ctxUser).(store.User)
	return u, ok
}

func csrfToken(c echo.Context) string {
	if sess := session(c); sess != nil {
		tok, _ := sess.Values[keyCSRF].(string)
		return tok
	}
	return ""
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// errCSRF is the answer to a state change without a valid CSRF token.
var errCSRF = echo.NewHTTPError(http.StatusForbidden,
	"The form was sent without a valid security token, or from another site. Reload the page and try again.")

// checkCSRF refuses every unsafe request whose _csrf field does not match the
// session's token, or that a browser says came from another site.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		// A bearer token is never sent by a browser on its own, so another
		// site cannot forge an API call: CSRF does not apply there.
		if isAPIPath(r.URL.Path) {
			return next(c)
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return errCSRF
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			u, err := url.Parse(origin)
			if err != nil || u.Host != r.Host {
				return errCSRF
			}
		}
		// Only the body counts: a token in the query string would end up in
		// logs and Referer headers.
		// Pages post forms, nothing else: a JSON or XML body would be read
		// as an empty form, so it is refused for what it is.
		if ct, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); ct != "" &&
			ct != echo.MIMEApplicationForm && ct != echo.MIMEMultipartForm {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "This address accepts forms only.")
		}
		parse := r.ParseForm
		if strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
			// The body limit keeps the whole form in memory, never on disk.
			parse = func() error { return r.ParseMultipartForm(2 << 20) }
		}
		if err := parse(); err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) {
				return he // the body is over the size limit
			}
			return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
		}
		want := csrfToken(c)
		got := r.PostForm.Get(csrfField)
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return errCSRF
		}
		return next(c)
	}
}

// requireUser sends visitors who are not signed in to the sign-in page, and
// back where they were going afterwards.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := currentUser(c); ok {
			return next(c)
		}
		target := "/login"
		if r := c.Request(); r.Method == http.MethodGet || r.Method == http.MethodHead {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// requireAdmin lets only account administrators through.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u, ok := currentUser(c); ok && u.IsAdmin() {
			return next(c)
		}
		return echo.NewHTTPError(http.StatusForbidden, "Only account administrators can manage API tokens.")
	}
}

// page gathers what the layout needs, taking the session's flash message.
func (s *Server) page(c echo.Context, title string) (templates.Page, error) {
	p := templates.Page{Title: title, CSRF: csrfToken(c), Now: s.now()}
	p.User, _ = currentUser(c)
	// A HEAD request shows nothing, so it must not use up the message.
	if sess := session(c); sess != nil && c.Request().Method != http.MethodHead {
		if f, ok := sess.Values[keyFlash].(templates.Flash); ok {
			p.Flashes = []templates.Flash{f}
			delete(sess.Values, keyFlash)
			if err := s.saveSession(c, sess); err != nil {
				return p, err
			}
		}
	}
	return p, nil
}

// flash leaves a message for the next page. It runs after a change has been
// committed, so it never fails the request: a message that cannot be saved
// is logged and lost, and the page itself shows the change. A new message
// replaces one not yet shown, keeping the cookie small.
func (s *Server) flash(c echo.Context, kind, message string) {
	sess := session(c)
	sess.Values[keyFlash] = templates.Flash{Kind: kind, Message: message}
	if err := s.saveSession(c, sess); err != nil {
		s.log.Error("save flash message", slog.String("path", c.Request().URL.Path), slog.Any("err", err))
	}
}

// postValue is a field of the request body, which checkCSRF has parsed. The
// query string is never read for a form field.
func postValue(c echo.Context, name string) string {
	return c.Request().PostForm.Get(name)
}
