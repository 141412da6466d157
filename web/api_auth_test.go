package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

func TestAPIAuthentication(t *testing.T) {
	app := newAPIApp(t)
	ctx := context.Background()
	manager, secret := app.managerToken("Automation")
	disabled, disabledSecret := app.managerToken("Disabled one")
	if _, _, err := app.store.SetTokenStatus(ctx, app.account.ID, disabled.ID, store.StatusDisabled, store.UserActor(app.admin.ID, "")); err != nil {
		t.Fatal(err)
	}
	deleted, deletedSecret := app.managerToken("Deleted one")
	if _, err := app.store.DeleteToken(ctx, app.account.ID, deleted.ID, store.UserActor(app.admin.ID, "")); err != nil {
		t.Fatal(err)
	}
	expiring, expiringSecret, err := app.store.CreateToken(ctx, store.NewToken{AccountID: app.account.ID, Name: "Expiring",
		ModuleIDs: []string{app.module(store.ModuleAccessManagement).ID}, ExpiresAt: app.clock.Now().Add(time.Hour)},
		store.UserActor(app.admin.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	app.clock.Add(time.Hour)

	t.Run("OK", func(t *testing.T) {
		res := app.api(t, secret).get(apiTokens)
		var page apiPage
		res.decode(t, http.StatusOK, &page)
		if page.Meta.Pagination.Total != 3 || len(page.Data) != 3 {
			t.Fatalf("list %+v, want the 3 tokens not deleted", page.Meta)
		}
		h := res.header
		if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("headers %v", h)
		}
		if h.Get("Set-Cookie") != "" {
			t.Fatalf("the API set a cookie: %s", h.Get("Set-Cookie"))
		}
	})
	t.Run("SchemeIsCaseInsensitive", func(t *testing.T) {
		res := app.api(t, "").send(http.MethodGet, apiTokens, "", nil, "Authorization", "bearer "+secret)
		if res.status != http.StatusOK {
			t.Fatalf("lower-case bearer = %d", res.status)
		}
	})

	// Every rejection must look the same to the caller.
	rejected := []struct {
		name, secret, tokenID, reason string
	}{
		{"Malformed", "not-a-token", "", store.RejectMalformed},
		{"Empty", "", "", store.RejectMalformed},
		{"BadChecksum", badChecksum(secret), "", store.RejectMalformed},
		{"NeverIssued", forgeSecret(manager.ID), manager.ID, store.RejectUnknown},
		{"Disabled", disabledSecret, disabled.ID, store.RejectDisabled},
		{"Deleted", deletedSecret, deleted.ID, store.RejectUnknown},
		{"Expired", expiringSecret, expiring.ID, store.RejectExpired},
	}
	// Only the trace ID differs, as it does for every request.
	var first *apiProblem
	for _, tc := range rejected {
		t.Run("Err"+tc.name, func(t *testing.T) {
			res := app.api(t, "").send(http.MethodGet, apiTokens, "", nil, "Authorization", "Bearer "+tc.secret)
			p := res.problem(t, http.StatusUnauthorized, "unauthorized")
			if got := res.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
			if !strings.Contains(app.logs.String(), "traceId="+p.TraceID) {
				t.Errorf("no log line has the answer's traceId %s", p.TraceID)
			}
			p.TraceID = ""
			if first == nil {
				first = &p
			} else if !reflect.DeepEqual(p, *first) {
				t.Errorf("body differs from another rejection's:\n%+v\n%+v", p, *first)
			}
			logs := app.logs.String()
			want := "reason=" + tc.reason + " token=" + tc.tokenID
			if tc.tokenID == "" {
				want += `""`
			}
			if !strings.Contains(logs, want) {
				t.Errorf("the log does not say %q:\n%s", want, logs)
			}
			if tc.secret != "" && strings.Contains(logs, tc.secret) {
				t.Fatalf("the log holds the secret:\n%s", logs)
			}
		})
	}

	// Credentials anywhere but the Authorization header are not looked at.
	elsewhere := []struct {
		name string
		send func(c *apiClient) *apiResponse
	}{
		{"None", func(c *apiClient) *apiResponse { return c.get(apiTokens) }},
		{"QueryString", func(c *apiClient) *apiResponse {
			return c.get(apiTokens + "?access_token=" + url.QueryEscape(secret) + "&token=" + url.QueryEscape(secret))
		}},
		{"Cookie", func(c *apiClient) *apiResponse {
			return c.send(http.MethodGet, apiTokens, "", nil, "Cookie", "access_token="+secret+"; token="+secret)
		}},
		{"Body", func(c *apiClient) *apiResponse {
			return c.send(http.MethodPost, apiTokens, "application/json", []byte(`{"access_token":"`+secret+`","name":"x"}`))
		}},
		{"BasicScheme", func(c *apiClient) *apiResponse {
			return c.send(http.MethodGet, apiTokens, "", nil, "Authorization", "Basic "+secret)
		}},
	}
	for _, tc := range elsewhere {
		t.Run("Ignored"+tc.name, func(t *testing.T) {
			res := tc.send(app.api(t, ""))
			p := res.problem(t, http.StatusUnauthorized, "unauthorized")
			if got := res.header.Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate %q, want a bare Bearer challenge", got)
			}
			if p.TraceID = ""; !reflect.DeepEqual(p, *first) {
				t.Errorf("body %+v differs from a rejected token's", p)
			}
		})
	}
	t.Run("NothingCreatedByBodyToken", func(t *testing.T) {
		page, _ := app.store.ListTokens(ctx, app.account.ID, store.TokenFilter{})
		if page.Total != 3 {
			t.Fatalf("%d tokens, want 3", page.Total)
		}
	})

	t.Run("ErrInsufficientScope", func(t *testing.T) {
		_, billing := app.createToken("Billing only", app.module("billing"))
		res := app.api(t, billing).get(apiTokens)
		res.problem(t, http.StatusForbidden, "insufficient-scope")
		if got := res.header.Get("WWW-Authenticate"); got != `Bearer error="insufficient_scope"` {
			t.Errorf("WWW-Authenticate %q", got)
		}
		_, none := app.createToken("No modules")
		app.api(t, none).call(http.MethodDelete, apiTokens+"/"+manager.ID, nil).problem(t, http.StatusForbidden, "insufficient-scope")
		if !app.tokenExists(app.account.ID, manager.ID) {
			t.Fatal("a token without the module deleted a token")
		}
	})
}

