package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// problem is what every error becomes: an RFC 9457 problem details object.
// The API sends it as application/problem+json; the pages show its title
// and detail on an error page, or send it as JSON to a script that asks for
// JSON. Handlers return one as an error; problemFor makes one of any other
// error.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// TraceID names the request in the log and in its traceHeader, so that
	// a client's report of an error leads to its log line.
	TraceID string `json:"traceId,omitempty"`
	// Errors has the messages for each invalid field of the request, by
	// the field's name as the client sent it ("account.id", "modules").
	Errors fieldErrors `json:"errors,omitempty"`

	// retryAfter, when set, goes out as the Retry-After header.
	retryAfter time.Duration
	// authenticate, when set, goes out as the WWW-Authenticate header.
	authenticate string
}

func (p *problem) Error() string { return p.Title + ": " + p.Detail }

// writeHeaders sets the headers that go with the problem.
func (p *problem) writeHeaders(c echo.Context) {
	h := c.Response().Header()
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retrySeconds(p.retryAfter)))
	}
	if p.authenticate != "" {
		h.Set(echo.HeaderWWWAuthenticate, p.authenticate)
	}
}

// fieldErrors are the messages for each invalid field of a request.
type fieldErrors map[string][]string

// add records a message for a field, once.
func (fe *fieldErrors) add(field, message string) {
	if *fe == nil {
		*fe = fieldErrors{}
	}
	if !slices.Contains((*fe)[field], message) {
		(*fe)[field] = append((*fe)[field], message)
	}
}

// problemType is a kind of problem: its type URI never changes, so clients
// can branch on it; its title is the status's reason phrase, as clients of
// the platform expect ("404 Not Found"); the detail says what happened
// this time.
type problemType struct {
	slug   string
	status int
}

// problemTypeBase prefixes every problem type URI.
const problemTypeBase = "urn:apitokens:problem:"

// The kinds of problem. Those the API can answer are listed in
// openapi.json; forbidden, password-required and too-many-requests come
// from pages. service-unavailable answers a store error that wraps
// store.ErrUnavailable, on pages and in the API alike.
var (
	problemUnauthorized         = problemType{"unauthorized", http.StatusUnauthorized}
	problemForbidden            = problemType{"forbidden", http.StatusForbidden}
	problemInsufficientScope    = problemType{"insufficient-scope", http.StatusForbidden}
	problemPasswordRequired     = problemType{"password-required", http.StatusForbidden}
	problemNotFound             = problemType{"not-found", http.StatusNotFound}
	problemMethodNotAllowed     = problemType{"method-not-allowed", http.StatusMethodNotAllowed}
	problemConflict             = problemType{"conflict", http.StatusConflict}
	problemBodyTooLarge         = problemType{"body-too-large", http.StatusRequestEntityTooLarge}
	problemUnsupportedMediaType = problemType{"unsupported-media-type", http.StatusUnsupportedMediaType}
	problemMalformedBody        = problemType{"malformed-body", http.StatusBadRequest}
	problemInvalidParameters    = problemType{"invalid-parameters", http.StatusBadRequest}
	problemBadQuery             = problemType{"invalid-query", http.StatusBadRequest}
	problemValidation           = problemType{"validation-failed", http.StatusBadRequest}
	problemTooManyFailures      = problemType{"too-many-failures", http.StatusTooManyRequests}
	problemTooManyRequests      = problemType{"too-many-requests", http.StatusTooManyRequests}
	problemServerError          = problemType{"server-error", http.StatusInternalServerError}
	problemUnavailable          = problemType{"service-unavailable", http.StatusServiceUnavailable}
)

// problemTypesByStatus names the kind of problem of an HTTP error that
// carries a status alone (Echo's router, a body limit, a handler's
// echo.NewHTTPError).
var problemTypesByStatus = map[int]problemType{
	http.StatusBadRequest:            problemMalformedBody,
	http.StatusUnauthorized:          problemUnauthorized,
	http.StatusForbidden:             problemForbidden,
	http.StatusNotFound:              problemNotFound,
	http.StatusMethodNotAllowed:      problemMethodNotAllowed,
	http.StatusConflict:              problemConflict,
	http.StatusRequestEntityTooLarge: problemBodyTooLarge,
	http.StatusUnsupportedMediaType:  problemUnsupportedMediaType,
	http.StatusTooManyRequests:       problemTooManyFailures,
}

// with makes a problem of this kind.
func (pt problemType) with(detail string) *problem {
	return &problem{Type: problemTypeBase + pt.slug, Title: http.StatusText(pt.status), Status: pt.status, Detail: detail}
}

// is reports whether the problem is of the kind pt.
func (p *problem) is(pt problemType) bool { return p.Type == problemTypeBase+pt.slug }

// tooManyAttempts is the answer to an attempt made before a limiter allows
// the next one: what went wrong too often, and when to try again.
func tooManyAttempts(what string, wait time.Duration) *problem {
	return problemTooManyFailures.retryAfter(what, wait)
}

// retryAfter makes a problem of this kind that says what happened too
// often, and when to try again.
func (pt problemType) retryAfter(what string, wait time.Duration) *problem {
	p := pt.with(fmt.Sprintf("%s Try again in %d seconds.", what, retrySeconds(wait)))
	p.retryAfter = wait
	return p
}

// retrySeconds rounds a wait up to whole seconds, as Retry-After counts.
func retrySeconds(wait time.Duration) int { return int(math.Ceil(wait.Seconds())) }
