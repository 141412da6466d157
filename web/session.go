package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/web/paths"
)

const (
	// sessionName names the session cookie; over https it bears the
	// __Host- prefix, which browsers keep to cookies set by this very host,
	// Secure, for every path.
	sessionName = "apitokens_session"
	// Session cookie values. The sign-in itself lives in the store, so that
	// signing out ends it even for a copy of the cookie.
	keySessionID = "sid"
	keyCSRF      = "csrf"
	// Echo context keys.
	ctxSession = "session"
	ctxUser    = "user"
	// csrfField is the form field that carries the CSRF token.
	csrfField = "_csrf"
)

// loadSession reads the session cookie, makes sure the session has a CSRF
// token, and loads the signed-in user, if any.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := s.readSession(c.Request())
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

// readSession decodes the session from the first cookie of its name that
// decodes. A browser sends every cookie of the name it holds (one a sibling
// host set, one on another path), and the first may not be this server's.
// With none, a cookie that does not decode (old keys, tampering) starts a
// new session rather than an error.
func (s *Server) readSession(r *http.Request) *sessions.Session {
	sess := sessions.NewSession(s.sessions, s.cookieName)
	options := *s.sessions.Options
	sess.Options, sess.IsNew = &options, true
	for _, k := range r.CookiesNamed(s.cookieName) {
		if values, ok := s.decodedCookies.get(k.Value, s.now()); ok {
			sess.Values, sess.IsNew = values, false
			break
		}
		values := map[any]any{}
		if securecookie.DecodeMulti(s.cookieName, k.Value, &values, s.sessions.Codecs...) == nil {
			s.decodedCookies.put(k.Value, values, s.now())
			sess.Values, sess.IsNew = values, false
			break
		}
	}
	return sess
}

// Decoded session cookies are kept a minute, by their value: decoding one
// (its MAC, its decryption and gob) costs more than the rest of a page's
// session checks, and a browser sends the same cookie with every request
// until the session changes. Only a value that decoded, with this
// server's keys, is kept, so it is one the server set; the sign-in it
// names is still checked in the store on every request. The cookie's own
// age limit is then checked a minute late at most.
const (
	keepDecodedCookie = time.Minute
	maxDecodedCookies = 10_000
)

// decodedCookies are session cookies decoded lately, by value.
type decodedCookies struct {
	mu      sync.Mutex
	byValue map[string]decodedCookie
}

type decodedCookie struct {
	values map[any]any
	at     time.Time
}

// get returns a copy of the values of the cookie, decoded within the last
// minute: the request may change its copy.
func (d *decodedCookies) get(value string, now time.Time) (map[any]any, bool) {
	d.mu.Lock()
	c, ok := d.byValue[value]
	d.mu.Unlock()
	if !ok || now.Sub(c.at) >= keepDecodedCookie || now.Before(c.at) {
		return nil, false
	}
	return maps.Clone(c.values), true
}

// put keeps a copy of what the cookie decoded to.
func (d *decodedCookies) put(value string, values map[any]any, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byValue == nil || len(d.byValue) >= maxDecodedCookies {
		d.byValue = make(map[string]decodedCookie)
	}
	d.byValue[value] = decodedCookie{maps.Clone(values), now}
}

// isHTTPS reports whether the client reached the server over TLS; behind a
// trusted proxy, the proxy says so, and only the proxy.
func (s *Server) isHTTPS(c echo.Context) bool {
	r := c.Request()
	return r.TLS != nil || (s.fromTrustedProxy(r) && r.Header.Get(echo.HeaderXForwardedProto) == "https")
}

// secureCookies reports whether cookies are sent over TLS only: at an https
// public URL always, even when TLS ends at a proxy that does not say so.
func (s *Server) secureCookies(c echo.Context) bool {
	return s.publicURL.Scheme == "https" || s.isHTTPS(c)
}

func (s *Server) saveSession(c echo.Context, sess *sessions.Session) error {
	sess.Options.Secure = s.secureCookies(c)
	return sess.Save(c.Request(), c.Response())
}

