package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSessionIdleTimeout(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	app.clock.Add(59 * time.Minute)
	if res := c.get(tokensPath); res.status != 200 {
		t.Fatalf("after 59 idle minutes = %d, want the list", res.status)
	}
	app.clock.Add(61 * time.Minute)
	res := c.get(tokensPath)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), "/login") {
		t.Fatalf("after an idle hour = %d → %q, want the sign-in page", res.status, res.location())
	}
}
