package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
)

// ctxToken is the Echo context key of the token that authenticated the call.
const ctxToken = "apiToken"

// callerToken is the token that authenticated the call.
func callerToken(c echo.Context) store.Token {
	t, _ := c.Get(ctxToken).(store.Token)
	return t
}

// apiActor is who the audit trail names for a change made through the API:
// the token itself, so the trail shows the token's name.
func apiActor(c echo.Context) store.Actor {
	return store.TokenActor(callerToken(c).ID, c.RealIP()).WithUserAgent(c.Request().UserAgent())
}

// requireToken authenticates the call by its bearer token. Only the
// Authorization header counts: a token in the query string, a cookie or the
// body is never looked at, since those end up in logs and caches. Every
// rejection looks the same to the caller; the reason goes to the log.
//
// Only failures count against an address, so a valid token keeps working
// from an address whose other callers are being refused, and a valid call
// never reads the count. A malformed secret or a bad checksum is refused
// without looking the token up; a secret that passes the checksum costs the
// one indexed look-up that a valid call costs. Either, refused, is then
// counted, or answered 429 past the address's limit.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, address, now := c.Request().Context(), c.RealIP(), s.now()
		client := clientKey(address)
		secret, ok := bearerSecret(c.Request())
		if !ok {
			// RFC 6750: no error code when no credentials were sent.
			p := errInvalidToken()
			p.authenticate = "Bearer"
			return p
		}
		t, err := s.store.TokenForCall(ctx, secret, address)
		var rejected *store.SecretRejected
		if errors.As(err, &rejected) {
			// Counted, unless the count is at its limit: then refused,
			// and not counted. One read and write of the count, either way.
			wait, werr := s.bearerFailures.reserve(ctx, client, now)
			if wait > 0 {
				return errBearerThrottled(wait)
			}
			if werr != nil {
				// The rejection stands, uncounted: the database that keeps
				// the counts does not answer, and no token can be found
				// in it meanwhile either.
				s.log.LogAttrs(ctx, slog.LevelWarn, "API token failure not counted",
					slog.String("ip", address), slog.Any("err", werr))
			}
			if rejected.OwnSecret() {
				s.usage.refused(rejected.TokenID, now, address, c.Request().UserAgent())
			}
			s.log.LogAttrs(ctx, slog.LevelWarn, "API token rejected",
				slog.String("reason", rejected.Reason), slog.String("token", rejected.TokenID),
				slog.String("ip", address), slog.String("path", c.Request().URL.Path))
			return err // answered as every rejection is: see problemFor
		}
		if err != nil {
			return err
		}
		c.Set(ctxToken, t)
		s.usage.called(t.ID, now, address, c.Request().UserAgent(), t.ViaPrevious)
		return next(c)
	}
}

// errBearerThrottled is the answer to a bad token from an address that has
// sent too many.
func errBearerThrottled(wait time.Duration) *problem {
	return tooManyAttempts("Too many requests from this address failed to authenticate.", wait)
}

// errInvalidToken is the one answer to every failed authentication.
func errInvalidToken() *problem {
	p := problemUnauthorized.with("Send an active API token in the Authorization header: Authorization: Bearer <token>.")
	p.authenticate = `Bearer error="invalid_token"`
	return p
}

// bearerSecret returns the credentials of a Bearer Authorization header. ok
// is false when there are none; a header that is there but unusable (empty,
// or sent twice) yields "" so that it is rejected like a wrong secret.
func bearerSecret(r *http.Request) (secret string, ok bool) {
	values := r.Header.Values(echo.HeaderAuthorization)
	if len(values) == 0 {
		return "", false
	}
	if len(values) > 1 {
		return "", true
	}
	scheme, credentials, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(credentials), true
}

// requireModule lets through only tokens scoped to the module with the key.
func (s *Server) requireModule(key string) echo.MiddlewareFunc {
	name := key
	for _, m := range store.DefaultModules {
		if m.Key == key {
			name = m.Name
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			for _, m := range callerToken(c).Modules {
				if m.Key == key {
					return next(c)
				}
			}
			p := problemInsufficientScope.with("This API token is not allowed to manage API tokens: it needs the " + name + " module.")
			p.authenticate = `Bearer error="insufficient_scope"`
			return p
		}
	}
}
