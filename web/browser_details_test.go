package web_test

import (
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

func TestBrowserNamesAreNotMarkup(t *testing.T) {
	app := newTestApp(t)
	evil := `"><img src=x onerror=alert(1)><b>bold</b>`
	tok, _ := app.createToken(evil)
	ctx := newTab(t)
	var dialogs atomic.Int32
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, app, app.admin)
	// Markup in the name would make elements: there must be none, on any
	// page or in the dialog the script fills in.
	noMarkup := func(where string) {
		t.Helper()
		if n := eval[int](t, ctx, `document.querySelectorAll("main img:not([data-logo-preview]), main b, dialog img, dialog b").length`); n != 0 {
			t.Errorf("%s: the name made %d elements", where, n)
		}
	}
	if got := text(t, ctx, rowNameSelector(tok.ID)); got != evil {
		t.Errorf("name shows as %q, want the literal text", got)
	}
	noMarkup("list")
	chooseFromRowMenu(t, ctx, tok.ID, "delete")
	if got := text(t, ctx, `#delete-dialog [data-fill="name"]`); got != evil {
		t.Errorf("dialog shows %q, want the literal text", got)
	}
	noMarkup("dialog")
	run(t, ctx, "details page", chromedp.Navigate(app.url+tokensPath+"/"+tok.ID), chromedp.WaitVisible(chromedp.CSS(tokenSections)))
	if got := text(t, ctx, "main h1"); got != evil {
		t.Errorf("details title %q, want the literal text", got)
	}
	noMarkup("details")
	run(t, ctx, "edit page", chromedp.Navigate(app.url+tokensPath+"/"+tok.ID+"/edit"), chromedp.WaitVisible(chromedp.CSS("#name")))
	if got := eval[string](t, ctx, `document.querySelector("#name").value`); got != evil {
		t.Errorf("edit field holds %q, want the literal text", got)
	}
	noMarkup("edit")
	if n := dialogs.Load(); n != 0 {
		t.Fatalf("%d JavaScript dialogs opened: the name ran as script", n)
	}
}

func TestBrowserCopyEndpoint(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Copy me")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	run(t, ctx, "copy the API endpoint",
		chromedp.Navigate(app.url+tokensPath+"/"+tok.ID),
		chromedp.WaitVisible(chromedp.CSS(`[data-copy="endpoint-value"]`)),
		chromedp.Click(chromedp.CSS(`[data-copy="endpoint-value"]`)),
	)
	waitAnnouncement(t, ctx, "The API endpoint has been copied.")
	got := readClipboard(t, ctx, app)
	if want := app.url + "/public/v1/accounts/api-tokens"; got != want {
		t.Fatalf("clipboard holds %q, want %q", got, want)
	}
}

// TestBrowserLocalDates: dates show in the person's time zone and format,
// with the exact UTC time on hover.
func TestBrowserLocalDates(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Dated") // created 4 May 2026, 10:30 UTC
	ctx := newTab(t)
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "en-US"}); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, app, app.admin)
	cell := rowSelector(tok.ID) + ` td[data-label="Date created"] time`
	if got := text(t, ctx, cell); got != "May 4, 2026" {
		t.Errorf("date created shows %q, want the local date", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('`+cell+`').title`); got != "4 May 2026, 10:30 UTC" {
		t.Errorf("hover shows %q, want the exact UTC time", got)
	}
	run(t, ctx, "details tab", chromedp.Navigate(app.url+tokensPath+"/"+tok.ID+"?tab=details"), chromedp.WaitVisible(chromedp.CSS(`[data-fact="created"]`)))
	if got := text(t, ctx, `[data-fact="created"] time`); got != "May 4, 2026, 7:30 PM GMT+9" {
		t.Errorf("created shows %q, want Tokyo time", got)
	}
}

// TestBrowserRevealAfterSignOut: a session that ended while the page was
// open gets words, not a silent failure, when Show is pressed.
func TestBrowserRevealAfterSignOut(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.createToken("Left open")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	run(t, ctx, "details", chromedp.Navigate(app.url+tokensPath+"/"+tok.ID), chromedp.WaitVisible(chromedp.CSS("[data-reveal-show]")))
	app.clock.Add(2 * time.Hour) // idle past the timeout
	run(t, ctx, "Show", chromedp.Click(chromedp.CSS("[data-reveal-show]")))
	waitAnnouncement(t, ctx, "You have been signed out. Reload the page and sign in to show the token value.")
	if !eval[bool](t, ctx, `document.querySelector("[data-toasts] [data-flash=error]") !== null`) {
		t.Error("the message is not shown as an error")
	}
	if strings.Contains(text(t, ctx, "main"), secret) {
		t.Fatal("the value was shown to an ended session")
	}
}

// TestBrowserPasswordPromptStartsClean: the prompt opens without an empty
// error box, and says what went wrong only when something did.
func TestBrowserPasswordPromptStartsClean(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Prompted")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	app.clock.Add(11 * time.Minute)
	run(t, ctx, "Show asks for the password",
		chromedp.Navigate(app.url+tokensPath+"/"+tok.ID),
		chromedp.WaitVisible(chromedp.CSS("[data-reveal-show]")),
		chromedp.Click(chromedp.CSS("[data-reveal-show]")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-password")),
	)
	if eval[bool](t, ctx, `document.querySelector("#password-dialog [data-password-error]").checkVisibility()`) {
		t.Fatal("the prompt opens with an error box showing")
	}
}

// TestBrowserRevealLimited: past the limit on values shown, Show says so
// and when to try again, and shows nothing.
func TestBrowserRevealLimited(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.createToken("Shown too often")
	details := tokensPath + "/" + tok.ID
	// The same person, in another browser, has used up the minute's ten.
	other := app.signedIn(t, app.admin)
	csrf := other.get(details).csrf(t)
	for i := range 10 {
		if res := other.post(details+"/reveal", url.Values{"_csrf": {csrf}}); res.status != 200 {
			t.Fatalf("reveal %d = %d", i+1, res.status)
		}
	}
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	run(t, ctx, "Show", chromedp.Navigate(app.url+details), chromedp.WaitVisible(chromedp.CSS("[data-reveal-show]")),
		chromedp.Click(chromedp.CSS("[data-reveal-show]")))
	waitAnnouncement(t, ctx, "Too many token values were shown in the last minute. Try again in 6 seconds.")
	saveScreenshot(t, ctx, "limited")
	if !eval[bool](t, ctx, `document.querySelector("[data-toasts] [data-flash=error]") !== null`) {
		t.Error("the message is not shown as an error")
	}
	if strings.Contains(text(t, ctx, "main"), secret) {
		t.Fatal("the value was shown past the limit")
	}
}
