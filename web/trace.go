package web

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/labstack/echo/v4"
)

// traceHeader carries the request's trace ID in every response, so that
// whoever reports a failed call can quote it, and the log line with the
// same ID can be found.
const traceHeader = "X-Trace-Id"

// ctxTraceID is the Echo context key of the request's trace ID.
const ctxTraceID = "traceID"

// traceRequests gives each request its trace ID before anything else runs,
// so that every answer carries it, errors from the router included. The
// ID is made here, never taken from the request: a client could otherwise
// write what it likes into the log.
func traceRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := newTraceID()
		c.Set(ctxTraceID, id)
		c.Response().Header().Set(traceHeader, id)
		return next(c)
	}
}

// traceID is the request's trace ID.
func traceID(c echo.Context) string {
	id, _ := c.Get(ctxTraceID).(string)
	return id
}

// newTraceID makes an ID in the form of a W3C traceparent (version,
// 16-byte trace ID, 8-byte span ID, flags), the form the platform's
// clients know from its answers.
func newTraceID() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // never fails: see crypto/rand.Read
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-00"
}
