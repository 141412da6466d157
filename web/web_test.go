package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

const tokensPath = "/settings/api-tokens"

func TestSignIn(t *testing.T) {
	app := newTestApp(t)
	t.Run("SignedOutGoesToLoginAndBack", func(t *testing.T) {
		c := app.client(t)
		res := c.get(tokensPath + "?status=disabled")
		if res.status != http.StatusSeeOther || res.location() != "/login?next="+url.QueryEscape(tokensPath+"?status=disabled") {
			t.Fatalf("signed-out GET = %d to %q", res.status, res.location())
		}
		login := c.get(res.location())
		res = c.post("/login", url.Values{"_csrf": {login.csrf(t)}, "email": {app.admin.Email},
			"password": {password}, "next": {tokensPath + "?status=disabled"}})
		if res.status != http.StatusSeeOther || res.location() != tokensPath+"?status=disabled" {
			t.Fatalf("sign-in = %d to %q, want back to the list", res.status, res.location())
		}
		if page := c.follow(res); !strings.Contains(page.text(), "Ada Admin") {
			t.Fatalf("signed-in page does not name the user:\n%s", page.text())
		}
	})
	t.Run("ErrWrongPasswordKeepsEmail", func(t *testing.T) {
		c := app.client(t)
		login := c.get("/login")
		res := c.post("/login", url.Values{"_csrf": {login.csrf(t)}, "email": {app.admin.Email}, "password": {"nope"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong password = %d, want 422", res.status)
		}
		if !strings.Contains(res.text(), "The email or password is incorrect") || !strings.Contains(res.body, `value="admin@acme.test"`) {
			t.Fatalf("page does not explain, or lost the email:\n%s", res.body)
		}
		if c.get(tokensPath).status != http.StatusSeeOther {
			t.Fatal("a wrong password signed in")
		}
	})
	t.Run("NextIsOnlyLocal", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", `/\evil.example`,
			"/\t/evil.example", "/\n/evil.example", "javascript:alert(1)", "evil.example"} {
			c := app.client(t)
			login := c.get("/login")
			res := c.post("/login", url.Values{"_csrf": {login.csrf(t)}, "email": {app.admin.Email}, "password": {password}, "next": {next}})
			if res.location() != tokensPath {
				t.Errorf("next=%q redirected to %q, want %s", next, res.location(), tokensPath)
			}
		}
	})
	t.Run("NextFromQueryOnLoginPage", func(t *testing.T) {
		c := app.signedIn(t, app.admin)
		if res := c.get("/login?next=/%09/evil.example"); res.location() != tokensPath {
			t.Fatalf("signed-in GET /login?next=/<tab>/evil.example went to %q", res.location())
		}
	})
	t.Run("SignOutEndsCopiedCookies", func(t *testing.T) {
		c := app.signedIn(t, app.admin)
		base, _ := url.Parse(app.url)
		stolen := c.http.Jar.Cookies(base)
		res := c.submit(tokensPath, "/logout", nil)
		page := c.follow(res)
		if !strings.Contains(page.text(), "You have been signed out") {
			t.Fatalf("no sign-out message:\n%s", page.text())
		}
		if c.get(tokensPath).status != http.StatusSeeOther {
			t.Fatal("still signed in after signing out")
		}
		thief := app.client(t)
		thief.http.Jar.SetCookies(base, stolen)
		if res := thief.get(tokensPath); res.status != http.StatusSeeOther {
			t.Fatalf("a copy of the cookie taken before sign-out still works: %d", res.status)
		}
	})
	t.Run("SigningInAgainEndsTheOldSession", func(t *testing.T) {
		c := app.signedIn(t, app.admin)
		base, _ := url.Parse(app.url)
		before := c.http.Jar.Cookies(base)
		// Signed in, /login redirects: post its form from the list page.
		res := c.submit(tokensPath, "/login", url.Values{"email": {app.admin.Email}, "password": {password}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("second sign-in = %d", res.status)
		}
		old := app.client(t)
		old.http.Jar.SetCookies(base, before)
		if res := old.get(tokensPath); res.status != http.StatusSeeOther {
			t.Fatalf("the session replaced by a new sign-in still works: %d", res.status)
		}
		if res := c.get(tokensPath); res.status != http.StatusOK {
			t.Fatalf("the new session does not work: %d", res.status)
		}
	})
	t.Run("SessionsExpire", func(t *testing.T) {
		c := app.signedIn(t, app.admin)
		app.clock.Add(12*time.Hour + time.Second)
		defer app.clock.Add(-12*time.Hour - time.Second)
		if res := c.get(tokensPath); res.status != http.StatusSeeOther {
			t.Fatalf("a session older than 12 hours still works: %d", res.status)
		}
	})
	t.Run("ErrPasswordInQueryString", func(t *testing.T) {
		c := app.client(t)
		login := c.get("/login")
		res := c.post("/login?email="+url.QueryEscape(app.admin.Email)+"&password="+url.QueryEscape(password),
			url.Values{"_csrf": {login.csrf(t)}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("credentials in the query string = %d, want 422 (ignored)", res.status)
		}
	})
	t.Run("ErrSignOutByGet", func(t *testing.T) {
		c := app.signedIn(t, app.admin)
		if res := c.get("/logout"); res.status != http.StatusMethodNotAllowed {
			t.Fatalf("GET /logout = %d, want 405", res.status)
		}
		if c.get(tokensPath).status != http.StatusOK {
			t.Fatal("a GET signed the user out")
		}
	})
}

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

func TestTokenList(t *testing.T) {
	app := newTestApp(t)
	t.Run("EmptyState", func(t *testing.T) {
		page := app.signedIn(t, app.admin).get(tokensPath)
		if page.status != 200 || !strings.Contains(page.text(), "No API tokens yet") {
			t.Fatalf("empty list = %d:\n%s", page.status, page.text())
		}
	})
	one, _ := app.createToken("Billing export", app.modules[1])
	app.clock.Add(time.Hour)
	many, _ := app.createToken("Everything", app.modules...)
	theirs, _ := app.createTokenIn(app.otherAdmin, "Not yours")
	page := app.signedIn(t, app.admin).get(tokensPath)
	text := page.text()
	t.Run("Columns", func(t *testing.T) {
		for _, want := range []string{"API token", "Modules", "Created by", "Date created", "Last access", "Status"} {
			if !strings.Contains(text, want) {
				t.Errorf("no column %q", want)
			}
		}
	})
	t.Run("Rows", func(t *testing.T) {
		for _, want := range []string{
			"Billing export " + one.ID + " " + app.modules[1].Name + " Ada Admin " + app.admin.ID + " 4 May 2026 Never Active",
			"Everything " + many.ID + " 4 modules Ada Admin",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("list lacks %q:\n%s", want, text)
			}
		}
		if strings.Index(text, many.ID) > strings.Index(text, one.ID) {
			t.Error("the newest token is not first")
		}
		if !strings.Contains(page.body, `href="/settings/api-tokens/`+one.ID+`"`) {
			t.Error("the token name does not link to its details page")
		}
	})
	t.Run("OnlyOwnAccount", func(t *testing.T) {
		if strings.Contains(text, theirs.ID) || strings.Contains(text, "Not yours") {
			t.Fatal("another account's token is listed")
		}
	})
	t.Run("ActionsMenu", func(t *testing.T) {
		for _, want := range []string{"/" + one.ID + "/disable?from=list", "/" + one.ID + "/delete?from=list"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("row menu lacks %s", want)
			}
		}
		if strings.Contains(page.body, "/"+one.ID+"/enable") {
			t.Error("Enable is offered on an active token")
		}
	})
	t.Run("OldOffsetLinkShowsFirstPage", func(t *testing.T) {
		// Pages go by cursor now; a bookmark from before is not an error.
		res := app.signedIn(t, app.admin).get(tokensPath + "?offset=-5x")
		if res.status != 200 || !strings.Contains(res.text(), "Everything") || !strings.Contains(res.text(), "Showing 1–2 of 2 API tokens") {
			t.Fatalf("offset=-5x = %d:\n%s", res.status, res.text())
		}
	})
}

