package web

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
)

// TestProblemFor checks the one table from errors to what a client is told,
// which both the error pages and problem+json render.
func TestProblemFor(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		typ    string
		fields []string
	}{
		{"NotFound", store.ErrNotFound, 404, "not-found", nil},
		{"NotFoundWrapped", fmt.Errorf("load: %w", store.ErrNotFound), 404, "not-found", nil},
		{"RejectedSecret", &store.SecretRejected{TokenID: "TKN-0000-0001", Reason: store.RejectDisabled}, 401, "unauthorized", nil},
		{"Validation", &store.ValidationError{Fields: map[string]string{"name": "n", "expires": "e", "logo": "l"}}, 400,
			"validation-failed", []string{"expiresAt", "icon", "name"}},
		{"Conflict", store.ErrConflict, 409, "conflict", nil},
		{"WrongPassword", store.ErrInvalidCredentials, 400, "validation-failed", []string{"password"}},
		{"RouterNotFound", echo.ErrNotFound, 404, "not-found", nil},
		{"RouterMethodNotAllowed", echo.ErrMethodNotAllowed, 405, "method-not-allowed", nil},
		{"BodyLimit", echo.NewHTTPError(http.StatusRequestEntityTooLarge), 413, "body-too-large", nil},
		{"HandlerMessage", echo.NewHTTPError(http.StatusConflict, "Being added already."), 409, "conflict", nil},
		{"TooMany", tooManyAttempts("Too many.", 2500*time.Millisecond), 429, "too-many-failures", nil},
		{"Problem", problemInsufficientScope.with("no"), 403, "insufficient-scope", nil},
		{"Unknown", errors.New("disk on fire"), 500, "server-error", nil},
		{"DatabaseUnavailable", fmt.Errorf("list tokens: %w", store.ErrUnavailable), 503, "service-unavailable", nil},
		// A query that ran out of time: the deadline is the database's
		// silence, not the server's fault.
		{"DatabaseDeadline", fmt.Errorf("%w: %w", store.ErrUnavailable, context.DeadlineExceeded), 503, "service-unavailable", nil},
		// Whatever else a store error says, an unreachable database is
		// what the client can act on.
		{"DatabaseUnavailableOverNotFound", errors.Join(store.ErrNotFound, store.ErrUnavailable), 503, "service-unavailable", nil},
		{"HTTPServerError", echo.NewHTTPError(http.StatusServiceUnavailable, "secret detail"), 500, "server-error", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := problemFor(tc.err)
			// The title is the reason phrase: the platform's clients show
			// errors as "404 Not Found - detail".
			if p.Status != tc.status || p.Type != problemTypeBase+tc.typ || p.Title != http.StatusText(tc.status) || p.Detail == "" {
				t.Fatalf("%v → %+v, want %d %s", tc.err, p, tc.status, tc.typ)
			}
			fields := slices.Sorted(maps.Keys(p.Errors))
			if fmt.Sprint(fields) != fmt.Sprint(tc.fields) {
				t.Fatalf("fields %v, want %v", fields, tc.fields)
			}
		})
	}
	t.Run("ServerErrorsTellNothing", func(t *testing.T) {
		if p := problemFor(errors.New("open /secret/path: denied")); p.Detail != problemFor(nil).Detail {
			t.Fatalf("a server error's detail depends on its cause: %q", p.Detail)
		}
	})
	t.Run("HeadersTravelWithTheProblem", func(t *testing.T) {
		if p := problemFor(tooManyAttempts("Too many.", 2500*time.Millisecond)); p.retryAfter == 0 || retrySeconds(p.retryAfter) != 3 {
			t.Fatalf("Retry-After of 2.5 s: %v", p.retryAfter)
		}
		if p := problemFor(store.ErrUnavailable); retrySeconds(p.retryAfter) != 5 {
			t.Fatalf("Retry-After of an unavailable database: %v, want 5 s", p.retryAfter)
		}
		if p := problemFor(&store.SecretRejected{Reason: store.RejectMalformed}); p.authenticate != `Bearer error="invalid_token"` {
			t.Fatalf("WWW-Authenticate %q", p.authenticate)
		}
	})
}
