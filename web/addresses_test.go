package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"apitokens/store"
	"apitokens/web"
)

// apiBound is what a read of a token says of where it may be used from.
type apiBound struct {
	ID               string   `json:"id"`
	Token            string   `json:"token"`
	AllowedAddresses []string `json:"allowedAddresses"`
}

// TestAPIAllowedAddresses binds a token to addresses through the REST API:
// calls from them work, a call from anywhere else gets the very answer of a
// bad token, is counted as refused, and shows on the token's page.
func TestAPIAllowedAddresses(t *testing.T) {
	app := newAPIApp(t)
	_, manager := app.managerToken("Deployer")
	deployer := app.api(t, manager)
	var bound apiBound
	deployer.call(http.MethodPost, apiTokens, map[string]any{"name": "Bound to its server",
		"modules":          moduleRefs(app.module(store.ModuleAccessManagement)),
		"allowedAddresses": []string{"203.0.113.7", "2001:db8::/32", "198.51.100.0/25"}}).decode(t, http.StatusCreated, &bound)
	if !slices.Equal(bound.AllowedAddresses, []string{"203.0.113.7", "2001:db8::/32", "198.51.100.0/25"}) {
		t.Fatalf("created with allowedAddresses %v", bound.AllowedAddresses)
	}
	for _, from := range []string{"203.0.113.7", "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "198.51.100.0", "198.51.100.127"} {
		if res := app.api(t, bound.Token).from(from).get(apiTokens); res.status != http.StatusOK {
			t.Errorf("a call from %s, allowed: %d %s", from, res.status, res.body)
		}
	}
	unknown := app.api(t, forgeSecret(bound.ID)).from("192.0.2.50").get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	for _, from := range []string{"203.0.113.8", "198.51.100.128", "2001:db9::1", "192.0.2.50"} {
		res := app.api(t, bound.Token).from(from).send(http.MethodGet, apiTokens, "", nil, "User-Agent", "curl/8.5.0")
		p := res.problem(t, http.StatusUnauthorized, "unauthorized")
		if p.Detail != unknown.Detail || res.header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
			t.Errorf("a call from %s is refused otherwise than a bad token: %+v %q", from, p, res.header.Get("WWW-Authenticate"))
		}
	}
	u := app.usageOf(t, deployer, bound.ID)
	if u.Refused30d != 4 {
		t.Fatalf("%d refused calls counted, want 4", u.Refused30d)
	}
	page := app.signedIn(t, app.admin).get(tokensPath + "/" + bound.ID).text()
	if !strings.Contains(page, "Allowed addresses 203.0.113.7 2001:db8::/32 198.51.100.0/25 Last refused call: just now from 192.0.2.50 (curl/8.5.0).") {
		t.Fatalf("the token's page does not show its addresses and the last refused call:\n%s", page)
	}

	t.Run("Update", func(t *testing.T) {
		var got apiBound
		deployer.call(http.MethodPut, apiTokens+"/"+bound.ID, map[string]any{"allowedAddresses": []string{}}).decode(t, http.StatusOK, &got)
		if got.AllowedAddresses == nil || len(got.AllowedAddresses) != 0 {
			t.Fatalf("emptied, allowedAddresses reads %v, want []", got.AllowedAddresses)
		}
		if res := app.api(t, bound.Token).from("192.0.2.50").get(apiTokens); res.status != http.StatusOK {
			t.Fatalf("allowed anywhere, a call is refused: %d", res.status)
		}
		deployer.call(http.MethodPut, apiTokens+"/"+bound.ID, map[string]any{"allowedAddresses": []string{"0.0.0.0/0"}}).decode(t, http.StatusOK, &got)
		if res := app.api(t, bound.Token).from("2001:db8::1").get(apiTokens); res.status != http.StatusUnauthorized {
			t.Fatalf("0.0.0.0/0 lets IPv6 through: %d", res.status)
		}
	})

	// Where a token may be used from guards what it can do: a token may
	// change that only for tokens that can do no more than it can.
	t.Run("ErrModulesNotHeld", func(t *testing.T) {
		billing, _, err := app.store.CreateToken(t.Context(), store.NewToken{AccountID: app.account.ID, Name: "Billing export",
			ModuleIDs: []string{app.module("billing").ID}, AllowedAddresses: []string{"203.0.113.7"}}, store.UserActor(app.admin.ID, ""))
		if err != nil {
			t.Fatal(err)
		}
		p := deployer.call(http.MethodPut, apiTokens+"/"+billing.ID, map[string]any{"allowedAddresses": []string{}}).problem(t, http.StatusBadRequest, "validation-failed")
		if msgs := p.Errors["allowedAddresses"]; len(msgs) == 0 || !strings.Contains(msgs[0], "Billing") {
			t.Fatalf("errors %v, want one on allowedAddresses naming Billing", p.Errors)
		}
		// The list sent back as read changes nothing, and is no problem.
		var got apiBound
		deployer.call(http.MethodPut, apiTokens+"/"+billing.ID, map[string]any{"description": "Monthly",
			"allowedAddresses": []string{"203.0.113.7"}}).decode(t, http.StatusOK, &got)
		if tok, _ := app.store.TokenByID(t.Context(), app.account.ID, billing.ID); !slices.Equal(tok.AllowedAddresses.Strings(), []string{"203.0.113.7"}) {
			t.Fatalf("the list is now %v", tok.AllowedAddresses.Strings())
		}
	})

	t.Run("ErrBadInput", func(t *testing.T) {
		for body, says := range map[string]string{
			`{"name": "X", "allowedAddresses": ["10.1.2.3/8"]}`:                 "10.0.0.0/8",
			`{"name": "X", "allowedAddresses": ["203.0.113.7", "203.0.113.7"]}`: "twice",
			`{"name": "X", "allowedAddresses": ["server.example"]}`:             "not an IPv4 or IPv6 address",
			`{"name": "X", "allowedAddresses": "203.0.113.7"}`:                  "must be a list of strings",
			`{"name": "X", "allowedAddresses": null}`:                           "must be a list of strings",
		} {
			p := deployer.send(http.MethodPost, apiTokens, "application/json", []byte(body)).problem(t, http.StatusBadRequest, "validation-failed")
			if msgs := p.Errors["allowedAddresses"]; len(msgs) == 0 || !strings.Contains(msgs[0], says) {
				t.Errorf("%s: errors %v, want one on allowedAddresses that says %q", body, p.Errors, says)
			}
		}
	})
}

