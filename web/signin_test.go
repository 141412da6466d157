package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

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
	t.Run("MemberLandsOnWhoManagesTokens", func(t *testing.T) {
		c := app.client(t)
		res := c.submit("/login", "/login", url.Values{"email": {app.member.Email}, "password": {password}})
		if res.status != http.StatusSeeOther || res.location() != "/settings" {
			t.Fatalf("a member's sign-in = %d → %q, want the settings' home", res.status, res.location())
		}
		if home := c.follow(res); home.status != http.StatusOK || !strings.Contains(home.text(), "managed by its administrators") {
			t.Fatalf("the member's home = %d:\n%s", home.status, home.text())
		}
		res = app.client(t).submit("/login", "/login", url.Values{"email": {app.admin.Email}, "password": {password}})
		if res.status != http.StatusSeeOther || res.location() != tokensPath {
			t.Fatalf("an administrator's sign-in = %d → %q, want the list", res.status, res.location())
		}
	})
}
