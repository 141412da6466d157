package web_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"apitokens/store"
)

// The browser tests drive Debian's Chromium. Without it they fail: a
// missing browser is a broken test machine, not a reason to skip.

var chrome struct {
	once sync.Once
	ctx  context.Context
	stop func()
	dir  string
	err  error
}

func chromiumPath() (string, error) {
	if p := os.Getenv("APITOKENS_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH (apt-get install chromium, or set APITOKENS_CHROMIUM)")
}

func startBrowser() {
	path, err := chromiumPath()
	if err != nil {
		chrome.err = err
		return
	}
	chrome.dir, err = os.MkdirTemp("", "apitokens-chromium-")
	if err != nil {
		chrome.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(filepath.Join(chrome.dir, "profile")),
		chromedp.Env("TMPDIR="+chrome.dir),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, stopBrowser := chromedp.NewContext(allocCtx)
	chrome.ctx = ctx
	chrome.stop = func() { stopBrowser(); stopAlloc() }
	if err := chromedp.Do(ctx); err != nil {
		chrome.err = fmt.Errorf("start %s: %w", path, err)
	}
}

func stopBrowser() {
	if chrome.stop != nil {
		chrome.stop()
	}
	if chrome.dir != "" {
		os.RemoveAll(chrome.dir)
	}
}

// newTab opens a tab in a fresh browser profile (its own cookies), with a
// time limit for the whole test.
func newTab(t *testing.T) context.Context {
	t.Helper()
	chrome.once.Do(startBrowser)
	if chrome.err != nil {
		t.Fatalf("browser tests need Chromium: %v", chrome.err)
	}
	ctx, cancel := chromedp.NewContext(chrome.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// run runs steps and fails the test with what was being done.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		saveScreenshot(t, ctx, "failed")
		t.Fatalf("%s: %v", what, err)
	}
}

// saveScreenshot keeps a picture of the page in $APITOKENS_SCREENSHOTS, if
// set, to see what a person would have seen.
func saveScreenshot(t *testing.T, ctx context.Context, label string) {
	dir := os.Getenv("APITOKENS_SCREENSHOTS")
	if dir == "" {
		return
	}
	// A failed step may have used up the test's time: allow a moment more.
	shotCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	shot, err := chromedp.Run(shotCtx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + "-" + label + ".png"
	if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
	}
}

// waitUntil waits, a few seconds at most, for a JavaScript condition that
// follows an event the page handles asynchronously.
func waitUntil(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		saveScreenshot(t, ctx, "failed")
		t.Fatalf("%s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// browserSignIn signs in through the form, as a person would.
func browserSignIn(t *testing.T, ctx context.Context, app *testApp, u store.User) {
	t.Helper()
	run(t, ctx, "sign in",
		chromedp.Navigate(app.url+tokensPath),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), u.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(signInButton)),
		// The settings navigation is there only once signed in.
		chromedp.WaitVisible(chromedp.CSS(settingsNav)),
	)
	if h1 := text(t, ctx, "main h1"); h1 != "API tokens" {
		t.Fatalf("after sign-in the page is %q, want the API tokens list", h1)
	}
}

// Where the tests find things: by role, label or data- attribute, never by
// a styling class or a row's position.
const (
	signInButton = `form[action="/login"] button[type=submit]`
	settingsNav  = `nav[aria-label="Settings"]`
	// tokenSections, the tabs, are on a token's details page only.
	tokenSections = `nav[aria-label="Token sections"]`
	// moreActions is the details page's down-arrow menu.
	moreActions  = `details[data-menu]:has(> summary[aria-label="More actions"])`
	successFlash = `[data-flash="success"]`
	anyFlash     = `[data-flash]`
	confirmPage  = `section[aria-labelledby="confirm-title"]`
	emptyList    = `section[aria-labelledby="list-empty"]`
)

func rowSelector(id string) string { return `tr[data-token-id="` + id + `"]` }

// rowNameSelector is the row's link to the token's details, which reads as its name.
func rowNameSelector(id string) string { return rowSelector(id) + " [data-token-link]" }

// rowNames are the names of the tokens listed, in the list's order.
func rowNames(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `[...document.querySelectorAll("tr[data-token-id] [data-token-link]")].map(a => a.textContent)`)
}

// rowID is the ID of the listed token with the name.
func rowID(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	id := eval[string](t, ctx, `[...document.querySelectorAll("tr[data-token-id]")].find(r =>
		r.querySelector("[data-token-link]").textContent === `+jsString(name)+`)?.dataset.tokenId ?? ""`)
	if id == "" {
		t.Fatalf("no token %q in the list", name)
	}
	return id
}