// TestAllowedAddressesBehindProxy: the address checked is the one the
// server's proxy rules give. Without a trusted proxy, X-Forwarded-For is
// the client's own word and counts for nothing.
func TestAllowedAddressesBehindProxy(t *testing.T) {
	app := newTestApp(t) // trusts no proxy
	secret := boundToken(t, app, "Loopback only", "127.0.0.1", "::1")
	elsewhere := boundToken(t, app, "Its server only", "203.0.113.7")
	if res := app.api(t, secret).from("203.0.113.99").get(apiTokens); res.status != http.StatusOK {
		t.Fatalf("a loopback call that claims another address is refused: %d", res.status)
	}
	app.api(t, elsewhere).from("203.0.113.7").get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")

	proxied := newTestApp(t, func(c *web.Config) { c.TrustedProxies = web.LoopbackProxies })
	behind := boundToken(t, proxied, "Behind the proxy", "203.0.113.7")
	if res := proxied.api(t, behind).from("203.0.113.7").get(apiTokens); res.status != http.StatusOK {
		t.Fatalf("behind a trusted proxy, a call from the allowed address is refused: %d", res.status)
	}
	proxied.api(t, behind).from("203.0.113.8").get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
}

// boundToken makes a token that may manage tokens, from the addresses
// alone, and returns its secret.
func boundToken(t *testing.T, app *testApp, name string, addresses ...string) string {
	t.Helper()
	_, secret, err := app.store.CreateToken(t.Context(), store.NewToken{AccountID: app.account.ID, Name: name,
		ModuleIDs: []string{app.module(store.ModuleAccessManagement).ID}, AllowedAddresses: addresses},
		store.UserActor(app.admin.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// TestAllowedAddressesForms sets allowed addresses in the Add wizard's
// General step and in Edit, without JavaScript.
func TestAllowedAddressesForms(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	first := c.get(newTokenPath)
	if !strings.Contains(first.text(), "Allowed addresses (optional)") {
		t.Fatalf("the General step does not ask for allowed addresses:\n%s", first.text())
	}
	bad := c.step(first, url.Values{"name": {"Bound"}, "expiry": {"never"}, "allowed_addresses": {"203.0.113.7\n10.1.2.3/8"}, "go": {"next"}}, nil)
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.text(), "Allowed addresses: 10.1.2.3/8 has bits set past its prefix length") {
		t.Fatalf("a range with bits past its length = %d:\n%s", bad.status, bad.text())
	}
	// On the General step the fields are the form's own, sent again.
	every := c.step(bad, url.Values{"name": {"Bound"}, "expiry": {"never"}, "allowed_addresses": {"0.0.0.0/0"}, "go": {"next"}}, nil)
	if every.status != http.StatusUnprocessableEntity || !strings.Contains(every.text(), "0.0.0.0/0 allows every IPv4 address") ||
		!strings.Contains(every.text(), "Yes, a range of every address is meant") {
		t.Fatalf("0.0.0.0/0 unconfirmed = %d:\n%s", every.status, every.text())
	}
	general := c.step(every, url.Values{"name": {"Bound"}, "expiry": {"never"}, "allowed_addresses": {"203.0.113.7\r\n\r\n2001:DB8::/32\r\n"}, "go": {"next"}}, nil)
	modules := c.step(general, url.Values{"modules": {app.modules[0].ID}, "go": {"next"}}, nil)
	if !strings.Contains(modules.text(), "Allowed addresses 203.0.113.7 2001:DB8::/32") {
		t.Fatalf("the overview does not show the addresses:\n%s", modules.text())
	}
	added := c.step(modules, url.Values{"go": {"add"}}, nil)
	id := strings.TrimSuffix(strings.TrimPrefix(added.location(), tokensPath+"/"), "/added")
	tok, err := app.store.TokenByID(t.Context(), app.account.ID, id)
	if err != nil || !slices.Equal(tok.AllowedAddresses.Strings(), []string{"203.0.113.7", "2001:db8::/32"}) {
		t.Fatalf("added with %v, %v", tok.AllowedAddresses.Strings(), err)
	}

	edit := tokensPath + "/" + id + "/edit"
	if page := c.get(edit); !strings.Contains(page.body, ">203.0.113.7\n2001:db8::/32</textarea>") {
		t.Fatalf("Edit does not show the addresses:\n%s", page.body)
	}
	saved := c.submit(edit, edit, url.Values{"name": {tok.Name}, "modules": {app.modules[0].ID}, "expiry": {"keep"},
		"allowed_addresses": {"::/0"}, "allow_everyone": {"1"}})
	if saved.status != http.StatusSeeOther {
		t.Fatalf("Edit with ::/0 confirmed = %d:\n%s", saved.status, saved.body)
	}
	if tok, _ = app.store.TokenByID(t.Context(), app.account.ID, id); !slices.Equal(tok.AllowedAddresses.Strings(), []string{"::/0"}) {
		t.Fatalf("saved %v", tok.AllowedAddresses.Strings())
	}
	audit := c.get(tokensPath + "/" + id + "?tab=audit").text()
	if !strings.Contains(audit, "Allowed addresses 203.0.113.7, 2001:db8::/32 → changed to ::/0") {
		t.Fatalf("the audit trail does not say what changed:\n%s", audit)
	}
}
