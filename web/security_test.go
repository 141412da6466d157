package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"apitokens/store"
)

func TestSecurityHeaders(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("headers")
	admin := app.signedIn(t, app.admin)
	member := app.signedIn(t, app.member)
	anon := app.client(t)
	cases := []struct {
		name   string
		res    *response
		status int
	}{
		{"List", admin.get(tokensPath), 200},
		{"Details", admin.get(tokensPath + "/" + tok.ID), 200},
		{"Login", anon.get("/login"), 200},
		{"Static", anon.get("/static/app.css"), 200},
		{"Health", anon.get("/healthz"), 200},
		{"Ready", anon.get("/readyz"), 200},
		{"NotFound", admin.get("/no/such/page"), 404},
		{"TokenNotFound", admin.get(tokensPath + "/TKN-0000-0000"), 404},
		{"Forbidden", member.get(tokensPath), 403},
		{"CSRFRefused", admin.post(tokensPath+"/"+tok.ID+"/delete", nil), 403},
		{"Redirect", anon.get(tokensPath), 303},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.res.status != tc.status {
				t.Fatalf("status %d, want %d", tc.res.status, tc.status)
			}
			h := tc.res.header
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
				!strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("headers %v", h)
			}
			if tc.res.status >= 400 && !strings.Contains(tc.res.body, "</html>") {
				t.Errorf("error response is not a whole page:\n%s", tc.res.body)
			}
		})
	}
	t.Run("NoInlineScript", func(t *testing.T) {
		body := admin.get(tokensPath + "/" + tok.ID).body
		if strings.Contains(body, "<script>") || strings.Contains(body, " onclick=") || strings.Contains(body, " style=") {
			t.Fatal("page has inline script or style, which the policy blocks")
		}
	})
	t.Run("SessionCookie", func(t *testing.T) {
		res := app.client(t).get("/login")
		cookie := res.header.Get("Set-Cookie")
		if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
			t.Fatalf("session cookie %q", cookie)
		}
	})
}

func TestCSRF(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Guarded")
	c := app.signedIn(t, app.admin)
	other := app.signedIn(t, app.admin)
	action := tokensPath + "/" + tok.ID + "/delete"
	valid := c.get(tokensPath).csrf(t)
	cases := []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"Missing", url.Values{}, nil},
		{"Wrong", url.Values{"_csrf": {"not-the-token"}}, nil},
		{"AnotherSessions", url.Values{"_csrf": {other.get(tokensPath).csrf(t)}}, nil},
		{"CrossSiteOrigin", url.Values{"_csrf": {valid}}, []string{"Origin", "https://evil.example"}},
		// The same host over another scheme is another site.
		{"CrossSchemeOrigin", url.Values{"_csrf": {valid}}, []string{"Origin", strings.Replace(app.url, "http://", "https://", 1)}},
		{"CrossSiteFetch", url.Values{"_csrf": {valid}}, []string{"Sec-Fetch-Site", "cross-site"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := c.post(action, tc.form, tc.header...)
			if res.status != http.StatusForbidden {
				t.Fatalf("status %d, want 403", res.status)
			}
			if !strings.Contains(res.text(), "valid security token") || !strings.Contains(res.text(), "Back to API tokens") {
				t.Fatalf("403 page does not explain or lead back:\n%s", res.text())
			}
			if !app.tokenExists(app.account.ID, tok.ID) {
				t.Fatal("the token was deleted")
			}
		})
	}
	t.Run("ErrSignInWithoutToken", func(t *testing.T) {
		res := app.client(t).post("/login", url.Values{"email": {app.admin.Email}, "password": {password}})
		if res.status != http.StatusForbidden {
			t.Fatalf("sign-in without CSRF = %d, want 403", res.status)
		}
	})
	t.Run("SameOriginOK", func(t *testing.T) {
		res := c.post(action, url.Values{"_csrf": {valid}}, "Origin", app.url)
		if res.status != http.StatusSeeOther || app.tokenExists(app.account.ID, tok.ID) {
			t.Fatalf("same-origin delete = %d", res.status)
		}
	})
}

