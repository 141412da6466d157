// Package web serves the API-token pages over HTTP with Echo.
package web

import (
	"encoding/gob"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"apitokens/static"
	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// Config configures a Server.
type Config struct {
	// SessionAuthKey signs and SessionEncryptionKey encrypts the session
	// cookie; both are 32 random bytes kept outside the source and database.
	SessionAuthKey       []byte
	SessionEncryptionKey []byte
	// TrustProxy takes the client address from X-Forwarded-For; set it only
	// behind a reverse proxy that overwrites that header.
	TrustProxy bool
	Logger     *slog.Logger
	// Now is the clock; tests replace it. Defaults to time.Now.
	Now func() time.Time
}

// Server is the web application.
type Server struct {
	echo       *echo.Echo
	store      *store.Store
	sessions   *sessions.CookieStore
	log        *slog.Logger
	now        func() time.Time
	trustProxy bool
	api        apiState
	// signIns slows and then refuses sign-in attempts from an address
	// after repeated wrong passwords.
	signIns *failureLimiter
	// confirms does the same for password confirmations before a token
	// value is shown, per user: a stolen session must not guess on.
	confirms *failureLimiter
	// drafts remembers Add wizards that have added their token, so that two
	// Adds of one wizard sent at once make one token.
	drafts *draftClaims
}

// sessionMaxAge bounds how long a sign-in lasts.
const sessionMaxAge = 12 * time.Hour

// The flash message travels in the session cookie, which gob encodes.
func init() { gob.Register(templates.Flash{}) }

// New builds the server and its routes.
func New(st *store.Store, cfg Config) (*Server, error) {
	if len(cfg.SessionAuthKey) < 32 || len(cfg.SessionEncryptionKey) != 32 {
		return nil, errors.New("web: session keys must be 32 bytes each")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cookies := sessions.NewCookieStore(cfg.SessionAuthKey, cfg.SessionEncryptionKey)
	cookies.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(sessionMaxAge / time.Second),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	cookies.MaxAge(cookies.Options.MaxAge)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(discard{})
	e.IPExtractor = echo.ExtractIPDirect()
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	s := &Server{echo: e, store: st, sessions: cookies, log: cfg.Logger, now: cfg.Now, trustProxy: cfg.TrustProxy,
		signIns:  newFailureLimiter(signInFailureBurst, signInFailureInterval, authFailureClients),
		confirms: newFailureLimiter(confirmFailureBurst, confirmFailureInterval, authFailureClients),
		drafts:   newDraftClaims()}
	e.HTTPErrorHandler = s.handleError

	e.Pre(s.securityHeaders, middleware.RemoveTrailingSlash())
	// The session loads before the body limit, so that even a 413 page
	// knows who is signed in.
	e.Use(s.logRequests, s.recoverPanics, s.loadSession, limitBody(), s.checkCSRF)
	s.registerRoutes()
	return s, nil
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// readMethods are the methods of every page: Echo does not answer HEAD for a
// GET route by itself.
var readMethods = []string{http.MethodGet, http.MethodHead}

func (s *Server) registerRoutes() {
	e := s.echo
	e.Match(readMethods, "/static/*", echo.WrapHandler(staticHandler()))
	toList := func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, paths.Tokens) }
	e.Match(readMethods, "/", toList)
	e.Match(readMethods, "/settings", toList)
	e.Match(readMethods, "/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.Match(readMethods, "/login", s.handleLoginPage)
	e.POST("/login", s.handleLogin)
	e.POST("/logout", s.handleLogout)
	s.registerTokenRoutes()
	s.registerAPIRoutes()
}

// registerTokenRoutes adds the token pages, for administrators only. The
// guards go on each route rather than on a group, so that a wrong method on
// a token path is still a 405 and not a group-wide 404.
func (s *Server) registerTokenRoutes() {
	e, base := s.echo, paths.Tokens
	admin := []echo.MiddlewareFunc{s.requireUser, s.requireAdmin}
	e.Match(readMethods, base, s.handleTokenList, admin...)
	e.Match(readMethods, paths.NewToken, s.handleTokenNew, admin...)
	e.POST(paths.NewToken, s.handleTokenWizard, admin...)
	e.Match(readMethods, base+"/:id", s.handleTokenDetails, admin...)
	e.Match(readMethods, base+"/:id/edit", s.handleTokenEdit, admin...)
	e.POST(base+"/:id/edit", s.handleTokenSave, admin...)
	e.POST(base+"/:id/reveal", s.handleTokenReveal, admin...)
	e.Match(readMethods, base+"/:id/logo", s.handleTokenLogo, admin...)
	e.Match(readMethods, base+"/:id/delete", s.handleTokenConfirm(store.ActionDelete), admin...)
	e.Match(readMethods, base+"/:id/enable", s.handleTokenConfirm(store.ActionEnable), admin...)
	e.Match(readMethods, base+"/:id/disable", s.handleTokenConfirm(store.ActionDisable), admin...)
	e.POST(base+"/:id/delete", s.handleTokenDelete, admin...)
	e.POST(paths.TokensBulk, s.handleTokenBulk, admin...)
	// Bulk actions are posted; an address typed or reloaded lands on the list.
	e.Match(readMethods, paths.TokensBulk, func(c echo.Context) error {
		return c.Redirect(http.StatusSeeOther, paths.Tokens)
	}, admin...)
	e.POST(base+"/:id/enable", s.handleTokenSetStatus(store.StatusActive), admin...)
	e.POST(base+"/:id/disable", s.handleTokenSetStatus(store.StatusDisabled), admin...)
}

// limitBody caps request bodies: 64 KB for every form but the Add wizard's,
// which may carry a logo of up to 256 KB, twice (the upload and its copy).
func limitBody() echo.MiddlewareFunc {
	small, large := middleware.BodyLimit("64K"), middleware.BodyLimit("1M")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		toSmall, toLarge := small(next), large(next)
		return func(c echo.Context) error {
			if c.Request().URL.Path != paths.NewToken {
				return toSmall(c)
			}
			// Only a logo makes the wizard's form that large: say so.
			err := toLarge(c)
			var he *echo.HTTPError
			if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge,
					"The logo is far over its limit of 256 KB. Go back, choose a smaller PNG or JPEG, and try again.")
			}
			return err
		}
	}
}

// staticHandler serves the embedded assets; a versioned URL is cached for good.
func staticHandler() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(static.Files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("v") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		files.ServeHTTP(w, r)
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