// session is the request's session, which loadSession read.
func session(c echo.Context) *sessions.Session {
	sess, _ := c.Get(ctxSession).(*sessions.Session)
	return sess
}

// currentUser is the signed-in user, if any.
func currentUser(c echo.Context) (store.User, bool) {
	u, ok := c.Get(ctxUser).(store.User)
	return u, ok
}

// actor is the signed-in user acting from the request's address and browser.
func actor(c echo.Context) (store.User, store.Actor) {
	u, _ := currentUser(c)
	return u, store.UserActor(u.ID, c.RealIP()).WithUserAgent(c.Request().UserAgent())
}

func csrfToken(c echo.Context) string {
	if sess := session(c); sess != nil {
		tok, _ := sess.Values[keyCSRF].(string)
		return tok
	}
	return ""
}

// maskCSRF is the session's CSRF token as one page carries it: random
// bytes, then the token XORed with them, so that no two pages carry the
// same string and a compressed page cannot leak the token through its
// length (BREACH). unmaskCSRF reverses it.
func maskCSRF(tok string) string {
	if tok == "" {
		return ""
	}
	pad := make([]byte, len(tok))
	rand.Read(pad)
	out := append(pad, tok...)
	for i := range len(tok) {
		out[len(tok)+i] ^= pad[i]
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// unmaskCSRF is the token a form carried masked; "" for anything that is
// not a masked token.
func unmaskCSRF(masked string) string {
	b, err := base64.RawURLEncoding.DecodeString(masked)
	if err != nil || len(b) == 0 || len(b)%2 != 0 {
		return ""
	}
	n := len(b) / 2
	for i := range n {
		b[n+i] ^= b[i]
	}
	return string(b[n:])
}

// randomTokenBytes is how many random bytes a randomToken carries.
const randomTokenBytes = 32

// randomToken is a fresh unguessable value, URL-safe base64.
func randomToken() string {
	b := make([]byte, randomTokenBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// errCSRF is the answer to a state change without a valid CSRF token.
var errCSRF = problemForbidden.with(
	"The form was sent without a valid security token, or from another site. Reload the page and try again.")

// refuseCrossSite refuses every unsafe request that a browser says comes
// from another site, before anything of it is read.
func (s *Server) refuseCrossSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// Safe methods (GET, HEAD, OPTIONS) pass the check.
		if s.crossOrigin.Check(c.Request()) != nil || !s.fromThisOrigin(c) {
			return errCSRF
		}
		return next(c)
	}
}

// fromThisOrigin reports whether an unsafe request without Sec-Fetch-Site
// comes from this site by its Origin, scheme included:
// CrossOriginProtection compares the host alone, and a page on
// https://host is another site than http://host.
func (s *Server) fromThisOrigin(c echo.Context) bool {
	r := c.Request()
	origin := r.Header.Get("Origin")
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions:
		return true
	case r.Header.Get("Sec-Fetch-Site") != "" || origin == "":
		return true // the browser said where it came from, or nothing at all
	}
	scheme := "http"
	if s.isHTTPS(c) {
		scheme = "https"
	}
	return strings.EqualFold(origin, scheme+"://"+r.Host) || strings.EqualFold(origin, s.publicOrigin())
}

// checkCSRF refuses every unsafe request whose _csrf form field does not
// match the session's token.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		parse := r.ParseForm
		if strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
			// The body limit keeps the whole form in memory, never on disk.
			parse = func() error { return r.ParseMultipartForm(maxWizardBody) }
		}
		if err := parse(); err != nil {
			if _, ok := errors.AsType[*echo.HTTPError](err); ok {
				return err // the body is over the size limit
			}
			return problemMalformedBody.with("The form could not be read.")
		}
		// Only the body counts: a token in the query string would end up in
		// logs and Referer headers.
		want := csrfToken(c)
		got := unmaskCSRF(r.PostForm.Get(csrfField))
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
		target := paths.Login
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
		return problemForbidden.with("Only account administrators can manage API tokens.")
	}
}
