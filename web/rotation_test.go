package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

// apiRotated is the answer to a rotation.
type apiRotated struct {
	ID                     string     `json:"id"`
	Name                   string     `json:"name"`
	Token                  string     `json:"token"`
	PreviousTokenExpiresAt *time.Time `json:"previousTokenExpiresAt"`
	Modules                []struct {
		ID string `json:"id"`
	} `json:"modules"`
}

// TestAPIRotate rotates through the REST API: an integration that switches
// to the new secret within the grace period never sees a failed call, on
// any instance; past it, only the new secret works.
func TestAPIRotate(t *testing.T) {
	app := newAPIApp(t)
	_, manager := app.managerToken("Deployer")
	tok, old := app.managerToken("Integration")
	deployer := app.api(t, manager)
	second := app.another()

	// The integration calls with its secret before, during and after the
	// rotation, on both instances, and switches to the new one midway.
	integration := func(secret string) {
		t.Helper()
		for _, a := range []*testApp{app, second} {
			if res := a.api(t, secret).get(apiTokens + "/" + tok.ID); res.status != http.StatusOK {
				t.Fatalf("a call of the integration failed: %d %s", res.status, res.body)
			}
		}
	}
	integration(old)
	var got apiRotated
	deployer.call(http.MethodPost, apiTokens+"/"+tok.ID+"/rotate", map[string]string{"gracePeriod": "PT1H"}).decode(t, http.StatusOK, &got)
	if got.ID != tok.ID || got.Name != tok.Name || len(got.Modules) != 1 || got.Token == "" || got.Token == old {
		t.Fatalf("rotation answered %+v; want the same token with a new secret", got)
	}
	if want := app.clock.Now().Add(time.Hour); got.PreviousTokenExpiresAt == nil || !got.PreviousTokenExpiresAt.Equal(want) {
		t.Fatalf("previousTokenExpiresAt = %v, want %v", got.PreviousTokenExpiresAt, want)
	}
	integration(old)
	app.clock.Add(59 * time.Minute)
	integration(old)
	integration(got.Token) // switched within the grace period
	var read struct {
		PreviousTokenExpiresAt *time.Time `json:"previousTokenExpiresAt"`
	}
	deployer.get(apiTokens+"/"+tok.ID).decode(t, http.StatusOK, &read)
	if read.PreviousTokenExpiresAt == nil {
		t.Fatal("a read during the grace period does not say when the previous secret stops")
	}

	app.clock.Add(time.Minute)
	for _, a := range []*testApp{app, second} {
		a.api(t, old).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	}
	integration(got.Token)
	deployer.get(apiTokens+"/"+tok.ID).decode(t, http.StatusOK, &read)
	if read.PreviousTokenExpiresAt != nil {
		t.Fatalf("previousTokenExpiresAt = %v after the grace period, want null", read.PreviousTokenExpiresAt)
	}
	if n := app.auditCount(t, tok.ID, store.AuditRotated); n != 1 {
		t.Fatalf("%d rotations in the audit trail, want 1", n)
	}

	t.Run("Itself", func(t *testing.T) {
		self, secret := app.managerToken("Self-rotating")
		var got apiRotated
		app.api(t, secret).call(http.MethodPost, apiTokens+"/"+self.ID+"/rotate", nil).decode(t, http.StatusOK, &got)
		if want := app.clock.Now().Add(store.DefaultGracePeriod); got.PreviousTokenExpiresAt == nil || !got.PreviousTokenExpiresAt.Equal(want) {
			t.Fatalf("without a body, previousTokenExpiresAt = %v, want %v (the default grace period)", got.PreviousTokenExpiresAt, want)
		}
		app.api(t, secret).get(apiTokens).decode(t, http.StatusOK, &struct{}{})
		app.api(t, got.Token).get(apiTokens).decode(t, http.StatusOK, &struct{}{})
	})

	t.Run("AtOnce", func(t *testing.T) {
		leaked, secret := app.createToken("Leaked")
		var got apiRotated
		deployer.call(http.MethodPost, apiTokens+"/"+leaked.ID+"/rotate", map[string]string{"gracePeriod": "PT0S"}).decode(t, http.StatusOK, &got)
		if got.PreviousTokenExpiresAt != nil {
			t.Fatalf("previousTokenExpiresAt = %v, want null: the old secret stops at once", got.PreviousTokenExpiresAt)
		}
		app.api(t, secret).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	})

	t.Run("DisabledRefusesBoth", func(t *testing.T) {
		both, secret := app.managerToken("Both secrets")
		var got apiRotated
		deployer.call(http.MethodPost, apiTokens+"/"+both.ID+"/rotate", map[string]string{"gracePeriod": "P7D"}).decode(t, http.StatusOK, &got)
		deployer.call(http.MethodPost, apiTokens+"/"+both.ID+"/disable", nil).decode(t, http.StatusOK, &struct{}{})
		app.api(t, secret).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		app.api(t, got.Token).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		deployer.call(http.MethodDelete, apiTokens+"/"+both.ID, nil)
		deployer.call(http.MethodPost, apiTokens+"/"+both.ID+"/enable", nil).problem(t, http.StatusNotFound, "not-found")
		app.api(t, secret).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	})

	// The caller gets the new secret: a token may rotate only tokens that
	// can do no more than it can, as it may grant only the modules it has.
	t.Run("ErrModulesNotHeld", func(t *testing.T) {
		billing, _ := app.createToken("Billing export", app.module("billing"))
		p := deployer.call(http.MethodPost, apiTokens+"/"+billing.ID+"/rotate", nil).problem(t, http.StatusBadRequest, "validation-failed")
		if msgs := p.Errors["modules"]; len(msgs) == 0 || !strings.Contains(msgs[0], "Billing") {
			t.Fatalf("errors %v, want one on modules naming Billing", p.Errors)
		}
		if n := app.auditCount(t, billing.ID, store.AuditRotated); n != 0 {
			t.Fatal("the token was rotated")
		}
	})

	t.Run("ErrBadInput", func(t *testing.T) {
		target, _ := app.createToken("Target")
		for _, body := range []string{`{"gracePeriod": "P8D"}`, `{"gracePeriod": "1 hour"}`, `{"gracePeriod": 3600}`, `{"gracePeriod": null}`} {
			p := deployer.send(http.MethodPost, apiTokens+"/"+target.ID+"/rotate", "application/json", []byte(body)).problem(t, http.StatusBadRequest, "validation-failed")
			if len(p.Errors["gracePeriod"]) == 0 {
				t.Errorf("%s: errors %v, want one on gracePeriod", body, p.Errors)
			}
		}
		p := deployer.send(http.MethodPost, apiTokens+"/"+target.ID+"/rotate", "application/json", []byte(`{"grace": "PT1H"}`)).problem(t, http.StatusBadRequest, "validation-failed")
		if len(p.Errors["grace"]) == 0 {
			t.Errorf("an unknown member: errors %v", p.Errors)
		}
		theirs, _ := app.createTokenIn(app.otherAdmin, "Theirs")
		deployer.call(http.MethodPost, apiTokens+"/"+theirs.ID+"/rotate", nil).problem(t, http.StatusNotFound, "not-found")
		if n := app.auditCount(t, target.ID, store.AuditRotated); n != 0 {
			t.Fatalf("%d rotations recorded for refused requests", n)
		}
		if events, err := app.store.AuditEvents(t.Context(), app.otherAdmin.AccountID, theirs.ID); err != nil || len(events) != 1 {
			t.Fatalf("another account's token has %d audit events (%v), want its creation alone", len(events), err)
		}
	})
}

