// Package web serves the API-token pages and the REST API over HTTP with
// Echo. The route table (routes, below) says what happens to each request:
// the chain of middleware it passes, the handler at its end, and how its
// errors are answered.
package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"apitokens/static"
	"apitokens/store"
	"apitokens/web/paths"
)

// Config configures a Server.
type Config struct {
	// SessionAuthKey signs and SessionEncryptionKey encrypts the session
	// cookie; both are 32 random bytes kept outside the source and database.
	SessionAuthKey       []byte
	SessionEncryptionKey []byte
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed: a request from one of them is from
	// the address the nearest proxy saw, the right-most address in
	// X-Forwarded-For that is not itself a trusted proxy. None: every
	// request is from the address it came from, and those headers are
	// ignored.
	TrustedProxies []netip.Prefix
	// PublicURL is the address people and clients reach the server at (as
	// ParsePublicURL gives it): the pages show the API's endpoint under it,
	// and a form posted from it is from this site.
	PublicURL *url.URL
	Logger    *slog.Logger
	// Now is the clock; tests replace it. Defaults to time.Now.
	Now func() time.Time
}

// ParsePublicURL checks the address the server is reached at: http:// or
// https://, a host, and nothing after it (the pages live at the root).
func ParsePublicURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("the public URL must be http:// or https:// and a host, without a path, such as https://tokens.example.com; not %q", raw)
	}
	host := strings.ToLower(u.Host)
	// A browser leaves the default port out of the origin it sends.
	if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		host = strings.TrimSuffix(strings.TrimSuffix(host, port), ":")
	}
	return &url.URL{Scheme: u.Scheme, Host: host}, nil
}

// publicOrigin is the origin of the public URL, as a browser sends it.
func (s *Server) publicOrigin() string { return s.publicURL.Scheme + "://" + s.publicURL.Host }

// Server is the web application: the pages and the REST API, each an Echo
// instance of its own, so that each answers its errors in its own format.
type Server struct {
	pages, api *echo.Echo
	store      *store.Store
	sessions   *sessions.CookieStore
	cookieName string // of the session cookie
	// decodedCookies keeps session cookies decoded lately.
	decodedCookies decodedCookies
	// browsers recognise browsers that have signed in before.
	browsers *sessions.CookieStore
	log      *slog.Logger
	now      func() time.Time
	// trustedProxies are Config.TrustedProxies.
	trustedProxies []netip.Prefix
	publicURL      *url.URL
	// crossOrigin tells requests that a browser says come from another
	// site (Sec-Fetch-Site, or else an Origin other than this host or
	// the public URL).
	crossOrigin *http.CrossOriginProtection

	// signIns slows and then refuses sign-in attempts from an address
	// after repeated wrong passwords, from browsers new to the account.
	signIns limiter
	// signInAccounts does the same per account, from any address.
	signInAccounts limiter
	// signInBrowsers does the same for a browser that has signed in to the
	// account before, which neither of the two above holds back.
	signInBrowsers limiter
	// confirms does the same for password confirmations before a token
	// value is shown, per user: a stolen session must not guess on.
	confirms limiter
	// reveals bounds how many token values a user is shown a minute.
	reveals limiter
	// bearerFailures does the same for API calls with bad tokens, per
	// address.
	bearerFailures limiter
	// usage counts the API calls of each token and writes them in batches.
	usage *usageRecorder
	// unused runs the accounts' policies on unused tokens.
	unused *unusedPolicyJob
	// logoKey tags the logo the Add wizard carries between its steps.
	logoKey []byte
}

// sessionMaxAge bounds how long a sign-in lasts.
const sessionMaxAge = 12 * time.Hour