func TestTokenDetails(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Storefront sync", app.modules[2])
	c := app.signedIn(t, app.admin)
	path := tokensPath + "/" + tok.ID
	cases := []struct {
		tab  string
		want []string
	}{
		{"", []string{"Storefront sync", tok.ID, "Active", "No description", "API endpoint ••••"}},
		{"general&show=endpoint", []string{"API endpoint " + app.url + "/public/v1/accounts/api-tokens Hide"}},
		{"modules", []string{app.modules[2].Name, app.modules[2].ID}},
		{"details", []string{"Created 4 May 2026, 10:30 UTC by Ada Admin " + app.admin.ID, "Last access Never", "Expires Never"}},
		{"audit", []string{"Created by Ada Admin " + app.admin.ID + " 4 May 2026, 10:30 UTC from 127.0.0.1"}},
		{"nonsense", []string{"No description"}},
	}
	for _, tc := range cases {
		t.Run("Tab_"+tc.tab, func(t *testing.T) {
			res := c.get(path + "?tab=" + tc.tab)
			if res.status != 200 {
				t.Fatalf("status %d", res.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.text(), w) {
					t.Errorf("lacks %q:\n%s", w, res.text())
				}
			}
		})
	}
	t.Run("ErrMalformedID", func(t *testing.T) {
		for _, id := range []string{"nope", "TKN-1", "'%20OR%201=1--", "TKN-0000-0000%00"} {
			if res := c.get(tokensPath + "/" + id); res.status != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", id, res.status)
			}
		}
		if !app.tokenExists(app.account.ID, tok.ID) {
			t.Fatal("token lost")
		}
	})
}

