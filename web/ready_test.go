package web_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"apitokens/store"
	"apitokens/store/storetest"
	"apitokens/web"
	"apitokens/web/paths"
)

// checkProbeHeaders fails unless a probe's answer carries what every
// answer does (the security headers, no caching) and makes no session.
func checkProbeHeaders(t *testing.T, res *response) {
	t.Helper()
	h := res.header
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v, want the security headers and no caching", h)
	}
	if c := h.Get("Set-Cookie"); c != "" {
		t.Errorf("a probe made a session: Set-Cookie %q", c)
	}
}

// TestReadiness checks /readyz as a load balancer sees it: 200 while the
// database answers, 503 with Retry-After while it does not; and /healthz,
// which says only that the process serves, 200 either way.
func TestReadiness(t *testing.T) {
	t.Run("DatabaseAnswers", func(t *testing.T) {
		app := newTestApp(t)
		res := app.client(t).get("/readyz")
		if res.status != http.StatusOK || res.body != "ready\n" || res.header.Get("Retry-After") != "" {
			t.Fatalf("= %d, Retry-After %q: %q; want 200 ready", res.status, res.header.Get("Retry-After"), res.body)
		}
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q, want text/plain", ct)
		}
		checkProbeHeaders(t, res)
	})
	t.Run("DatabaseClosed", func(t *testing.T) {
		app := newTestApp(t)
		if err := app.store.Close(); err != nil {
			t.Fatal(err)
		}
		res := app.client(t).get("/readyz")
		if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") != "5" || !strings.Contains(res.body, "database unavailable") {
			t.Fatalf("= %d, Retry-After %q: %q; want 503 after 5 s, saying the database is unavailable",
				res.status, res.header.Get("Retry-After"), res.body)
		}
		checkProbeHeaders(t, res)
		// A probe that fails every few seconds while the database is down
		// must not flood the log with errors: one warning per probe.
		logs := app.logs.String()
		if n := strings.Count(logs, "level=WARN"); n != 1 || !strings.Contains(logs, "not ready") {
			t.Errorf("%d warnings, want the one saying why it is not ready:\n%s", n, logs)
		}
		if strings.Contains(logs, "level=ERROR") {
			t.Errorf("a failed readiness check is logged as an error:\n%s", logs)
		}
	})
	t.Run("LivenessIgnoresTheDatabase", func(t *testing.T) {
		app := newTestApp(t)
		if err := app.store.Close(); err != nil {
			t.Fatal(err)
		}
		res := app.client(t).get("/healthz")
		if res.status != http.StatusOK || res.body != "ok\n" {
			t.Fatalf("= %d %q; want 200 ok: a restart would not bring the database back", res.status, res.body)
		}
		checkProbeHeaders(t, res)
	})
}

// TestPostgresUnavailable cuts the running server's link to PostgreSQL:
// a person gets the error page and an API client a problem, both 503 with
// Retry-After and neither showing the cause, and /readyz answers 503; once
// the link is back, everything works again without a restart.
func TestPostgresUnavailable(t *testing.T) {
	dsn, link := storetest.Via(t, storetest.PostgresDSN(t))
	app := newTestAppOn(t, dsn, func(c *web.Config) { c.TrustedProxies = web.LoopbackProxies })
	_, secret := app.managerToken("Manager")
	browser := app.signedIn(t, app.admin)
	api := app.api(t, secret)
	link.Cut()

	start := time.Now()
	page := browser.get(tokensPath)
	if page.status != http.StatusServiceUnavailable || page.header.Get("Retry-After") != "5" {
		t.Log(app.logs.String())
		t.Fatalf("page = %d, Retry-After %q; want 503 after 5 s:\n%s", page.status, page.header.Get("Retry-After"), page.text())
	}
	if !strings.Contains(page.body, "</html>") || !strings.Contains(page.text(), "The database cannot be reached just now") {
		t.Fatalf("not the error page saying the database cannot be reached:\n%s", page.text())
	}
	// The session could not be read either: the way on is the same page,
	// not a sign-in that would meet the same silence.
	if !strings.Contains(page.body, `href="`+tokensPath+`">Try again</a>`) || strings.Contains(page.text(), "Sign in") {
		t.Errorf("the page offers no Try again of %s, or offers Sign in:\n%s", tokensPath, page.text())
	}
	res := api.get(apiTokens)
	p := res.problem(t, http.StatusServiceUnavailable, "service-unavailable")
	if res.header.Get("Retry-After") != "5" || !strings.Contains(p.Detail, "database cannot be reached") {
		t.Errorf("Retry-After %q, detail %q", res.header.Get("Retry-After"), p.Detail)
	}
	for _, body := range []string{page.body, string(res.body)} {
		for _, leak := range []string{"127.0.0.1", "dial tcp", "refused", "EOF", "sql:"} {
			if strings.Contains(body, leak) {
				t.Errorf("an answer shows the cause (%q):\n%s", leak, body)
			}
		}
	}
	if ready := app.client(t).get(paths.Ready); ready.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while the database is cut off, want 503", ready.status)
	}
	// The log says it once, however many layers saw the connection go.
	_, _, writeErr := app.store.SetTokenStatus(t.Context(), app.account.ID, "TKN-0000-0000", store.StatusDisabled, store.UserActor(app.admin.ID, ""))
	for _, err := range []error{app.store.Ping(t.Context()), writeErr} {
		if !errors.Is(err, store.ErrUnavailable) || strings.Count(err.Error(), store.ErrUnavailable.Error()) != 1 {
			t.Errorf("while cut off: %v; want ErrUnavailable, named once", err)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("three requests took %v while the database was cut off: they must not hang", took)
	}

	link.Restore()
	if page := browser.get(tokensPath); page.status != http.StatusOK {
		t.Fatalf("after the database came back: page = %d, want 200", page.status)
	}
	var list struct{ Data []any }
	api.get(apiTokens).decode(t, http.StatusOK, &list)
	if len(list.Data) != 1 {
		t.Errorf("after the database came back the API lists %d tokens, want the 1", len(list.Data))
	}
	if ready := app.client(t).get(paths.Ready); ready.status != http.StatusOK {
		t.Errorf("/readyz = %d after the database came back, want 200", ready.status)
	}
}