// New builds the server and its routes, and starts its background writer
// of API usage and its runs of the policies on unused tokens, which Close
// stops.
func New(st *store.Store, cfg Config) (*Server, error) {
	if len(cfg.SessionAuthKey) < 32 || len(cfg.SessionEncryptionKey) != 32 {
		return nil, errors.New("web: session keys must be 32 bytes each")
	}
	if cfg.PublicURL == nil {
		return nil, errors.New("web: the public URL is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// Whatever a client sent may be logged; a token secret in it may not.
	cfg.Logger = slog.New(redactingHandler{cfg.Logger.Handler()})
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
	s := &Server{
		store: st, sessions: cookies, log: cfg.Logger, now: cfg.Now, publicURL: cfg.PublicURL,
		browsers:       newBrowserCookies(cfg.SessionAuthKey, cfg.SessionEncryptionKey),
		trustedProxies: slices.Clone(cfg.TrustedProxies),
		signIns:        newLimiter(st, signInLimit),
		signInAccounts: newLimiter(st, accountSignInLimit),
		signInBrowsers: newLimiter(st, signInBrowserLimit),
		confirms:       newLimiter(st, confirmLimit),
		reveals:        newLimiter(st, revealLimit),
		bearerFailures: newLimiter(st, bearerLimit),
		usage:          newUsageRecorder(st, cfg.Logger),
		unused:         newUnusedPolicyJob(st, cfg.Logger, unusedPolicyInterval),
		logoKey:        newLogoKey(cfg.SessionAuthKey),
	}
	s.cookieName = sessionName
	if cfg.PublicURL.Scheme == "https" {
		s.cookieName = "__Host-" + sessionName
	}
	s.crossOrigin = http.NewCrossOriginProtection()
	if err := s.crossOrigin.AddTrustedOrigin(s.publicOrigin()); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.pages, s.api = s.newEcho(s.handlePageError), s.newEcho(s.handleAPIError)
	s.routes()
	s.usage.run()
	s.unused.run()
	return s, nil
}

// newEcho is an Echo instance with what every request passes through: a
// trace ID, security headers and a trailing slash dropped before routing,
// then the request log and panic recovery.
func (s *Server) newEcho(handleError echo.HTTPErrorHandler) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.IPExtractor = s.clientAddress
	e.HTTPErrorHandler = handleError
	e.Pre(traceRequests, s.securityHeaders, readVersionOnce, middleware.RemoveTrailingSlash())
	e.Use(s.logRequests, s.recoverPanics)
	return e
}

// ServeHTTP makes the server an http.Handler: the API's Echo answers what
// is under paths.APIMount, the pages' Echo everything else. routes makes
// sure no API route lies outside the mount.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, paths.APIMount) {
		s.api.ServeHTTP(w, r)
		return
	}
	s.pages.ServeHTTP(w, r)
}