func TestDeleteFlow(t *testing.T) {
	app := newTestApp(t)
	keep, _ := app.createToken("Keep me")
	tok, secret := app.createToken("ERP integration", app.modules[0])
	c := app.signedIn(t, app.admin)
	confirmPath := tokensPath + "/" + tok.ID + "/delete?from=list"

	t.Run("ConfirmationPage", func(t *testing.T) {
		res := c.get(confirmPath)
		text := res.text()
		for _, want := range []string{"Delete API token", "ERP integration", tok.ID, "can't be reinstated or reused", "Cancel"} {
			if !strings.Contains(text, want) {
				t.Errorf("confirmation page lacks %q:\n%s", want, text)
			}
		}
		if !strings.Contains(res.body, `<a class="button" href="/settings/api-tokens">Cancel</a>`) {
			t.Error("Cancel does not lead back to the list")
		}
		if !app.tokenExists(app.account.ID, tok.ID) {
			t.Fatal("showing the confirmation deleted the token")
		}
	})
	t.Run("Delete", func(t *testing.T) {
		res := c.submit(confirmPath, tokensPath+"/"+tok.ID+"/delete", url.Values{"from": {"details"}})
		if res.status != http.StatusSeeOther || res.location() != tokensPath {
			t.Fatalf("delete = %d to %q, want 303 to the list", res.status, res.location())
		}
		list := c.follow(res)
		want := "The API token “ERP integration” (" + tok.ID + ") has been deleted successfully."
		if !strings.Contains(list.text(), want) {
			t.Fatalf("list lacks %q:\n%s", want, list.text())
		}
		if strings.Contains(list.body, `data-token-id="`+tok.ID+`"`) {
			t.Fatal("deleted token still listed")
		}
		if !strings.Contains(list.text(), keep.ID) {
			t.Fatal("the other token vanished")
		}
		if again := c.get(tokensPath); strings.Contains(again.text(), "deleted successfully") {
			t.Fatal("the message shows again on reload")
		}
	})
	t.Run("GoneEverywhere", func(t *testing.T) {
		for _, p := range []string{"", "/delete", "/enable", "/disable"} {
			if res := c.get(tokensPath + "/" + tok.ID + p); res.status != http.StatusNotFound {
				t.Errorf("GET %s after delete = %d, want 404", p, res.status)
			}
		}
		if _, err := app.store.TokenBySecret(context.Background(), secret); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the deleted secret still authenticates: %v", err)
		}
	})
	t.Run("ErrDeleteTwice", func(t *testing.T) {
		res := c.submit(tokensPath, tokensPath+"/"+tok.ID+"/delete", nil)
		if res.status != http.StatusNotFound {
			t.Fatalf("second delete = %d, want 404", res.status)
		}
	})
}

