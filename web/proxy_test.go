package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"apitokens/store"
	"apitokens/web"
)

// TestTrustedProxy: behind a trusted proxy, the client is the address that
// proxy saw (the right-most in X-Forwarded-For that is not a trusted
// proxy), whatever the client wrote to the left of it.
func TestTrustedProxy(t *testing.T) {
	app := newAPIApp(t) // trusts loopback, where the test's requests come from
	tok, secret := app.managerToken("Automation")
	wrong := forgeSecret(tok.ID)
	limited := false
	for n := range 25 {
		res := app.api(t, wrong).from(fmt.Sprintf("203.0.113.%d, 10.1.2.3", n+1)).get(apiTokens)
		if res.status == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Fatal("25 bad tokens, each with another made-up address on the left, never reached 429")
	}
	var created struct{ ID string }
	app.api(t, secret).from("203.0.113.99, 10.1.2.3").
		call(http.MethodPost, apiTokens, map[string]any{"name": "Made behind the proxy"}).decode(t, http.StatusCreated, &created)
	if ip := auditIP(t, app, created.ID); ip != "10.1.2.3" {
		t.Fatalf("the audit trail says the token was made from %q, want 10.1.2.3, the address the proxy saw", ip)
	}
	if logs := app.logs.String(); strings.Contains(logs, "203.0.113.") || !strings.Contains(logs, "ip=10.1.2.3") {
		t.Fatalf("the request log names a made-up address or not the real one:\n%s", logs)
	}
}

// TestUntrustedPeer: X-Forwarded-For and X-Forwarded-Proto from a peer that
// is not a named proxy are ignored.
func TestUntrustedPeer(t *testing.T) {
	app := newTestApp(t, func(c *web.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
	_, secret := app.managerToken("Automation")
	var created struct{ ID string }
	res := app.api(t, secret).from("198.51.100.7").
		call(http.MethodPost, apiTokens, map[string]any{"name": "Made directly"})
	res.decode(t, http.StatusCreated, &created)
	if ip := auditIP(t, app, created.ID); ip != "127.0.0.1" {
		t.Fatalf("the audit trail says %q, want the peer, 127.0.0.1", ip)
	}
	c := app.client(t)
	req, err := http.NewRequest(http.MethodGet, app.url+"/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-Proto", "https")
	if got := c.do(req).header.Get("Strict-Transport-Security"); got != "" {
		t.Fatalf("a peer that is no proxy said https and got Strict-Transport-Security %q", got)
	}
}

// auditIP is the address the audit trail gives for a token's creation.
func auditIP(t *testing.T, app *testApp, tokenID string) string {
	t.Helper()
	events, err := app.store.AuditEvents(context.Background(), app.account.ID, tokenID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Action == store.AuditCreated {
			return e.IP
		}
	}
	t.Fatalf("no creation in the audit trail of %s", tokenID)
	return ""
}
