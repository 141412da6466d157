package web_test

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"apitokens/web"
)

// TestBrowserSignInWhileGuessed: while someone guesses at an account from
// many addresses, a browser new to it is told to wait, and the browser its
// owner signed in with before still signs in.
func TestBrowserSignInWhileGuessed(t *testing.T) {
	app := newTestApp(t, func(c *web.Config) { c.TrustedProxies = web.LoopbackProxies })
	owner := newTab(t)
	browserSignIn(t, owner, app, app.admin)
	run(t, owner, "sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS("#email")))

	guesser := app.client(t)
	for range 10 {
		form := url.Values{"_csrf": {guesser.get("/login").csrf(t)}, "email": {app.admin.Email}, "password": {"guess"}}
		guesser.post("/login", form, "X-Forwarded-For", uniqueIP())
	}

	newcomer := newTab(t)
	run(t, newcomer, "sign in from a new browser",
		chromedp.Navigate(app.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), app.admin.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(signInButton)),
		chromedp.WaitVisible(chromedp.CSS(`main [role="alert"]`)),
	)
	want := "Too many failed sign-ins to this account. A browser that has signed in to it before can still sign in. Try again in 60 seconds."
	if got := text(t, newcomer, `main [role="alert"]`); got != want {
		t.Fatalf("the sign-in page says %q, want %q", got, want)
	}
	saveScreenshot(t, newcomer, "wait")
	checkAccessibility(t, newcomer, "sign-in page, account limited")

	browserSignIn(t, owner, app, app.admin)
}