// routes is the route table: every address the server answers, with the
// middleware each request passes on its way to the handler, and how its
// errors are answered.
//
// Every request, page or API: a trace ID, security headers and a trailing
// slash dropped (before routing), the request log, panic recovery.
//
// Pages (s.pages): compressed when the browser accepts it (compressPages),
// but for a logo.
// Errors, unknown addresses and methods included, are
// answered by handlePageError with an error page, or with problem+json to a
// script that asks for JSON; problemFor maps each error to its status.
//
// API (s.api, under paths.APIMount): every error, unknown addresses and
// methods included, is answered by handleAPIError with problem+json,
// mapped by the same problemFor.
func (s *Server) routes() {
	pg, api := s.pages, s.api

	// page: the session (and with it the signed-in user); a body of at
	// most 64 KB; a POST refused when a browser says it comes from another
	// site, when its body is not a form, or when it lacks the session's
	// CSRF token.
	// Each answers compressed when the browser accepts it (compressPages).
	page := append([]echo.MiddlewareFunc{compressPages}, s.pageChain(limitBodies)...)
	// signedIn: a page for anyone signed in.
	signedIn := append(slices.Clip(page), s.requireUser)
	// admin: a page for account administrators only.
	admin := append(slices.Clip(page), s.requireUser, s.requireAdmin)
	// image: admin, for a PNG, which is compressed already.
	image := append(s.pageChain(limitBodies), s.requireUser, s.requireAdmin)
	// wizard: admin, with room for a logo, sent twice (the upload, and the
	// copy carried from an earlier step or a refused save): Add and Edit.
	wizard := append([]echo.MiddlewareFunc{compressPages}, s.pageChain(limitBody(maxWizardBody, wizardTooLarge))...)
	wizard = append(wizard, s.requireUser, s.requireAdmin)

	pg.Match(readMethods, paths.Static+"*", echo.WrapHandler(staticHandler()), compressPages)
	// The probes pass no page chain: a load balancer's checks, every few
	// seconds, make no session.
	pg.Match(readMethods, paths.Health, handleHealth)
	pg.Match(readMethods, paths.Ready, s.handleReady)
	pg.Match(readMethods, paths.Home, toSettings)
	pg.Match(readMethods, paths.Settings, s.handleSettings, signedIn...)
	pg.Match(readMethods, paths.Login, s.handleLoginPage, page...)
	pg.POST(paths.Login, s.handleLogin, page...)
	pg.POST(paths.Logout, s.handleLogout, page...)

	pg.Match(readMethods, paths.Tokens, s.handleTokenList, admin...)
	pg.Match(readMethods, paths.NewToken, s.handleTokenNew, admin...)
	pg.POST(paths.NewToken, s.handleTokenWizard, wizard...)
	pg.Match(readMethods, paths.Tokens+"/:id/added", s.handleTokenAdded, admin...)
	pg.Match(readMethods, paths.Tokens+"/:id", s.handleTokenDetails, admin...)
	pg.Match(readMethods, paths.Tokens+"/:id/edit", s.handleTokenEdit, admin...)
	pg.POST(paths.Tokens+"/:id/edit", s.handleTokenSave, wizard...)
	pg.POST(paths.Tokens+"/:id/reveal", s.handleTokenReveal, admin...)
	pg.Match(readMethods, paths.Tokens+"/:id/logo", s.handleTokenLogo, image...)
	pg.Match(readMethods, paths.TokensExport, s.handleTokensExport, admin...)
	pg.Match(readMethods, paths.TokensUnusedPolicy, s.handleUnusedPolicy, admin...)
	pg.POST(paths.TokensUnusedPolicy, s.handleUnusedPolicySave, admin...)
	pg.Match(readMethods, paths.Tokens+"/:id/audit.csv", s.handleTokenAuditExport, admin...)
	// Each confirmed action: its confirmation page (GET, for browsers
	// without JavaScript), then the action itself (POST).
	pg.Match(readMethods, paths.Tokens+"/:id/delete", s.handleTokenConfirm(store.ActionDelete), admin...)
	pg.POST(paths.Tokens+"/:id/delete", s.handleTokenDelete, admin...)
	pg.Match(readMethods, paths.Tokens+"/:id/enable", s.handleTokenConfirm(store.ActionEnable), admin...)
	pg.POST(paths.Tokens+"/:id/enable", s.handleTokenSetStatus(store.ActionEnable), admin...)
	pg.Match(readMethods, paths.Tokens+"/:id/disable", s.handleTokenConfirm(store.ActionDisable), admin...)
	pg.POST(paths.Tokens+"/:id/disable", s.handleTokenSetStatus(store.ActionDisable), admin...)
	// Rotate: its form, which the script shows as a dialog, the action,
	// and the page with the new secret; and the end of the previous one.
	pg.Match(readMethods, paths.Tokens+"/:id/rotate", s.handleTokenRotateForm, admin...)
	pg.POST(paths.Tokens+"/:id/rotate", s.handleTokenRotate, admin...)
	pg.Match(readMethods, paths.Tokens+"/:id/rotated", s.handleTokenRotated, admin...)
	pg.POST(paths.Tokens+"/:id/end-previous", s.handleTokenEndPrevious, admin...)
	pg.POST(paths.TokensBulk, s.handleTokenBulk, admin...)
	// Bulk actions are posted; an address typed or reloaded lands on the list.
	pg.Match(readMethods, paths.TokensBulk, toTokenList, admin...)
	pg.Match(readMethods, paths.AuditTrail, s.handleAuditTrail, admin...)
	pg.Match(readMethods, paths.AuditTrail+"/:event", s.handleAuditRecord, admin...)
	pg.POST(paths.TokenColumns, s.handleListColumns, admin...)
	pg.Match(readMethods, paths.TokenColumns, toTokenList, admin...)

	// token: a body of at most 64 KB, and a bearer token in the
	// Authorization header (no cookie counts) scoped to the Access
	// management module. tokenJSON: the same with a body that is JSON and
	// may carry an icon.
	bearer := []echo.MiddlewareFunc{s.requireToken, s.requireModule(store.ModuleAccessManagement)}
	token := append([]echo.MiddlewareFunc{limitBodies}, bearer...)
	tokenJSON := append(append([]echo.MiddlewareFunc{limitAPITokenBodies}, bearer...), acceptJSON)

	api.Match(readMethods, paths.OpenAPI, handleOpenAPI)
	api.Match(readMethods, paths.APITokens, s.handleAPITokenList, token...)
	api.POST(paths.APITokens, s.handleAPITokenCreate, tokenJSON...)
	api.Match(readMethods, paths.APITokens+"/:id", s.handleAPITokenGet, token...)
	api.PUT(paths.APITokens+"/:id", s.handleAPITokenUpdate, tokenJSON...)
	api.DELETE(paths.APITokens+"/:id", s.handleAPITokenDelete, token...)
	api.POST(paths.APITokens+"/:id/enable", s.handleAPITokenSetStatus(store.ActionEnable), token...)
	api.POST(paths.APITokens+"/:id/disable", s.handleAPITokenSetStatus(store.ActionDisable), token...)
	api.POST(paths.APITokens+"/:id/rotate", s.handleAPITokenRotate, tokenJSON...)
	api.Match(readMethods, paths.APITokens+"/:id/icon", s.handleAPITokenIcon, token...)
	api.Match(readMethods, paths.APITokens+"/:id/usage", s.handleAPITokenUsage, token...)

	for _, r := range api.Routes() {
		if !strings.HasPrefix(r.Path, paths.APIMount) {
			panic("web: API route " + r.Path + " is outside " + paths.APIMount + ", where no request would reach it")
		}
	}
}

