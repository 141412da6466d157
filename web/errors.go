package web

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
)

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render renders a component into a buffer first, so that a failure never
// leaves a half-written page, then sends it with the status.
func render(c echo.Context, status int, comp templ.Component) error {
	buf := buffers.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		buffers.Put(buf)
	}()
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// handleError is the one place errors become responses: not found is a 404,
// HTTP errors keep their status and message, and anything else is logged and
// answered with a generic 500 page.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		s.log.Error("error after response started", slog.String("path", c.Request().URL.Path), slog.Any("err", err))
		return
	}
	if isAPIPath(c.Request().URL.Path) {
		s.handleAPIError(err, c)
		return
	}
	status, title, message := http.StatusInternalServerError, "Something went wrong",
		"The server could not complete the request. Nothing was changed; please try again."
	var he *echo.HTTPError
	switch {
	case errors.Is(err, store.ErrNotFound):
		status, title, message = http.StatusNotFound, "Not found",
			"This API token does not exist, or it has been deleted."
	case errors.As(err, &he):
		status = he.Code
		title = http.StatusText(status)
		message = describe(status)
		// Echo's own messages only repeat the status text; ours explain.
		if m, ok := he.Message.(string); ok && m != http.StatusText(status) && status < 500 {
			message = m
		}
	}
	if status >= 500 {
		s.log.Error("request failed", slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path), slog.Any("err", err))
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	p, _ := s.page(c, title)
	if err := render(c, status, templates.ErrorPage(p, status, title, message)); err != nil {
		s.log.Error("render error page", slog.Any("err", err))
		c.String(status, title+"\n")
	}
}

// describe says in plain words what a status means for the person who got it.
func describe(status int) string {
	switch status {
	case http.StatusNotFound:
		return "There is no page at this address."
	case http.StatusForbidden:
		return "You do not have access to this page."
	case http.StatusMethodNotAllowed:
		return "This address does not accept that kind of request."
	case http.StatusRequestEntityTooLarge:
		return "What was sent is too large."
	}
	return "The request could not be completed."
}
