package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"apitokens/store"
	"apitokens/store/storetest"
)

// setViewport makes the tab as wide as a phone or a desktop screen.
func setViewport(t *testing.T, ctx context.Context, width int64, mobile bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: 844, DeviceScaleFactor: 1, Mobile: mobile,
	}); err != nil {
		t.Fatal(err)
	}
}

// sideways is how far the page scrolls sideways, with the elements that
// stick out past its right edge, widest first: "" when it does not.
const sideways = `(() => {
	const root = document.documentElement;
	if (root.scrollWidth <= root.clientWidth) return "";
	const out = [...document.querySelectorAll("body *")]
		.filter(el => el.getBoundingClientRect().right > root.clientWidth + 0.5 || el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === "visible")
		.sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right)
		.slice(0, 4)
		.map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).split(" ").join(".") : "") +
			" ends at " + Math.round(el.getBoundingClientRect().right) + " (content " + el.scrollWidth + " px in " + el.clientWidth + ")");
	return "the page is " + root.scrollWidth + " px wide in " + root.clientWidth + " px: " + out.join(", ");
})()`

// TestBrowserTabBarHasNoScrollbar: the tab bar of the details page fits its
// content on every tab, so no scrollbar appears at its end.
func TestBrowserTabBarHasNoScrollbar(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Tabbed", app.modules[0])
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	for _, tab := range []string{"general", "modules", "details", "audit"} {
		run(t, ctx, "details, "+tab, chromedp.Navigate(app.url+tokensPath+"/"+tok.ID+"?tab="+tab),
			chromedp.WaitVisible(chromedp.CSS(tokenSections)))
		got := eval[string](t, ctx, `(() => { const nav = document.querySelector('`+tokenSections+`');
			return nav.scrollHeight + "x" + nav.scrollWidth + " in " + nav.clientHeight + "x" + nav.clientWidth; })()`)
		var sh, sw, ch, cw int
		if _, err := fmt.Sscanf(got, "%dx%d in %dx%d", &sh, &sw, &ch, &cw); err != nil {
			t.Fatal(err)
		}
		if sh > ch || sw > cw {
			saveScreenshot(t, ctx, tab)
			t.Errorf("%s tab: the tab bar's content is %dx%d px in a box of %dx%d: it scrolls", tab, sw, sh, cw, ch)
		}
	}
}