// TestAPIBadChecksumNeedsNoDatabase closes the database under the server: a
// secret with a bad checksum is still rejected, so it was never looked up,
// while a well-formed one needs the database and fails with a 500.
func TestAPIBadChecksumNeedsNoDatabase(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("Automation")
	app.store.Close()
	for _, bad := range []string{badChecksum(secret), "apitk_0000", secret + "x"} {
		app.api(t, bad).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	}
	p := app.api(t, secret).get(apiTokens).problem(t, http.StatusInternalServerError, "server-error")
	if strings.Contains(p.Detail, "database") || strings.Contains(p.Detail, "sql") {
		t.Fatalf("the 500 leaks internals: %s", p.Detail)
	}
	if !strings.Contains(app.logs.String(), "database is closed") {
		t.Fatalf("the 500 was not logged:\n%s", app.logs.String())
	}
}

func TestAPILastAccess(t *testing.T) {
	app := newAPIApp(t)
	ctx := context.Background()
	tok, secret := app.managerToken("Automation")
	c := app.api(t, secret)
	stored := func(t *testing.T) time.Time {
		t.Helper()
		got, err := app.store.TokenByID(ctx, app.account.ID, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.LastAccessAt
	}
	flush := func(t *testing.T) {
		t.Helper()
		if err := app.srv.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	first := app.clock.Now()
	if page := app.signedIn(t, app.admin).get(tokensPath).text(); !strings.Contains(page, "Never 0 Active") {
		t.Fatalf("the web list shows a last access before any:\n%s", page)
	}
	t.Run("NotWrittenOnTheRequest", func(t *testing.T) {
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		if got := stored(t); !got.IsZero() {
			t.Fatalf("the request itself wrote last access %v", got)
		}
	})
	t.Run("WrittenByTheFlush", func(t *testing.T) {
		flush(t)
		if got := stored(t); !got.Equal(first) {
			t.Fatalf("last access %v, want %v", got, first)
		}
		var got apiTokenJSON
		c.get(apiTokens+"/"+tok.ID).decode(t, http.StatusOK, &got)
		if got.LastAccessAt == nil || !got.LastAccessAt.Equal(first) {
			t.Fatalf("API shows lastAccessAt %v", got.LastAccessAt)
		}
		if page := app.signedIn(t, app.admin).get(tokensPath).text(); strings.Contains(page, "Never") {
			t.Fatalf("the web list does not show the last access:\n%s", page)
		}
	})
	t.Run("LatestCallOfTheBatch", func(t *testing.T) {
		// Two calls in one batch: the later one is the last access.
		app.clock.Add(30 * time.Second)
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		app.clock.Add(31 * time.Second)
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		if got := stored(t); !got.Equal(first) {
			t.Fatalf("last access moved before the flush, to %v", got)
		}
		flush(t)
		if got := stored(t); !got.Equal(first.Add(61 * time.Second)) {
			t.Fatalf("last access %v, want %v", got, first.Add(61*time.Second))
		}
	})
	t.Run("DeletedBeforeTheFlush", func(t *testing.T) {
		other, otherSecret := app.managerToken("Short-lived")
		app.clock.Add(2 * time.Minute)
		app.api(t, otherSecret).get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		if _, err := app.store.DeleteToken(ctx, app.account.ID, other.ID, store.UserActor(app.admin.ID, "")); err != nil {
			t.Fatal(err)
		}
		flush(t)
		if got := stored(t); !got.Equal(app.clock.Now()) {
			t.Fatalf("the batch with a deleted token lost the live one: %v", got)
		}
	})
	t.Run("FlushedOnClose", func(t *testing.T) {
		app.clock.Add(2 * time.Minute)
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		if err := app.srv.Close(); err != nil {
			t.Fatal(err)
		}
		if got := stored(t); !got.Equal(app.clock.Now()) {
			t.Fatalf("Close did not write the pending last access: %v", got)
		}
	})
}

func TestAPIRateLimit(t *testing.T) {
	app := newAPIApp(t)
	tok, secret := app.managerToken("Automation")
	wrong := forgeSecret(tok.ID)
	attacker := app.api(t, wrong).from("203.0.113.9")
	for i := range 10 {
		if res := attacker.get(apiTokens); res.status != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, res.status)
		}
	}
	t.Run("Refused", func(t *testing.T) {
		for _, bad := range []string{wrong, badChecksum(secret), "apitk_nonsense"} {
			res := attacker.as(bad).get(apiTokens)
			res.problem(t, http.StatusTooManyRequests, "too-many-failures")
			if res.header.Get("Retry-After") != "6" {
				t.Fatalf("Retry-After %q, want 6", res.header.Get("Retry-After"))
			}
		}
	})
	t.Run("ValidTokenFromTheSameAddressWorks", func(t *testing.T) {
		// Behind one NAT, one broken client must not lock out the others.
		attacker.as(secret).get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		attacker.get(apiTokens).problem(t, http.StatusTooManyRequests, "too-many-failures")
	})
	t.Run("OtherAddressesUnaffected", func(t *testing.T) {
		app.api(t, secret).from("203.0.113.10").get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		app.api(t, wrong).from("203.0.113.11").get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("IPv6CountsBy64", func(t *testing.T) {
		for range 10 {
			app.api(t, wrong).from(fmt.Sprintf("2001:db8:1:2::%x", nextClientIP.Add(1))).get(apiTokens)
		}
		app.api(t, wrong).from("2001:db8:1:2::ffff").get(apiTokens).problem(t, http.StatusTooManyRequests, "too-many-failures")
		app.api(t, secret).from("2001:db8:1:2::ffff").get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		app.api(t, wrong).from("2001:db8:1:3::1").get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("SlowedAfterTheWait", func(t *testing.T) {
		app.clock.Add(6 * time.Second)
		attacker.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		res := attacker.get(apiTokens)
		res.problem(t, http.StatusTooManyRequests, "too-many-failures")
		app.clock.Add(time.Minute)
		attacker.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("MissingTokenIsNotAFailure", func(t *testing.T) {
		anon := app.api(t, "")
		for range 20 {
			anon.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		}
		anon.as(secret).get(apiTokens).decode(t, http.StatusOK, &apiPage{})
	})
	t.Run("ThrottledGarbageReadsNoDatabase", func(t *testing.T) {
		for range 10 {
			attacker.get(apiTokens)
		}
		// With the database gone, a read would fail with 500: a malformed
		// secret or a bad checksum from a throttled address is refused
		// before any.
		app.store.Close()
		for _, bad := range []string{badChecksum(secret), "apitk_nonsense", strings.Repeat("x", 4000)} {
			attacker.as(bad).get(apiTokens).problem(t, http.StatusTooManyRequests, "too-many-failures")
		}
	})
}
