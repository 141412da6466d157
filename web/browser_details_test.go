package web_test

import (
	"context"
	"fmt"
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

// TestBrowserLocalDates: every page writes a moment one way, "4 May 2026"
// over "19:30", in the person's time zone, with the exact UTC time on
// hover; a last access within the day reads "40 minutes ago".
func TestBrowserLocalDates(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.createToken("Dated", app.modules[0]) // created 4 May 2026, 10:30 UTC
	ctx := newTab(t)
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	// The browser's own format is not the page's: the page keeps its one.
	if _, err := chromedp.Call(ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "en-US"}); err != nil {
		t.Fatal(err)
	}
	app.clock.Add(20 * time.Hour)
	app.api(t, secret).get(apiTokens) // used on 5 May 2026 at 06:30 UTC
	if err := app.srv.FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	app.clock.Add(40 * time.Minute)
	browserSignIn(t, ctx, app, app.admin)
	row := rowSelector(tok.ID)
	// Each time element as a person reads it: its lines, and its hover.
	const lines = `[...document.querySelectorAll(%q)].map(el => "ago" in el.dataset ? el.textContent : (el.firstChild?.nodeValue ?? "").trim() + "|" + (el.lastElementChild?.textContent ?? ""))`
	if got := eval[[]string](t, ctx, fmt.Sprintf(lines, row+" time")); strings.Join(got, " / ") != "4 May 2026|19:30 / 40 minutes ago" {
		t.Errorf("the row's dates read %q, want the day over the Tokyo time, and the last access as a while ago", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('`+row+` time').title`); got != "4 May 2026, 10:30:00 UTC" {
		t.Errorf("hover shows %q, want the exact UTC time", got)
	}
	if eval[int](t, ctx, `document.querySelector('`+row+` time[data-ago]').getClientRects().length`) != 1 {
		t.Error(`"40 minutes ago" wraps`)
	}
	run(t, ctx, "details tab", chromedp.Navigate(app.url+tokensPath+"/"+tok.ID+"?tab=details"), chromedp.WaitVisible(chromedp.CSS(`[data-fact="created"]`)))
	if got := eval[[]string](t, ctx, fmt.Sprintf(lines, `[data-fact="created"] time`)); len(got) != 1 || got[0] != "4 May 2026|19:30" {
		t.Errorf("created shows %q, want the list's style in Tokyo time", got)
	}
	saveScreenshot(t, ctx, "details")
	run(t, ctx, "wizard overview",
		chromedp.Navigate(app.url+tokensPath+"/new"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Expiring"),
		chromedp.SetValue(chromedp.CSS("select[data-expiry]"), "30"),
		chromedp.Click(chromedp.CSS(`button[value="next"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="modules"]`)),
		chromedp.Click(chromedp.CSS(`input[name="modules"]`)),
		chromedp.Click(chromedp.CSS(`button[value="next"]`)),
		chromedp.WaitVisible(chromedp.CSS("[data-overview]")),
	)
	// 30 days from 5 May 2026, 07:10 UTC: 16:10 in Tokyo.
	if got := eval[[]string](t, ctx, fmt.Sprintf(lines, "[data-overview] time")); len(got) != 1 || got[0] != "4 Jun 2026|16:10" {
		t.Errorf("the overview's expiry shows %q, want the list's style in Tokyo time", got)
	}
	saveScreenshot(t, ctx, "overview")
	// The same step fetched into the Add dialog.
	run(t, ctx, "wizard overview in the Add dialog",
		chromedp.Navigate(app.url+tokensPath),
		chromedp.Click(link("Add")),
		chromedp.WaitVisible(chromedp.CSS(formDialog+" #name")),
		chromedp.SendKeys(chromedp.CSS(formDialog+" #name"), "Expiring"),
		chromedp.SetValue(chromedp.CSS(formDialog+" select[data-expiry]"), "30"),
		chromedp.Click(chromedp.CSS(nextButton)),
		chromedp.WaitVisible(chromedp.CSS(formDialog+` input[name="modules"]`)),
		chromedp.Click(chromedp.CSS(formDialog+` input[name="modules"]`)),
		chromedp.Click(chromedp.CSS(nextButton)),
		chromedp.WaitVisible(chromedp.CSS(formDialog+" [data-overview]")),
	)
	if got := eval[[]string](t, ctx, fmt.Sprintf(lines, formDialog+" [data-overview] time")); len(got) != 1 || got[0] != "4 Jun 2026|16:10" {
		t.Errorf("the Add dialog's overview shows the expiry as %q, want the list's style in Tokyo time", got)
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
