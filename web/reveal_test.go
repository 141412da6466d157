package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

// pngImage is a w×h PNG.
func TestRevealToken(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.createToken("Reveal me")
	c := app.signedIn(t, app.admin)
	details := tokensPath + "/" + tok.ID
	reveal := details + "/reveal"

	if strings.Contains(c.get(details).body, secret) {
		t.Fatal("the details page shows the secret before it is asked for")
	}
	t.Run("ErrNoCSRF", func(t *testing.T) {
		if res := c.post(reveal, nil); res.status != http.StatusForbidden || strings.Contains(res.body, secret) {
			t.Fatalf("status %d", res.status)
		}
	})
	t.Run("RightAfterSignIn", func(t *testing.T) {
		res := c.submit(details, reveal, nil)
		if res.status != 200 || !strings.Contains(res.body, secret) || res.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("reveal = %d, Cache-Control %q", res.status, res.header.Get("Cache-Control"))
		}
	})
	t.Run("AsksForThePasswordAfter10Minutes", func(t *testing.T) {
		app.clock.Add(10 * time.Minute)
		res := c.submit(details, reveal, nil)
		if res.status != http.StatusForbidden || strings.Contains(res.body, secret) || !strings.Contains(res.text(), "Confirm your password") {
			t.Fatalf("reveal = %d:\n%s", res.status, res.text())
		}
		res = c.submit(details, reveal, url.Values{"password": {"not it"}})
		if res.status != http.StatusUnprocessableEntity || strings.Contains(res.body, secret) || !strings.Contains(res.text(), "That password is not right.") {
			t.Fatalf("wrong password = %d:\n%s", res.status, res.text())
		}
		res = c.submit(details, reveal, url.Values{"password": {password}})
		if res.status != 200 || !strings.Contains(res.body, secret) {
			t.Fatalf("right password = %d", res.status)
		}
		app.clock.Add(9 * time.Minute)
		if res := c.submit(details, reveal, nil); res.status != 200 {
			t.Fatalf("within 10 minutes of confirming = %d", res.status)
		}
	})
	t.Run("ErrTooManyWrongPasswords", func(t *testing.T) {
		app.clock.Add(11 * time.Minute)
		for i := range 5 {
			if res := c.submit(details, reveal, url.Values{"password": {"guess"}}); res.status != http.StatusUnprocessableEntity {
				t.Fatalf("wrong password %d = %d, want 422", i+1, res.status)
			}
		}
		res := c.submit(details, reveal, url.Values{"password": {password}})
		if res.status != http.StatusTooManyRequests || strings.Contains(res.body, secret) || !strings.Contains(res.text(), "Too many wrong passwords.") {
			t.Fatalf("sixth try = %d:\n%.300s", res.status, res.text())
		}
		app.clock.Add(time.Minute)
		if res := c.submit(details, reveal, url.Values{"password": {password}}); res.status != 200 || !strings.Contains(res.body, secret) {
			t.Fatalf("after a minute = %d", res.status)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		// A script asking for JSON gets the value, or a problem (RFC 9457)
		// saying what to do first, like every other error it may meet.
		app.clock.Add(11 * time.Minute)
		csrf := c.get(details).csrf(t)
		type answer struct {
			Token  string              `json:"token"`
			Type   string              `json:"type"`
			Status int                 `json:"status"`
			Errors map[string][]string `json:"errors"`
		}
		ask := func(form url.Values) (int, string, answer) {
			form.Set("_csrf", csrf)
			res := c.post(reveal, form, "Accept", "application/json")
			var body answer
			if err := json.Unmarshal([]byte(res.body), &body); err != nil {
				t.Fatalf("not JSON: %s", res.body)
			}
			return res.status, res.header.Get("Content-Type"), body
		}
		if status, ct, body := ask(url.Values{}); status != 403 || ct != "application/problem+json" ||
			body.Type != "urn:apitokens:problem:password-required" || body.Status != 403 || body.Token != "" {
			t.Fatalf("without password: %d %s %+v", status, ct, body)
		}
		if status, ct, body := ask(url.Values{"password": {"nope"}}); status != 400 || ct != "application/problem+json" ||
			len(body.Errors) != 1 || !slices.Equal(body.Errors["password"], []string{"That password is not right. Try again."}) {
			t.Fatalf("wrong password: %d %s %+v", status, ct, body)
		}
		if status, _, body := ask(url.Values{"password": {password}}); status != 200 || body.Token != secret {
			t.Fatalf("right password: %d %+v", status, body)
		}
	})
	t.Run("AuditedWithoutTheValue", func(t *testing.T) {
		audit := c.get(details + "?tab=audit").text()
		if n := strings.Count(audit, "Ada Admin "+app.admin.ID+" 127.0.0.1 Go 1 Token value shown"); n != 5 {
			t.Errorf("%d reveals in the audit trail, want 5:\n%s", n, audit)
		}
		if strings.Contains(audit, secret) || strings.Contains(app.logs.String(), secret) {
			t.Fatal("the secret is in the audit trail or the log")
		}
	})
	t.Run("ErrOtherAccount", func(t *testing.T) {
		other := app.signedIn(t, app.otherAdmin)
		page := other.get(tokensPath)
		if res := other.post(reveal, url.Values{"_csrf": {page.csrf(t)}}); res.status != 404 || strings.Contains(res.body, secret) {
			t.Fatalf("status %d", res.status)
		}
	})
	t.Run("ErrMember", func(t *testing.T) {
		m := app.signedIn(t, app.member)
		page := m.get(tokensPath)
		if res := m.post(reveal, url.Values{"_csrf": {page.csrf(t)}}); res.status != 403 || strings.Contains(res.body, secret) {
			t.Fatalf("status %d", res.status)
		}
	})
}

