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
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"apitokens/store"
	"apitokens/templates"
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
	// filterButton opens and closes the list's filter form.
	filterButton = `details[data-filter-panel] > summary`
)

// focusedName is a script's reading of the name of what has the focus, as
// a screen reader says it: its aria-label, or the words its
// aria-labelledby points at.
const focusedName = `(el => el.getAttribute("aria-label") ?? (el.getAttribute("aria-labelledby") || "").split(" ")
	.map(id => document.getElementById(id)?.textContent ?? "").join(" "))(document.activeElement)`

func rowSelector(id string) string { return `tr[data-token-id="` + id + `"]` }

// rowNameSelector is the row's link to the token's details, which reads as
// its name: the element the row's checkbox and menu are labelled by.
func rowNameSelector(id string) string { return "#n-" + id }

// waitListed waits for the list's rows to be all there: a page just
// navigated to may still be loading.
func waitListed(t *testing.T, ctx context.Context) {
	t.Helper()
	waitAcross(t, ctx, "the list has loaded", `document.readyState !== "loading" && document.querySelector("tr[data-token-id]") !== null`)
}

// rowNames are the names of the tokens listed, in the list's order.
func rowNames(t *testing.T, ctx context.Context) []string {
	t.Helper()
	waitListed(t, ctx)
	return eval[[]string](t, ctx, `[...document.querySelectorAll("tr[data-token-id]")].map(r => document.getElementById("n-" + r.dataset.tokenId).textContent)`)
}

// rowID is the ID of the listed token with the name.
func rowID(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	waitListed(t, ctx)
	id := eval[string](t, ctx, `[...document.querySelectorAll("tr[data-token-id]")].find(r =>
		document.getElementById("n-" + r.dataset.tokenId).textContent === `+jsString(name)+`)?.dataset.tokenId ?? ""`)
	if id == "" {
		t.Fatalf("no token %q in the list", name)
	}
	return id
}

// link is the link with these words, as a person picks it.
func link(words string) chromedp.JSPath {
	return chromedp.JSPath(`[...document.querySelectorAll("a")].find(a => a.textContent.trim() === ` + jsString(words) + `)`)
}

// waitAnnouncement waits for a live region to say want: the server's
// messages come with the page, those the script announces (such as a copy)
// float over it.
func waitAnnouncement(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitUntil(t, ctx, "the message "+want, `[...document.querySelectorAll("[data-flashes], [data-toasts]")].some(r => r.textContent.trim() === `+jsString(want)+`)`)
}

// rowExists reports whether the list shows the token.
func rowExists(t *testing.T, ctx context.Context, id string) bool {
	return eval[bool](t, ctx, `document.querySelector('`+rowSelector(id)+`') !== null`)
}

// menuItems is a script that lists the items of the menu within scope.
func menuItems(scope string) string {
	return `[...document.querySelectorAll(` + jsString(scope+" li > a") + `)]`
}

// menuItem is the item of the menu within scope that reads name: a person
// finds a menu's items by their words.
func menuItem(scope, name string) chromedp.JSPath {
	return chromedp.JSPath(menuItems(scope) + `.find(a => a.textContent === ` + jsString(name) + `)`)
}

// menuHas is a script that says whether the menu within scope offers name.
func menuHas(scope, name string) string {
	return menuItems(scope) + `.some(a => a.textContent === ` + jsString(name) + `)`
}

// chooseFromRowMenu opens the ••• menu of a row and chooses an action.
func chooseFromRowMenu(t *testing.T, ctx context.Context, id, action string) {
	t.Helper()
	row := rowSelector(id)
	run(t, ctx, "open the ••• menu and choose "+action,
		chromedp.Click(chromedp.CSS(row+" summary")),
		chromedp.WaitVisible(menuItem(row, templates.ConfirmationOf(store.TokenAction(action)).Verb)),
		chromedp.Click(menuItem(row, templates.ConfirmationOf(store.TokenAction(action)).Verb)),
		chromedp.WaitVisible(chromedp.CSS("#"+action+"-dialog")),
	)
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

// seedDemo adds the demo account, whose tokens fill a list as make run's
// does, and returns its administrator.
func (a *testApp) seedDemo(t *testing.T) store.User {
	t.Helper()
	if _, err := a.store.SeedDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin, err := a.store.UserByEmail(context.Background(), store.DemoAccount.AdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	return admin
}