func TestAuthorization(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Guarded", app.modules[0])
	base := tokensPath + "/" + tok.ID
	gets := []string{tokensPath, base, base + "?tab=audit", base + "/delete", base + "/enable", base + "/disable"}
	posts := []string{base + "/delete", base + "/disable", base + "/enable"}

	t.Run("MemberIsForbidden", func(t *testing.T) {
		c := app.signedIn(t, app.member)
		for _, p := range gets {
			res := c.get(p)
			if res.status != http.StatusForbidden || !strings.Contains(res.text(), "Only account administrators") {
				t.Errorf("member GET %s = %d", p, res.status)
			}
			if !strings.Contains(res.text(), "Sign in as someone else") || strings.Contains(res.text(), "Back to API tokens") {
				t.Errorf("member GET %s: the 403 page should offer another sign-in, not a way back to a page they cannot see", p)
			}
		}
		for _, p := range posts {
			if res := c.submit(tokensPath, p, nil); res.status != http.StatusForbidden {
				t.Errorf("member POST %s = %d, want 403", p, res.status)
			}
		}
	})
	t.Run("OtherAccountSeesNotFound", func(t *testing.T) {
		c := app.signedIn(t, app.otherAdmin)
		for _, p := range gets[1:] {
			if res := c.get(p); res.status != http.StatusNotFound {
				t.Errorf("other account GET %s = %d, want 404", p, res.status)
			}
		}
		for _, p := range posts {
			if res := c.submit(tokensPath, p, nil); res.status != http.StatusNotFound {
				t.Errorf("other account POST %s = %d, want 404", p, res.status)
			}
		}
		unknown := c.get(tokensPath + "/TKN-0000-0001")
		theirs := c.get(base)
		if unknown.text() != theirs.text() {
			t.Error("another account's token answers differently from an unknown one")
		}
	})
	t.Run("SignedOutPostGoesToLogin", func(t *testing.T) {
		c := app.client(t)
		res := c.submit("/login", base+"/delete", nil)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), "/login") {
			t.Fatalf("signed-out POST = %d to %q", res.status, res.location())
		}
	})
	if got, err := app.store.TokenByID(context.Background(), app.account.ID, tok.ID); err != nil || got.Status != store.StatusActive {
		t.Fatalf("after all that the token is %v, %v; want untouched", got.Status, err)
	}
}

