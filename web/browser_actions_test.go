package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"apitokens/store"
)

func TestBrowserDeleteFromListMenu(t *testing.T) {
	app := newTestApp(t)
	keep, _ := app.createToken("Keep me")
	tok, _ := app.createToken("ERP integration", app.modules[0])
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)

	chooseFromRowMenu(t, ctx, tok.ID, "delete")
	if got := text(t, ctx, "#delete-dialog h2"); got != "Delete API token" {
		t.Errorf("dialog title %q", got)
	}
	body := text(t, ctx, "#delete-dialog-text")
	for _, want := range []string{"ERP integration", tok.ID, "can't be reinstated or reused"} {
		if !strings.Contains(body, want) {
			t.Errorf("dialog says %q, lacking %q", body, want)
		}
	}
	waitUntil(t, ctx, "focus on Cancel, the safe choice", `document.activeElement.textContent === "Cancel"`)
	run(t, ctx, "confirm the delete",
		chromedp.Click(chromedp.CSS(`#delete-dialog button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	msg := text(t, ctx, successFlash)
	if want := "The API token “ERP integration” (" + tok.ID + ") has been deleted successfully."; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if loc := eval[string](t, ctx, `location.pathname`); loc != tokensPath {
		t.Errorf("landed on %s, want the list", loc)
	}
	if rowExists(t, ctx, tok.ID) {
		t.Error("the deleted token is still listed")
	}
	if !rowExists(t, ctx, keep.ID) {
		t.Error("the other token disappeared")
	}
}

func TestBrowserDeleteFromDetails(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Storefront sync", app.modules[1], app.modules[2])
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	run(t, ctx, "open the details page from the list",
		chromedp.Click(chromedp.CSS(rowNameSelector(tok.ID))),
		chromedp.WaitVisible(chromedp.CSS(tokenSections)),
	)
	if h1 := text(t, ctx, "main h1"); h1 != "Storefront sync" {
		t.Fatalf("details page title %q", h1)
	}
	saveScreenshot(t, ctx, "details")
	run(t, ctx, "open the down arrow and choose Delete",
		chromedp.Click(chromedp.CSS(moreActions+" summary")),
		chromedp.WaitVisible(menuItem(moreActions, "Delete")),
		chromedp.Click(menuItem(moreActions, "Delete")),
		chromedp.WaitVisible(chromedp.CSS("#delete-dialog")),
	)
	if body := text(t, ctx, "#delete-dialog-text"); !strings.Contains(body, "Storefront sync") {
		t.Errorf("dialog does not name the token: %q", body)
	}
	run(t, ctx, "confirm",
		chromedp.Click(chromedp.CSS(`#delete-dialog button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	saveScreenshot(t, ctx, "deleted")
	if msg := text(t, ctx, successFlash); !strings.Contains(msg, "has been deleted successfully") {
		t.Errorf("message %q", msg)
	}
	if loc := eval[string](t, ctx, `location.pathname`); loc != tokensPath {
		t.Errorf("landed on %s, want the list", loc)
	}
	if rowExists(t, ctx, tok.ID) {
		t.Error("the deleted token is still listed")
	}
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(app.url+tokensPath+"/"+tok.ID))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, ctx, "not-found")
	if res.Status != 404 || text(t, ctx, "main h1") != "Not Found" {
		t.Errorf("details page after delete: %d %q, want 404 Not Found", res.Status, text(t, ctx, "main h1"))
	}
}