func TestEnableDisable(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.createToken("Partner portal")
	c := app.signedIn(t, app.admin)
	ctx := context.Background()
	t.Run("DisableFromList", func(t *testing.T) {
		page := c.get(tokensPath + "/" + tok.ID + "/disable?from=list")
		if !strings.Contains(page.text(), "Disable API token") {
			t.Fatalf("confirmation:\n%s", page.text())
		}
		res := c.post(tokensPath+"/"+tok.ID+"/disable", url.Values{"_csrf": {page.csrf(t)}, "from": {"list"}})
		list := c.follow(res)
		if !strings.Contains(list.text(), "The API token “Partner portal” has been disabled. Its status is now Disabled.") {
			t.Fatalf("no message:\n%s", list.text())
		}
		if !strings.Contains(list.text(), tok.ID+" None Ada Admin "+app.admin.ID+" 4 May 2026 Never Disabled") {
			t.Fatalf("row does not show Disabled:\n%s", list.text())
		}
		if _, err := app.store.TokenBySecret(ctx, secret); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("a disabled token authenticates")
		}
	})
	t.Run("DisableTwiceIsHarmless", func(t *testing.T) {
		res := c.submit(tokensPath, tokensPath+"/"+tok.ID+"/disable", nil)
		page := c.follow(res)
		if !strings.Contains(page.text(), "is already disabled; nothing was changed") {
			t.Fatalf("second disable:\n%s", page.text())
		}
	})
	t.Run("EnableFromDetails", func(t *testing.T) {
		res := c.submit(tokensPath+"/"+tok.ID, tokensPath+"/"+tok.ID+"/enable", url.Values{"from": {"details"}})
		if res.location() != tokensPath+"/"+tok.ID {
			t.Fatalf("enable went to %q, want the details page", res.location())
		}
		page := c.follow(res)
		if !strings.Contains(page.text(), "has been enabled. Its status is now Active.") {
			t.Fatalf("no message:\n%s", page.text())
		}
		if _, err := app.store.TokenBySecret(ctx, secret); err != nil {
			t.Fatal("the re-enabled token does not authenticate with its old secret")
		}
	})
	t.Run("EnableOnActiveIsNotOffered", func(t *testing.T) {
		res := c.get(tokensPath + "/" + tok.ID + "/enable?from=details")
		if res.status != http.StatusSeeOther {
			t.Fatalf("enable confirmation for an active token = %d, want a redirect", res.status)
		}
		if page := c.follow(res); !strings.Contains(page.text(), "is already active") {
			t.Fatalf("no explanation:\n%s", page.text())
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
		for _, p := range []string{"/login", "/static/app.css", "/healthz", tokensPath, tokensPath + "/" + tok.ID} {
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
		if page := c.get(tokensPath); !strings.Contains(page.text(), last.Name+"” has been disabled") {
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

func TestTokenListPages(t *testing.T) {
	app := newTestApp(t)
	var ids []string
	for i := range store.DefaultPageSize + 3 {
		tok, _ := app.createToken(fmt.Sprintf("token %02d", i))
		ids = append(ids, tok.ID)
		app.clock.Add(time.Second)
	}
	c := app.signedIn(t, app.admin)
	first := c.get(tokensPath)
	if !strings.Contains(first.text(), "Showing 1–50 of 53 API tokens") || first.link("prev") != "" {
		t.Fatalf("first page:\n%s", first.text())
	}
	next := first.link("next")
	if !strings.HasPrefix(next, tokensPath+"?after=") {
		t.Fatalf("link to the next page %q, want a cursor", next)
	}
	second := c.get(next)
	if !strings.Contains(second.text(), "Showing 51–53 of 53 API tokens") || second.link("next") != "" ||
		!strings.Contains(second.text(), "token 00") || strings.Contains(second.text(), "token 52") {
		t.Fatalf("second page:\n%s", second.text())
	}
	if back := c.get(second.link("prev")); !strings.Contains(back.text(), "Showing 1–50 of 53 API tokens") ||
		!strings.Contains(back.text(), "token 52") {
		t.Fatalf("Previous from the second page:\n%s", back.text())
	}
	t.Run("PastTheEnd", func(t *testing.T) {
		// The tokens of the second page go while the first is open: its
		// Next link leads to what is now the last page.
		for _, id := range ids[:3] {
			if _, err := app.store.DeleteToken(context.Background(), app.account.ID, id, store.UserActor(app.admin.ID, "")); err != nil {
				t.Fatal(err)
			}
		}
		res := c.get(next)
		if res.status != http.StatusOK || !strings.Contains(res.text(), "Showing 1–50 of 50 API tokens") || res.link("next") != "" {
			t.Fatalf("Next past the end = %d:\n%s", res.status, res.text())
		}
	})
}
