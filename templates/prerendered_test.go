package templates

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

// renderString is what c renders, for a test.
func renderString(t *testing.T, c interface {
	Render(context.Context, io.Writer) error
}) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPageDialogs: the dialogs put together from pieces are the dialogs
// actionDialogs renders, with the page's own CSRF token in each form.
func TestPageDialogs(t *testing.T) {
	p := Page{CSRF: "masked-token_0123"}
	for _, origin := range []Origin{FromList, FromDetails} {
		got, want := renderString(t, pageDialogs(p, origin)), renderString(t, actionDialogs(p, origin))
		if got != want {
			t.Errorf("%s: pieces give\n%s\nwant\n%s", origin, got, want)
		}
		if n := strings.Count(got, `name="_csrf" value="masked-token_0123"`); n != len(Confirmations) {
			t.Errorf("%s: %d forms carry the page's token, want %d", origin, n, len(Confirmations))
		}
	}
}

// TestPageRowMenu: a row's menu put together from pieces is the menu
// rowMenu renders for the token, in each of its states.
func TestPageRowMenu(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tok := range []store.Token{
		{ID: "TKN-1111-2222", Status: store.StatusActive},
		{ID: "TKN-3333-4444", Status: store.StatusDisabled},
		{ID: "TKN-5555-6666", Status: store.StatusActive, ExpiresAt: now.Add(-time.Hour)},
		{ID: "TKN-7777-8888", Status: store.StatusActive},
	} {
		actions := tok.Actions(now)
		got, want := renderString(t, pageRowMenu(tok.ID, actions)), renderString(t, rowMenu(tok.ID, actions))
		if got != want {
			t.Errorf("%s: pieces give\n%s\nwant\n%s", tok.ID, got, want)
		}
		if n := strings.Count(got, tok.ID); n < 3 {
			t.Errorf("%s: named %d times in its menu", tok.ID, n)
		}
	}
}