// TestRevealRateLimit: within the confirmation's window a person is shown
// ten token values a minute, each in the audit trail; the eleventh waits.
func TestRevealRateLimit(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.createToken("Reveal me often")
	c := app.signedIn(t, app.admin)
	details := tokensPath + "/" + tok.ID
	reveal := details + "/reveal"
	csrf := c.get(details).csrf(t)
	for i := range 10 {
		if res := c.post(reveal, url.Values{"_csrf": {csrf}}); res.status != 200 || !strings.Contains(res.body, secret) {
			t.Fatalf("reveal %d = %d", i+1, res.status)
		}
	}
	t.Run("Page", func(t *testing.T) {
		res := c.post(reveal, url.Values{"_csrf": {csrf}})
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "6" ||
			strings.Contains(res.body, secret) || !strings.Contains(res.text(), "Too many token values were shown in the last minute. Try again in 6 seconds.") {
			t.Fatalf("11th reveal = %d, Retry-After %q:\n%.500s", res.status, res.header.Get("Retry-After"), res.text())
		}
	})
	t.Run("JSON", func(t *testing.T) {
		res := c.post(reveal, url.Values{"_csrf": {csrf}}, "Accept", "application/json")
		var p struct {
			Type   string `json:"type"`
			Status int    `json:"status"`
			Token  string `json:"token"`
		}
		if err := json.Unmarshal([]byte(res.body), &p); err != nil || res.status != http.StatusTooManyRequests ||
			res.header.Get("Content-Type") != "application/problem+json" || res.header.Get("Retry-After") != "6" ||
			p.Type != "urn:apitokens:problem:too-many-requests" || p.Status != 429 || p.Token != "" {
			t.Fatalf("11th reveal as JSON = %d %s %+v (%v)", res.status, res.header.Get("Content-Type"), p, err)
		}
	})
	t.Run("OtherPeopleUnaffected", func(t *testing.T) {
		other := app.mustUser(app.account, "second@acme.test", "Second Admin", store.RoleAdmin)
		o := app.signedIn(t, other)
		if res := o.post(reveal, url.Values{"_csrf": {o.get(details).csrf(t)}}); res.status != 200 {
			t.Fatalf("another administrator's reveal = %d", res.status)
		}
	})
	t.Run("AfterTheWait", func(t *testing.T) {
		app.clock.Add(6 * time.Second)
		if res := c.post(reveal, url.Values{"_csrf": {csrf}}); res.status != 200 || !strings.Contains(res.body, secret) {
			t.Fatalf("after 6 seconds = %d", res.status)
		}
	})
	t.Run("EachShownIsAudited", func(t *testing.T) {
		events, err := app.store.AuditEvents(context.Background(), app.account.ID, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		shown := 0
		for _, e := range events {
			if e.Action == store.AuditRevealed {
				shown++
			}
		}
		if shown != 12 {
			t.Fatalf("%d reveals audited, want 12 (10, another person's, one after the wait)", shown)
		}
	})
}
