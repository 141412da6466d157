// Package web serves the API-token pages over HTTP with Echo.
package web

import (
	"context"
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
)

// Store is what the handlers need of the domain; *store.Store satisfies it.
type Store interface {
	Authenticate(ctx context.Context, email, password string) (store.User, error)
	UserByID(ctx context.Context, id string) (store.User, error)
	ListTokens(ctx context.Context, accountID string, f store.TokenFilter) (store.TokenPage, error)
	TokenByID(ctx context.Context, accountID, id string) (store.Token, error)
	AuditEvents(ctx context.Context, accountID, tokenID string) ([]store.AuditEvent, error)
	SetTokenStatus(ctx context.Context, accountID, id string, status store.TokenStatus, by store.Actor) (store.Token, bool, error)
	DeleteToken(ctx context.Context, accountID, id string, by store.Actor) (store.Token, error)
}

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
	echo     *echo.Echo
	store    Store
	sessions *sessions.CookieStore
	log      *slog.Logger
	now      func() time.Time
}

// sessionMaxAge bounds how long a sign-in lasts.
const sessionMaxAge = 12 * time.Hour

func init() {
	gob.Register(templates.Flash{})
	templates.CSS = static.Versioned("app.css")
	templates.JS = static.Versioned("app.js")
}

// New builds the server and its routes.
func New(st Store, cfg Config) (*Server, error) {
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
	s := &Server{echo: e, store: st, sessions: cookies, log: cfg.Logger, now: cfg.Now}
	e.HTTPErrorHandler = s.handleError

	e.Pre(securityHeaders, middleware.RemoveTrailingSlash())
	e.Use(s.logRequests, s.recoverPanics, middleware.BodyLimit("64K"), s.loadSession, s.checkCSRF)
	s.registerRoutes()
	return s, nil
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

func (s *Server) registerRoutes() {
	e := s.echo
	e.GET("/static/*", echo.WrapHandler(staticHandler()))
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, templates.TokensPath) })
	e.GET("/settings", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, templates.TokensPath) })
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/login", s.handleLoginPage)
	e.POST("/login", s.handleLogin)
	e.POST("/logout", s.handleLogout)
	s.registerTokenRoutes(e.Group(templates.TokensPath, s.requireUser, s.requireAdmin))
}

func (s *Server) registerTokenRoutes(g *echo.Group) {
	g.GET("", s.handleTokenList)
	g.GET("/:id", s.handleTokenDetails)
	for _, a := range []templates.TokenAction{templates.DeleteAction, templates.EnableAction, templates.DisableAction} {
		g.GET("/:id/"+a.Name, s.handleTokenConfirm(a))
	}
	g.POST("/:id/delete", s.handleTokenDelete)
	g.POST("/:id/enable", s.handleTokenSetStatus(store.StatusActive))
	g.POST("/:id/disable", s.handleTokenSetStatus(store.StatusDisabled))
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
