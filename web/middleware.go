package web

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"apitokens/store"
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

// readVersionOnce lets the store read an account's version once in a
// request (store.WithVersionMemo): the sign-in's or the token's read gives
// it, and the request's other reads use what is kept at it.
func readVersionOnce(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(store.WithVersionMemo(r.Context())))
		return next(c)
	}
}

// logRequests logs one line per request, with its trace ID, once its error
// (if any) has been answered. It logs the path, never the query string or headers, so no
// credential can reach the log.
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
			slog.String("traceId", traceID(c)),
		)
		return nil
	}
}

// recoverPanics turns a panic into an error, which is answered as a server
// error and logged.
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

// maxBody is how large a request body may be, on a page or in the API.
const maxBody = 64 << 10

// limitBodies is the limit of every page and API route but the wizard's.
var limitBodies = limitBody(maxBody, fmt.Sprintf("What was sent is too large. At most %d KB is accepted here.", maxBody>>10))

// limitBody refuses a body over max bytes with a 413 whose detail is
// tooLarge.
func limitBody(max int64, tooLarge string) echo.MiddlewareFunc {
	limit := middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: fmt.Sprintf("%dB", max)})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		limited := limit(next)
		return func(c echo.Context) error {
			// The limit may be found when the handler reads the body, so
			// the error is looked at after the whole chain has run.
			err := limited(c)
			var he *echo.HTTPError
			if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
				return problemBodyTooLarge.with(tooLarge)
			}
			return err
		}
	}
}

// acceptBodies refuses the body of a POST or PUT of any media type but
// those given, with a 415 whose detail says what to send: a body of another
// type would be read as empty or not at all, and the request would fail
// for a reason that hides the real one. A request without a body passes,
// and JSON must be UTF-8.
func acceptBodies(detail string, types ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if (r.Method != http.MethodPost && r.Method != http.MethodPut) ||
				r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
				return next(c)
			}
			media, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
			if err != nil || !slices.Contains(types, media) ||
				(media == echo.MIMEApplicationJSON && params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
				return problemUnsupportedMediaType.with(detail)
			}
			return next(c)
		}
	}
}