// TestRotatePages rotates from the pages, without JavaScript: the form,
// the new secret shown once, the previous secret's deadline and its use on
// the details page, and End it now.
func TestRotatePages(t *testing.T) {
	app := newAPIApp(t)
	tok, old := app.managerToken("Rotated from the page")
	c := app.signedIn(t, app.admin)
	rotatePath := tokensPath + "/" + tok.ID + "/rotate"

	form := c.get(rotatePath + "?from=details")
	if form.status != http.StatusOK || !strings.Contains(form.text(), "The current secret keeps working for") ||
		!strings.Contains(form.body, `value="PT24H" checked`) {
		t.Fatalf("the rotate form (%d) does not offer the grace periods, 24 hours chosen:\n%s", form.status, form.body)
	}
	for _, link := range []string{tokensPath, tokensPath + "/" + tok.ID} {
		if page := c.get(link); !strings.Contains(page.body, `href="`+rotatePath) {
			t.Errorf("%s has no Rotate secret link", link)
		}
	}

	t.Run("ErrBadGracePeriod", func(t *testing.T) {
		res := c.submit(rotatePath, rotatePath, url.Values{"grace": {"P30D"}, "from": {"details"}})
		if res.status != http.StatusBadRequest || !strings.Contains(res.text(), store.MsgGracePeriod) {
			t.Fatalf("a grace period of 30 days = %d:\n%s", res.status, res.text())
		}
		if !strings.Contains(res.body, `value="PT24H" checked`) {
			t.Error("the form comes back with no grace period chosen, not even the default")
		}
		if n := app.auditCount(t, tok.ID, store.AuditRotated); n != 0 {
			t.Fatal("a refused rotation was made")
		}
	})

	res := c.submit(rotatePath, rotatePath, url.Values{"grace": {"PT1H"}, "from": {"details"}, "reason": {"Yearly rotation"}})
	shown := c.follow(res)
	secret := secretPattern.FindString(shown.body)
	if secret == "" || secret == old || !strings.Contains(shown.text(), "has a new secret") {
		t.Fatalf("the page after the rotation shows no new secret:\n%s", shown.text())
	}
	if !strings.Contains(shown.text(), "The previous secret works until 4 May 2026 11:30 UTC (in 1 hour)") {
		t.Fatalf("the page after the rotation does not say until when the previous secret works:\n%s", shown.text())
	}
	if again := c.get(res.location()); secretPattern.MatchString(again.body) || !strings.Contains(again.text(), "was shown once") {
		t.Fatalf("a reload shows the secret again:\n%s", again.text())
	}
	app.api(t, secret).get(apiTokens).decode(t, http.StatusOK, &struct{}{})
	app.callAPI(t, old, 3, "legacy-job/1.0")

	details := c.get(tokensPath + "/" + tok.ID)
	if !strings.Contains(details.text(), "The previous secret works until 4 May 2026 11:30 UTC (in 1 hour). Used 3 times since the rotation, last just now.") {
		t.Fatalf("the details page does not say what uses the previous secret:\n%s", details.text())
	}
	audit := c.get(tokensPath + "/" + tok.ID + "?tab=audit").text()
	if !strings.Contains(audit, "Secret rotated") || !strings.Contains(audit, "Previous secret works for 1 hour more") ||
		!strings.Contains(audit, "Yearly rotation") {
		t.Fatalf("the audit trail does not record the rotation with its grace period and reason:\n%s", audit)
	}

	ended := c.follow(c.submit(tokensPath+"/"+tok.ID, tokensPath+"/"+tok.ID+"/end-previous", nil))
	if !strings.Contains(ended.text(), "the previous one no longer works") || strings.Contains(ended.text(), "The previous secret works until") {
		t.Fatalf("after End it now:\n%s", ended.text())
	}
	app.api(t, old).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	app.api(t, secret).get(apiTokens).decode(t, http.StatusOK, &struct{}{})

	t.Run("ErrNotYours", func(t *testing.T) {
		theirs, _ := app.createTokenIn(app.otherAdmin, "Theirs")
		if res := c.get(tokensPath + "/" + theirs.ID + "/rotate"); res.status != http.StatusNotFound {
			t.Errorf("another account's rotate form = %d, want 404", res.status)
		}
		csrf := c.get(rotatePath).csrf(t)
		for path, form := range map[string]url.Values{"/rotate": {"_csrf": {csrf}, "grace": {"PT1H"}}, "/end-previous": {"_csrf": {csrf}}} {
			if res := c.post(tokensPath+"/"+theirs.ID+path, form); res.status != http.StatusNotFound {
				t.Errorf("POST %s of another account's token = %d, want 404", path, res.status)
			}
		}
		if res := c.post(rotatePath, url.Values{"grace": {"PT1H"}}); res.status != http.StatusForbidden {
			t.Errorf("a rotation without the CSRF token = %d, want 403", res.status)
		}
		member := app.signedIn(t, app.member)
		if res := member.get(rotatePath); res.status != http.StatusForbidden {
			t.Errorf("a member's rotate form = %d, want 403", res.status)
		}
		if events, err := app.store.AuditEvents(t.Context(), app.otherAdmin.AccountID, theirs.ID); err != nil || len(events) != 1 {
			t.Fatalf("another account's token has %d audit events (%v), want its creation alone", len(events), err)
		}
	})

	t.Run("ErrUnknownField", func(t *testing.T) {
		res := c.submit(rotatePath, rotatePath, url.Values{"grace": {"PT1H"}, "status": {"active"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), `("status")`) {
			t.Fatalf("a rotation with a field the form does not have = %d:\n%s", res.status, res.text())
		}
		res = c.submit(tokensPath+"/"+tok.ID, tokensPath+"/"+tok.ID+"/end-previous", url.Values{"grace": {"PT0S"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("End it now with a field the form does not have = %d", res.status)
		}
		if n := app.auditCount(t, tok.ID, store.AuditRotated); n != 1 {
			t.Fatalf("%d rotations, want the one made above", n)
		}
	})

	t.Run("ExpiredIsRenewedFirst", func(t *testing.T) {
		lapsed, _, err := app.store.CreateToken(t.Context(), store.NewToken{AccountID: app.account.ID, Name: "Lapsed",
			ExpiresAt: app.clock.Now().Add(time.Minute)}, store.UserActor(app.admin.ID, ""))
		if err != nil {
			t.Fatal(err)
		}
		app.clock.Add(time.Minute)
		path := tokensPath + "/" + lapsed.ID + "/rotate"
		if page := c.get(tokensPath + "/" + lapsed.ID); strings.Contains(page.body, `href="`+path) {
			t.Error("an expired token offers Rotate secret")
		}
		res := c.submit(tokensPath, path, url.Values{"grace": {"PT1H"}})
		if !strings.Contains(c.follow(res).text(), "has expired") {
			t.Fatal("rotating an expired token does not say it must be renewed")
		}
	})
}