// pageChain is what a page request passes before its handler: the session,
// the body's size limit, and for a POST the refusal of other sites, of
// bodies that are not forms, and of forms without the session's CSRF token.
// Each call makes a new slice, to which a route may append its own.
func (s *Server) pageChain(limit echo.MiddlewareFunc) []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{s.loadSession, limit, s.refuseCrossSite, acceptForms, s.checkCSRF}
}

// readMethods are those of an address that is read, page or API: Echo does
// not answer HEAD for a GET route by itself. net/http sends no body in
// answer to HEAD, and the headers the GET would have.
var readMethods = []string{http.MethodGet, http.MethodHead}

// The media types each kind of route accepts in a request body.
var (
	acceptForms = acceptBodies("This address accepts forms only.", echo.MIMEApplicationForm, echo.MIMEMultipartForm)
	acceptJSON  = acceptBodies("Send the request body as JSON with Content-Type: application/json.", echo.MIMEApplicationJSON)
)

func handleHealth(c echo.Context) error { return c.String(http.StatusOK, "ok\n") }

// readyTimeout bounds the readiness check's ping: a database slower than
// this to answer is as good as gone to the requests that would wait on it,
// and a probe must not pile up behind it.
const readyTimeout = 2 * time.Second

// handleReady answers 200 while the database answers a ping, and 503 with
// Retry-After while it does not. Any ping error counts: whatever keeps the
// database from answering keeps requests from being served. The 503 is the
// expected answer of a probe, not a failure of this server, so it is one
// warning in the log and not an error.
func (s *Server) handleReady(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "not ready: the database does not answer",
			slog.String("traceId", traceID(c)), slog.Any("err", err))
		c.Response().Header().Set("Retry-After", strconv.Itoa(retrySeconds(retryUnavailable)))
		return c.String(http.StatusServiceUnavailable, "database unavailable\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

func toTokenList(c echo.Context) error { return c.Redirect(http.StatusSeeOther, paths.Tokens) }

func toSettings(c echo.Context) error { return c.Redirect(http.StatusSeeOther, paths.Settings) }

// staticHandler serves the embedded assets; the URL that Versioned gives, with
// the hash of what is served, is cached for good, any other for minutes.
func staticHandler() http.Handler {
	files := http.StripPrefix(paths.Static, http.FileServerFS(static.Files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, paths.Static)
		if static.IsVersion(name, r.URL.Query().Get("v")) {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		files.ServeHTTP(w, r)
	})
}

// FlushUsage writes the usage of the API calls made since the last write:
// their counts, last access and last caller. A background writer does this
// every few seconds; tests call it to see the result at once.
func (s *Server) FlushUsage(ctx context.Context) error { return s.usage.flush(ctx) }

// Close stops the server's background work and writes what it holds. Call
// it once the HTTP server has stopped taking requests.
func (s *Server) Close() error {
	s.unused.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.usage.close(ctx)
}
