package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

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

// Kinds of flash message; each travels under its own key in the session.
const (
	flashSuccess = "success"
	flashWarning = "warning" // done in part, or not done, with what to do instead
	flashError   = "error"
)

var flashKinds = []string{flashSuccess, flashWarning, flashError}

// flashKey is where gorilla/sessions keeps the messages of a kind.
func flashKey(kind string) string { return "flash_" + kind }

// page gathers what the layout needs, taking the session's flash messages.
func (s *Server) page(c echo.Context, title string) (templates.Page, error) {
	p := templates.Page{Title: title, CSRF: maskCSRF(csrfToken(c)), Now: s.now(), Path: c.Request().URL.Path}
	p.User, _ = currentUser(c)
	sess := session(c)
	// A HEAD request shows nothing, and a page a script fetches (the form
	// of a dialog) is not the one the person sees next: neither may use up
	// the message.
	if sess == nil || c.Request().Method == http.MethodHead || fetchedByScript(c.Request()) {
		return p, nil
	}
	for _, kind := range flashKinds {
		for _, m := range sess.Flashes(flashKey(kind)) {
			if msg, ok := m.(string); ok {
				p.Flashes = append(p.Flashes, templates.Flash{Kind: kind, Message: msg})
			}
		}
	}
	if len(p.Flashes) > 0 {
		if err := s.saveSession(c, sess); err != nil {
			return p, err
		}
	}
	return p, nil
}

// flash leaves a message for the next page. It runs after a change has been
// committed, so it never fails the request: a message that cannot be saved
// is logged and lost, and the page itself shows the change. A new message
// replaces one not yet shown, keeping the cookie small.
func (s *Server) flash(c echo.Context, kind, message string) {
	sess := session(c)
	for _, k := range flashKinds {
		sess.Flashes(flashKey(k))
	}
	sess.AddFlash(message, flashKey(kind))
	if err := s.saveSession(c, sess); err != nil {
		s.log.Error("save flash message", slog.String("path", c.Request().URL.Path), slog.Any("err", err))
	}
}

// postValue is a field of the request body, which checkCSRF has parsed. The
// query string is never read for a form field.
func postValue(c echo.Context, name string) string {
	return c.Request().PostForm.Get(name)
}

// fetchedByScript reports whether a script asked for the page rather than
// the browser to show it, by the Fetch Metadata the browser sends.
func fetchedByScript(r *http.Request) bool {
	dest := r.Header.Get("Sec-Fetch-Dest")
	return dest != "" && dest != "document"
}