// link is the link with these words, as a person picks it.
func link(words string) chromedp.JSPath {
	return chromedp.JSPath(`[...document.querySelectorAll("a")].find(a => a.textContent.trim() === ` + jsString(words) + `)`)
}

// waitAnnouncement waits for the page's live region to say want: the
// server's messages and those the script announces, such as a copy, both
// go there.
func waitAnnouncement(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitUntil(t, ctx, "the message "+want, `document.querySelector("[data-flashes]").textContent.trim() === `+jsString(want))
}

// rowExists reports whether the list shows the token.
func rowExists(t *testing.T, ctx context.Context, id string) bool {
	return eval[bool](t, ctx, `document.querySelector('`+rowSelector(id)+`') !== null`)
}

// chooseFromRowMenu opens the ••• menu of a row and chooses an action.
func chooseFromRowMenu(t *testing.T, ctx context.Context, id, action string) {
	t.Helper()
	row := rowSelector(id)
	run(t, ctx, "open the ••• menu and choose "+action,
		chromedp.Click(chromedp.CSS(row+" summary")),
		chromedp.WaitVisible(chromedp.CSS(row+` a[data-action="`+action+`"]`)),
		chromedp.Click(chromedp.CSS(row+` a[data-action="`+action+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#"+action+"-dialog")),
	)
}

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
		chromedp.WaitVisible(chromedp.CSS(moreActions+` a[data-action="delete"]`)),
		chromedp.Click(chromedp.CSS(moreActions+` a[data-action="delete"]`)),
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
	if res.Status != 404 || text(t, ctx, "main h1") != "Not found" {
		t.Errorf("details page after delete: %d %q, want 404 Not found", res.Status, text(t, ctx, "main h1"))
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
			`document.activeElement.getAttribute("aria-label") === "Actions for Billing export"`)
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
		chromedp.WaitVisible(chromedp.CSS(row+` a[data-action="delete"]`)),
		chromedp.Click(chromedp.CSS(row+` a[data-action="delete"]`)),
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
	if msg := text(t, ctx, successFlash); !strings.Contains(msg, "has been disabled. Its status is now Disabled.") {
		t.Errorf("message %q", msg)
	}
	if st := text(t, ctx, rowSelector(tok.ID)+" [data-status]"); st != "Disabled" {
		t.Errorf("status column %q, want Disabled", st)
	}

	run(t, ctx, "enable from the details page",
		chromedp.Navigate(app.url+tokensPath+"/"+tok.ID),
		chromedp.Click(chromedp.CSS(moreActions+" summary")),
		chromedp.WaitVisible(chromedp.CSS(moreActions+` a[data-action="enable"]`)),
		chromedp.Click(chromedp.CSS(moreActions+` a[data-action="enable"]`)),
		chromedp.WaitVisible(chromedp.CSS("#enable-dialog")),
		chromedp.Click(chromedp.CSS(`#enable-dialog button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	if msg := text(t, ctx, successFlash); !strings.Contains(msg, "has been enabled. Its status is now Active.") {
		t.Errorf("message %q", msg)
	}
	if st := text(t, ctx, "main [data-status]"); st != "Active" {
		t.Errorf("details status %q, want Active", st)
	}
	if eval[bool](t, ctx, `document.querySelector('`+moreActions+` a[data-action="enable"]') !== null`) {
		t.Error("Enable is still offered on an active token")
	}
}

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
		if n := eval[int](t, ctx, `document.querySelectorAll("main img, main b, dialog img, dialog b").length`); n != 0 {
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
	if _, err := app.store.SeedDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	demoAdmin, err := app.store.UserByEmail(context.Background(), store.DemoAccount.AdminEmail)
	if err != nil {
		t.Fatal(err)
	}
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
		chromedp.WaitVisible(chromedp.CSS(staging+" [data-menu-item]")),
	)
	items := eval[[]string](t, ctx, `[...document.querySelectorAll('`+staging+` [data-menu-item]')].map(a => a.textContent)`)
	if strings.Join(items, ",") != "Edit,Enable,Delete" {
		t.Fatalf("menu items %v", items)
	}
	waitUntil(t, ctx, "focus on the first item", `document.activeElement.textContent === "`+items[0]+`"`)
	saveScreenshot(t, ctx, "menu")
	for _, step := range []struct{ key, want string }{
		{kb.ArrowDown, items[1]}, {kb.ArrowDown, items[2]}, {kb.ArrowDown, items[0]}, // wraps round
		{kb.ArrowUp, items[2]}, {kb.Home, items[0]}, {kb.End, items[2]},
	} {
		run(t, ctx, "press a key in the menu", chromedp.KeyEvent(step.key))
		if got := eval[string](t, ctx, `document.activeElement.textContent`); got != step.want {
			t.Fatalf("after %q the focus is on %q, want %q", step.key, got, step.want)
		}
	}
	run(t, ctx, "close it with Escape", chromedp.KeyEvent(kb.Escape))
	if eval[bool](t, ctx, `document.querySelector('`+staging+` [data-menu-item]').checkVisibility()`) {
		t.Error("Escape did not close the menu")
	}
	waitUntil(t, ctx, "focus goes back to the menu button",
		`document.activeElement.getAttribute("aria-label") === "Actions for Staging smoke tests"`)
	run(t, ctx, "the down arrow opens it again", chromedp.KeyEvent(kb.ArrowDown))
	waitUntil(t, ctx, "open, with focus on the first item", `document.querySelector('`+staging+` details[data-menu]').open && document.activeElement.textContent === "Edit"`)
	run(t, ctx, "and Escape closes it", chromedp.KeyEvent(kb.Escape))
	// An open menu covers the rows below it, so the second click goes above.
	run(t, ctx, "opening another menu closes the first",
		chromedp.Click(chromedp.CSS(below+" summary")),
		chromedp.Click(chromedp.CSS(above+" summary")),
		chromedp.WaitVisible(chromedp.CSS(above+" [data-menu-item]")),
	)
	waitUntil(t, ctx, "only the last menu stays open",
		`document.querySelectorAll("details[data-menu][open]").length === 1 && document.querySelector('`+above+` details[data-menu]').open`)
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

// readClipboard grants the page the permission a person would and reads
// what was copied.
func readClipboard(t *testing.T, ctx context.Context, app *testApp) string {
	t.Helper()
	if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission:       &browser.PermissionDescriptor{Name: "clipboard-read"},
		Setting:          browser.PermissionSettingGranted,
		Origin:           app.url,
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
	}); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the clipboard: %v", err)
	}
	return got
}

// TestBrowserTokenLifecycle walks a token from birth to deletion as a person
// would: the four steps of Add with a dropped-in logo, copying the secret,
// Edit, showing the value again after confirming the password, and Delete.
func TestBrowserTokenLifecycle(t *testing.T) {
	app := newTestApp(t)
	logo := filepath.Join(t.TempDir(), "logo.png")
	if err := os.WriteFile(logo, pngImage(t, 200, 200), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)

	run(t, ctx, "open the wizard from the Add button",
		chromedp.Click(link("Add")),
		chromedp.WaitVisible(chromedp.CSS("#name")),
	)
	if step := text(t, ctx, `ol[aria-label="Steps"] [aria-current="step"]`); step != "1 General" {
		t.Fatalf("current step %q", step)
	}
	if !eval[bool](t, ctx, `document.querySelector("[data-expires-on]").hidden`) {
		t.Error("the custom date shows before Custom date is chosen")
	}
	run(t, ctx, "fill in General",
		chromedp.SetUploadFiles(chromedp.CSS("#logo"), []string{logo}),
		chromedp.SendKeys(chromedp.CSS("#name"), "Browser token ✓"),
		chromedp.SendKeys(chromedp.CSS("#description"), "Made in the browser"),
		chromedp.SetValue(chromedp.CSS("select[data-expiry]"), "60"),
	)
	waitUntil(t, ctx, "the logo preview appears", `!document.querySelector("[data-logo-preview]").hidden`)
	saveScreenshot(t, ctx, "general")
	if n := text(t, ctx, "#name-count"); n != "15 / 200 characters" {
		t.Errorf("name counter %q: characters are counted as the server counts them", n)
	}
	run(t, ctx, "Next to Modules",
		chromedp.Click(chromedp.CSS(`button[value="next"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="modules"]`)),
		chromedp.Click(chromedp.CSS(`input[value="`+app.modules[0].ID+`"]`)),
		chromedp.Click(chromedp.CSS(`button[value="next"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value="add"]`)),
	)
	saveScreenshot(t, ctx, "overview")
	overview := text(t, ctx, "[data-overview]")
	for _, want := range []string{"Name Browser token ✓", "Description Made in the browser", app.modules[0].Name,
		"Expires " + app.clock.Now().AddDate(0, 0, 60).Format("2 Jan 2006")} {
		if !strings.Contains(overview, want) {
			t.Errorf("overview lacks %q: %s", want, overview)
		}
	}
	run(t, ctx, "Add",
		chromedp.Click(chromedp.CSS(`button[value="add"]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-secret")),
	)
	saveScreenshot(t, ctx, "summary")
	msg := text(t, ctx, `section[aria-labelledby="step-title"] `+successFlash)
	secret := text(t, ctx, "#new-secret")
	if !secretPattern.MatchString(secret) || !strings.HasPrefix(msg, "The API token “Browser token ✓” (TKN-") || !strings.HasSuffix(msg, "has been added.") {
		t.Fatalf("summary: %q, secret %q", msg, secret)
	}
	run(t, ctx, "copy the secret",
		chromedp.Click(chromedp.CSS(`[data-copy="new-secret"]`)),
	)
	waitAnnouncement(t, ctx, "The API token value has been copied.")
	if got := readClipboard(t, ctx, app); got != secret {
		t.Fatalf("clipboard holds %q, want the secret", got)
	}

	run(t, ctx, "View details",
		chromedp.Click(link("View details")),
		chromedp.WaitVisible(chromedp.CSS(tokenSections)),
	)
	if !eval[bool](t, ctx, `document.querySelector('main img[src$="/logo"]').naturalWidth === 128`) {
		t.Error("the details page does not show the logo")
	}
	if strings.Contains(text(t, ctx, "main"), secret) {
		t.Fatal("the details page shows the secret unasked")
	}

	run(t, ctx, "Edit the name",
		chromedp.Click(link("Edit")),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.Clear(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Browser token v2"),
		chromedp.Click(chromedp.CSS(`form[data-token-form] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(anyFlash)),
	)
	if msg := text(t, ctx, anyFlash); msg != "The API token “Browser token v2” has been updated." {
		t.Errorf("edit message %q", msg)
	}
	if h1 := text(t, ctx, "main h1"); h1 != "Browser token v2" {
		t.Errorf("heading %q after edit", h1)
	}

	// Ten minutes after signing in, showing the value asks for the password.
	app.clock.Add(11 * time.Minute)
	run(t, ctx, "Show the value",
		chromedp.Click(chromedp.CSS("[data-reveal-show]")),
		chromedp.WaitVisible(chromedp.CSS("#password-dialog #confirm-password")),
		chromedp.SendKeys(chromedp.CSS("#confirm-password"), "wrong password"),
		chromedp.Click(chromedp.CSS(`#password-dialog button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#password-dialog [data-password-error]")),
	)
	if eval[bool](t, ctx, `[...document.querySelectorAll("[data-copy]")].some(b => b.hidden && b.checkVisibility())`) {
		t.Error("a hidden button shows")
	}
	saveScreenshot(t, ctx, "password")
	if msg := text(t, ctx, "#password-dialog [data-password-error]"); msg != "That password is not right. Try again." {
		t.Errorf("wrong password message %q", msg)
	}
	run(t, ctx, "confirm with the right password",
		chromedp.SendKeys(chromedp.CSS("#confirm-password"), password),
		chromedp.Click(chromedp.CSS(`#password-dialog button[type="submit"]`)),
		chromedp.WaitNotVisible(chromedp.CSS("#password-dialog")),
	)
	waitUntil(t, ctx, "the value is shown", `document.querySelector("#token-value").textContent === "`+secret+`"`)
	saveScreenshot(t, ctx, "revealed")
	if b := text(t, ctx, "[data-reveal-show]"); b != "Hide" {
		t.Errorf("the Show button reads %q once shown", b)
	}
	run(t, ctx, "Hide it again", chromedp.Click(chromedp.CSS("[data-reveal-show]")))
	waitUntil(t, ctx, "the value is masked", `!document.querySelector("#token-value").textContent.includes("`+secret[10:]+`")`)
	run(t, ctx, "Copy it without showing it (no second password prompt)",
		chromedp.Click(chromedp.CSS("[data-reveal-copy]")),
	)
	waitAnnouncement(t, ctx, "The API token value has been copied.")
	if got := readClipboard(t, ctx, app); got != secret {
		t.Fatalf("clipboard holds %q, want the secret", got)
	}

	run(t, ctx, "Delete from the down arrow",
		chromedp.Click(chromedp.CSS(moreActions+" summary")),
		chromedp.Click(chromedp.CSS(moreActions+` a[data-action="delete"]`)),
		chromedp.WaitVisible(chromedp.CSS("#delete-dialog")),
		chromedp.Click(chromedp.CSS(`#delete-dialog button[type="submit"]`)),
		// The copy message is still up: wait for the list itself.
		chromedp.WaitVisible(chromedp.CSS(emptyList)),
	)
	if msg := text(t, ctx, anyFlash); !strings.HasPrefix(msg, "The API token “Browser token v2” (TKN-") || !strings.HasSuffix(msg, "has been deleted successfully.") {
		t.Errorf("delete message %q", msg)
	}
	if n := app.tokenCount(app.account.ID); n != 0 {
		t.Fatalf("%d tokens left", n)
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
	// The script marks the kind of what it announces by its class alone.
	if !eval[bool](t, ctx, `document.querySelector("[data-flashes]").firstElementChild.classList.contains("flash-error")`) {
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