func TestBrowserCancelKeepsToken(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Billing export")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)

	t.Run("CancelButton", func(t *testing.T) {
		chooseFromRowMenu(t, ctx, tok.ID, "delete")
		run(t, ctx, "cancel",
			chromedp.Click(chromedp.CSS(`#delete-dialog [data-dialog-cancel]`)),
			chromedp.WaitNotVisible(chromedp.CSS("#delete-dialog")),
		)
		waitUntil(t, ctx, "focus goes back to the row's menu button",
			focusedName+` === "Actions for Billing export"`)
	})
	t.Run("Escape", func(t *testing.T) {
		chooseFromRowMenu(t, ctx, tok.ID, "delete")
		run(t, ctx, "press Escape",
			chromedp.KeyEvent(kb.Escape),
			chromedp.WaitNotVisible(chromedp.CSS("#delete-dialog")),
		)
	})
	run(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if !rowExists(t, ctx, tok.ID) || !app.tokenExists(app.account.ID, tok.ID) {
		t.Fatal("Cancel deleted the token")
	}
	if eval[bool](t, ctx, `document.querySelector("[data-flashes]").textContent.trim() !== "" || document.querySelector("[data-flash]") !== null`) {
		t.Error("a message appeared although nothing happened")
	}
}

// TestBrowserModifiedClickIsTheBrowsers: a click with Ctrl, Cmd, Shift or
// Alt on a link the page would open as a dialog (a row's Delete, Add) is
// left to the browser, for a new tab, a window or a download; a plain click
// opens the dialog.
func TestBrowserModifiedClickIsTheBrowsers(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Billing export")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	waitListed(t, ctx)
	// A listener on the window hears the click after the page's own, sees
	// whether they took it over, and stops the browser from following it.
	taken := func(link, modifier string) bool {
		return eval[bool](t, ctx, `(() => {
			let taken = null;
			const spy = ev => { taken = ev.defaultPrevented; ev.preventDefault(); };
			window.addEventListener("click", spy);
			document.querySelector('`+link+`').dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true, button: 0, `+modifier+`}));
			window.removeEventListener("click", spy);
			document.querySelectorAll("dialog[open]").forEach(d => d.close());
			return taken;
		})()`)
	}
	for _, link := range []string{rowSelector(tok.ID) + ` [data-menu] a[href$="/delete"]`, `main a[href="` + newTokenPath + `"]`} {
		for _, modifier := range []string{"ctrlKey: true", "metaKey: true", "shiftKey: true", "altKey: true"} {
			if taken(link, modifier) {
				t.Errorf("%s with %s opened a dialog", link, modifier)
			}
		}
		if !taken(link, "") {
			t.Errorf("a plain click on %s did not open its dialog", link)
		}
	}
}

func TestBrowserDeleteWithoutJavaScript(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Legacy importer")
	ctx := newTab(t)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, app, app.admin)
	row := rowSelector(tok.ID)
	run(t, ctx, "open the ••• menu and follow Delete",
		chromedp.Click(chromedp.CSS(row+" summary")),
		chromedp.WaitVisible(menuItem(row, "Delete")),
		chromedp.Click(menuItem(row, "Delete")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-title")),
	)
	if loc := eval[string](t, ctx, `location.pathname`); loc != tokensPath+"/"+tok.ID+"/delete" {
		t.Fatalf("without JavaScript the link went to %s, want the confirmation page", loc)
	}
	saveScreenshot(t, ctx, "confirm-page")
	if got := text(t, ctx, confirmPage); !strings.Contains(got, "Delete API token") || !strings.Contains(got, "can't be reinstated or reused") {
		t.Fatalf("confirmation page says %q", got)
	}
	run(t, ctx, "confirm",
		chromedp.Click(chromedp.CSS(confirmPage+` button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	if msg := text(t, ctx, successFlash); !strings.Contains(msg, "“Legacy importer”") || !strings.Contains(msg, "deleted successfully") {
		t.Errorf("message %q", msg)
	}
	if rowExists(t, ctx, tok.ID) {
		t.Error("the deleted token is still listed")
	}
}

func TestBrowserDisableAndEnable(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("CI pipeline")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)

	chooseFromRowMenu(t, ctx, tok.ID, "disable")
	if got := text(t, ctx, "#disable-dialog h2"); got != "Disable API token" {
		t.Errorf("dialog title %q", got)
	}
	run(t, ctx, "confirm disable",
		chromedp.Click(chromedp.CSS(`#disable-dialog button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	if msg := text(t, ctx, successFlash); !strings.Contains(msg, "("+tok.ID+") has been disabled successfully.") {
		t.Errorf("message %q", msg)
	}
	if st := text(t, ctx, rowSelector(tok.ID)+" [data-status]"); st != "Disabled" {
		t.Errorf("status column %q, want Disabled", st)
	}

	run(t, ctx, "enable from the details page",
		chromedp.Navigate(app.url+tokensPath+"/"+tok.ID),
		chromedp.Click(chromedp.CSS(moreActions+" summary")),
		chromedp.WaitVisible(menuItem(moreActions, "Enable")),
		chromedp.Click(menuItem(moreActions, "Enable")),
		chromedp.WaitVisible(chromedp.CSS("#enable-dialog")),
		chromedp.Click(chromedp.CSS(`#enable-dialog button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	if msg := text(t, ctx, successFlash); !strings.Contains(msg, "("+tok.ID+") has been enabled successfully.") {
		t.Errorf("message %q", msg)
	}
	if st := text(t, ctx, "main [data-status]"); st != "Active" {
		t.Errorf("details status %q, want Active", st)
	}
	if eval[bool](t, ctx, menuHas(moreActions, "Enable")) {
		t.Error("Enable is still offered on an active token")
	}
}

func TestBrowserPhoneWidth(t *testing.T) {
	app := newTestApp(t)
	for i := range 6 {
		app.createToken(fmt.Sprintf("Integration with a rather long name number %d", i), app.modules...)
	}
	tok, _ := app.createToken("Newest")
	ctx := newTab(t)
	run(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	browserSignIn(t, ctx, app, app.admin)
	saveScreenshot(t, ctx, "list")
	if w := eval[bool](t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`); !w {
		t.Error("the list page scrolls sideways at phone width")
	}
	chooseFromRowMenu(t, ctx, tok.ID, "delete")
	saveScreenshot(t, ctx, "dialog")
	run(t, ctx, "confirm",
		chromedp.Click(chromedp.CSS(`#delete-dialog button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	if rowExists(t, ctx, tok.ID) {
		t.Error("the deleted token is still listed")
	}
}

func TestBrowserActionsMenuKeyboard(t *testing.T) {
	app := newTestApp(t)
	demoAdmin := app.seedDemo(t)
	ctx := newTab(t)
	run(t, ctx, "sign in as the demo administrator",
		chromedp.Navigate(app.url+"/login"),
		chromedp.SendKeys(chromedp.CSS("#email"), demoAdmin.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), store.DemoAccount.Password),
		chromedp.Click(chromedp.CSS(signInButton)),
		chromedp.WaitVisible(chromedp.CSS(settingsNav)),
	)
	// A disabled token's menu, and two more: newest first, Token automation
	// is listed above Support tooling.
	staging := rowSelector(rowID(t, ctx, "Staging smoke tests"))
	above := rowSelector(rowID(t, ctx, "Token automation"))
	below := rowSelector(rowID(t, ctx, "Support tooling"))
	run(t, ctx, "open a row's ••• menu with the keyboard",
		chromedp.Focus(chromedp.CSS(staging+" summary")),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(staging+" [data-menu] > ul a")),
	)
	items := eval[[]string](t, ctx, `[...document.querySelectorAll('`+staging+` [data-menu] > ul a')].map(a => a.textContent)`)
	if strings.Join(items, ",") != "Enable,Edit,Rotate secret,Delete" {
		t.Fatalf("menu items %v", items)
	}
	waitUntil(t, ctx, "focus on the first item", `document.activeElement.textContent === "`+items[0]+`"`)
	saveScreenshot(t, ctx, "menu")
	for _, step := range []struct{ key, want string }{
		{kb.ArrowDown, items[1]}, {kb.ArrowDown, items[2]}, {kb.ArrowDown, items[3]}, {kb.ArrowDown, items[0]}, // wraps round
		{kb.ArrowUp, items[3]}, {kb.Home, items[0]}, {kb.End, items[3]},
	} {
		run(t, ctx, "press a key in the menu", chromedp.KeyEvent(step.key))
		if got := eval[string](t, ctx, `document.activeElement.textContent`); got != step.want {
			t.Fatalf("after %q the focus is on %q, want %q", step.key, got, step.want)
		}
	}
	run(t, ctx, "close it with Escape", chromedp.KeyEvent(kb.Escape))
	if eval[bool](t, ctx, `document.querySelector('`+staging+` [data-menu] > ul a').checkVisibility()`) {
		t.Error("Escape did not close the menu")
	}
	waitUntil(t, ctx, "focus goes back to the menu button",
		focusedName+` === "Actions for Staging smoke tests"`)
	run(t, ctx, "the down arrow opens it again", chromedp.KeyEvent(kb.ArrowDown))
	waitUntil(t, ctx, "open, with focus on the first item", `document.querySelector('`+staging+` details[data-menu]').open && document.activeElement.textContent === "Enable"`)
	run(t, ctx, "and Escape closes it", chromedp.KeyEvent(kb.Escape))
	// An open menu covers the rows below it, so the second click goes above.
	run(t, ctx, "opening another menu closes the first",
		chromedp.Click(chromedp.CSS(below+" summary")),
		chromedp.Click(chromedp.CSS(above+" summary")),
		chromedp.WaitVisible(chromedp.CSS(above+" [data-menu] > ul a")),
	)
	waitUntil(t, ctx, "only the last menu stays open",
		`document.querySelectorAll("details[data-menu][open]").length === 1 && document.querySelector('`+above+` details[data-menu]').open`)
}