// TestBrowserNothingScrollsSideways: on a phone, 390 px wide and down to
// 320, no page scrolls sideways: the details page on each tab (with a long
// description, a changed name and a long browser name in the trail), and
// the Add wizard with its expiry row, and the account's audit trail.
func TestBrowserNothingScrollsSideways(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("A token with a rather long name for a phone screen", app.modules[0], app.modules[1])
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	by := store.UserActor(app.admin.ID, "2001:db8:1234:5678:9abc:def0:1234:5678").WithUserAgent(
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86")
	if _, _, err := app.store.UpdateToken(context.Background(), app.account.ID, tok.ID, store.TokenUpdate{
		Name: tok.Name, Description: "Runs every night; https://example.com/a/very/long/address/without/any/spaces/in/it/at/all",
		ModuleIDs: []string{app.modules[0].ID}}, by); err != nil {
		t.Fatal(err)
	}
	pages := []struct{ name, path, ready string }{
		{"details", tokensPath + "/" + tok.ID, tokenSections},
		{"details, Modules", tokensPath + "/" + tok.ID + "?tab=modules", tokenSections},
		{"details, Details", tokensPath + "/" + tok.ID + "?tab=details", tokenSections},
		{"details, Audit trail", tokensPath + "/" + tok.ID + "?tab=audit", tokenSections},
		{"Add wizard", tokensPath + "/new", "#name"},
		{"Settings, Audit trail", "/settings/audit-trail", auditTable},
		{"Unused token policy", tokensPath + "/unused-policy", "[data-unused-policy]"},
	}
	for _, width := range []int64{390, 320} {
		setViewport(t, ctx, width, true)
		for _, p := range pages {
			run(t, ctx, p.name, chromedp.Navigate(app.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
			if width == 390 && p.name == "details" {
				saveScreenshot(t, ctx, "phone-details")
			}
			if width == 390 && p.name != "details" {
				saveScreenshot(t, ctx, "phone-"+url.PathEscape(p.name))
			}
			if got := eval[string](t, ctx, sideways); got != "" {
				saveScreenshot(t, ctx, fmt.Sprintf("%d-%s", width, url.PathEscape(p.name)))
				t.Errorf("%s at %d px: %s", p.name, width, got)
			}
		}
		run(t, ctx, "record details", chromedp.Navigate(app.url+tokensPath+"/"+tok.ID+"?tab=audit"),
			chromedp.WaitVisible(chromedp.CSS(recordLink)))
		openRecord(t, ctx)
		if got := eval[string](t, ctx, `(d => d.scrollWidth > d.clientWidth ? d.scrollWidth + " px in " + d.clientWidth : "")(document.querySelector('`+recordDialog+`'))`); got != "" {
			saveScreenshot(t, ctx, fmt.Sprintf("%d-record", width))
			t.Errorf("Record details at %d px scroll sideways: %s", width, got)
		}
		if width == 390 {
			saveScreenshot(t, ctx, "phone-record")
		}
	}
}

// TestBrowserMemberMenu: a member's menu offers what a member may open,
// and nothing it offers answers 403. Signed in, they land on a page that
// says who manages the account's tokens; an address they may not open
// does not mark an entry of their menu as the current page.
func TestBrowserMemberMenu(t *testing.T) {
	app := newTestApp(t)
	ctx := newTab(t)
	run(t, ctx, "sign in as a member",
		chromedp.Navigate(app.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), app.member.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(signInButton)),
		chromedp.WaitVisible(chromedp.CSS(settingsNav)),
	)
	menu := eval[[]string](t, ctx, `[...document.querySelectorAll('`+settingsNav+` a')].map(a => a.pathname)`)
	if len(menu) == 0 {
		t.Fatal("the member's menu is empty")
	}
	for _, path := range menu {
		status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch(`+jsString(path)+`, {credentials: "same-origin"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if status != 200 {
			t.Errorf("the member's menu offers %s, which answers %d", path, status)
		}
	}
	if got := text(t, ctx, "main h1"); got != "API tokens" {
		t.Errorf("the member lands on %q", got)
	}
	if got := text(t, ctx, "main"); !containsAll(got, "administrators", app.admin.Name, app.admin.Email) || containsAll(got, app.member.Email) {
		t.Errorf("the member's page does not say who manages tokens:\n%s", got)
	}
	saveScreenshot(t, ctx, "member")
	checkAccessibility(t, ctx, "a member's page")
	run(t, ctx, "the token list, typed in", chromedp.Navigate(app.url+tokensPath), chromedp.WaitVisible(chromedp.CSS(settingsNav)))
	if got := text(t, ctx, "main h1"); got != "Forbidden" {
		t.Fatalf("the member sees %q at the token list, want Forbidden", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('`+settingsNav+` [aria-current]').length`); n != 0 {
		t.Errorf("the 403 page marks %d of the member's menu entries as the current page", n)
	}
	run(t, ctx, "the 403 page leads to who manages tokens", chromedp.Click(link("Who manages API tokens")),
		chromedp.WaitVisible(chromedp.CSS(`[data-admins]`)))
}

// containsAll reports whether s holds every one of words.
func containsAll(s string, words ...string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// TestBrowserDatabaseUnavailable: while the server's database cannot be
// reached, a signed-in person who opens the list sees the 503 page, which
// offers to try the same page again; once the database is back, that
// button brings the list.
func TestBrowserDatabaseUnavailable(t *testing.T) {
	dsn, link := storetest.Via(t, storetest.PostgresDSN(t))
	app := newTestAppOn(t, dsn)
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	link.Cut()
	run(t, ctx, "open the list", chromedp.Navigate(app.url+tokensPath), chromedp.WaitVisible(chromedp.CSS(".error-page")))
	saveScreenshot(t, ctx, "unavailable")
	if code, again := text(t, ctx, ".error-code"), text(t, ctx, ".error-actions"); code != "503" || again != "Try again" {
		t.Fatalf("error page %s with %q, want 503 with Try again", code, again)
	}
	link.Restore()
	run(t, ctx, "try again", chromedp.Click(chromedp.CSS(".error-actions a")), chromedp.WaitVisible(chromedp.CSS(settingsNav)))
	if h1 := text(t, ctx, "main h1"); h1 != "API tokens" {
		t.Fatalf("after Try again the page is %q, want the list", h1)
	}
}