func TestBadInput(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Sturdy")
	c := app.signedIn(t, app.admin)
	t.Run("OversizedBody", func(t *testing.T) {
		csrf := c.get(tokensPath).csrf(t)
		res := c.post(tokensPath+"/"+tok.ID+"/delete", url.Values{"_csrf": {csrf}, "pad": {strings.Repeat("x", 100<<10)}})
		if res.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("100 KB form = %d, want 413", res.status)
		}
		if !app.tokenExists(app.account.ID, tok.ID) {
			t.Fatal("the token was deleted")
		}
	})
	t.Run("WrongMethod", func(t *testing.T) {
		csrf := c.get(tokensPath).csrf(t)
		for _, method := range []string{http.MethodPut, http.MethodPost, http.MethodPatch} {
			req, _ := http.NewRequest(method, app.url+tokensPath+"/"+tok.ID, strings.NewReader("_csrf="+csrf))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if res := c.do(req); res.status != http.StatusMethodNotAllowed {
				t.Errorf("%s on the details page = %d, want 405", method, res.status)
			}
		}
		// Deleting is a POST to the token's delete address, never a DELETE
		// of the page, with or without a form.
		req, _ := http.NewRequest(http.MethodDelete, app.url+tokensPath+"/"+tok.ID, nil)
		if res := c.do(req); res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") == "" {
			t.Errorf("DELETE on the details page = %d (Allow %q), want 405 with Allow", res.status, res.header.Get("Allow"))
		}
		if !app.tokenExists(app.account.ID, tok.ID) {
			t.Fatal("the token was deleted")
		}
	})
	t.Run("CSRFTokenInQueryStringIgnored", func(t *testing.T) {
		csrf := c.get(tokensPath).csrf(t)
		res := c.post(tokensPath+"/"+tok.ID+"/delete?_csrf="+url.QueryEscape(csrf), url.Values{})
		if res.status != http.StatusForbidden || !app.tokenExists(app.account.ID, tok.ID) {
			t.Fatalf("CSRF token in the URL = %d, want 403 and nothing deleted", res.status)
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		anon := app.client(t)
		for _, p := range []string{"/login", "/static/app.css", "/healthz", "/readyz", tokensPath, tokensPath + "/" + tok.ID} {
			req, _ := http.NewRequest(http.MethodHead, app.url+p, nil)
			who := c
			if p == "/login" {
				who = anon
			}
			if res := who.do(req); res.status != http.StatusOK || res.header.Get("Content-Type") == "" {
				t.Errorf("HEAD %s = %d (%q), want 200 with the GET's content type", p, res.status, res.header.Get("Content-Type"))
			}
		}
		t.Run("KeepsTheMessage", func(t *testing.T) {
			c.submit(tokensPath, tokensPath+"/"+tok.ID+"/disable", nil)
			req, _ := http.NewRequest(http.MethodHead, app.url+tokensPath, nil)
			c.do(req)
			if page := c.get(tokensPath); !strings.Contains(page.text(), "has been disabled") {
				t.Fatalf("a HEAD request used up the message:\n%s", page.text())
			}
			c.submit(tokensPath, tokensPath+"/"+tok.ID+"/enable", nil)
			c.get(tokensPath)
		})
	})
	t.Run("LongNamesInMessages", func(t *testing.T) {
		// Messages carry the name: three 200-character names of 4-byte
		// runes, acted on with no page shown between, must not overflow
		// the session cookie or report a committed change as a failure.
		csrf := c.get(tokensPath).csrf(t)
		var last store.Token
		for i := range 3 {
			last, _ = app.createToken(strings.Repeat(string(rune(0x1F511+i)), store.MaxTokenName))
			res := c.post(tokensPath+"/"+last.ID+"/disable", url.Values{"_csrf": {csrf}})
			if res.status != http.StatusSeeOther {
				t.Fatalf("disable %d = %d, want 303", i, res.status)
			}
		}
		if page := c.get(tokensPath); !strings.Contains(page.text(), last.Name+"” ("+last.ID+") has been disabled") {
			t.Fatalf("the last message is not shown:\n%s", page.text())
		}
	})
}

func TestSecretsNotLogged(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.createToken("Quiet")
	c := app.signedIn(t, app.admin)
	req, _ := http.NewRequest(http.MethodGet, app.url+tokensPath+"/"+tok.ID+"?token="+secret, nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	c.do(req)
	c.submit(tokensPath, tokensPath+"/"+tok.ID+"/delete", nil)
	logs := app.logs.String()
	if !strings.Contains(logs, tok.ID) {
		t.Fatalf("the log has no request lines:\n%s", logs)
	}
	if strings.Contains(logs, secret) || strings.Contains(logs, password) {
		t.Fatalf("the log holds a secret:\n%s", logs)
	}
}

// TestUnknownAddressMakesNoSession: an address no route has shows who is
// signed in, but makes no session for a visitor who has none — scanners
// ask for thousands of such addresses.
func TestUnknownAddressMakesNoSession(t *testing.T) {
	app := newTestApp(t)
	t.Run("Anonymous", func(t *testing.T) {
		res := app.client(t).get("/wp-login.php")
		if res.status != http.StatusNotFound || res.header.Get("Set-Cookie") != "" {
			t.Fatalf("= %d, Set-Cookie %q", res.status, res.header.Get("Set-Cookie"))
		}
	})
	t.Run("SignedIn", func(t *testing.T) {
		res := app.signedIn(t, app.admin).get("/no/such/page")
		if res.status != http.StatusNotFound || !strings.Contains(res.text(), "Sign out") {
			t.Fatalf("= %d:\n%s", res.status, res.text())
		}
	})
}
