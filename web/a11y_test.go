package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"apitokens/store"
)

// axe-core comes from npm: make test installs it and says where in
// APITOKENS_AXE. Without it the accessibility check fails, as a missing
// browser does: it is part of the suite, not an extra.
var axeSource = sync.OnceValues(func() (string, error) {
	path := os.Getenv("APITOKENS_AXE")
	if path == "" {
		matches, _ := filepath.Glob("../.cache/axe-core-*/node_modules/axe-core/axe.min.js")
		if len(matches) == 0 {
			return "", os.ErrNotExist
		}
		path = matches[len(matches)-1]
	}
	b, err := os.ReadFile(path)
	return string(b), err
})

// checkAccessibility runs axe-core on the page as it is and fails on every
// serious or critical violation.
func checkAccessibility(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core is needed for the accessibility check (make test installs it, or set APITOKENS_AXE): %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
		t.Fatalf("load axe-core: %v", err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
			v.impact + " " + v.id + ": " + v.help + " — " + v.nodes.slice(0, 4).map(n => n.target.join(" ")).join(", ")))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: run axe-core: %v", where, err)
	}
	if len(found) > 0 {
		saveScreenshot(t, ctx, "a11y")
		t.Errorf("%s: %d serious or critical accessibility violations:\n%s", where, len(found), strings.Join(found, "\n"))
	}
}

// TestBrowserAccessibility checks every kind of page and dialog with
// axe-core: sign-in, list, menu, dialogs, details tabs, password prompt,
// wizard steps (with errors too), summary, edit, and an error page.
func TestBrowserAccessibility(t *testing.T) {
	app := newTestApp(t)
	demoAdmin := app.seedDemo(t)
	ctx := newTab(t)
	run(t, ctx, "sign-in page", chromedp.Navigate(app.url+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
	checkAccessibility(t, ctx, "sign-in page")
	run(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#email"), demoAdmin.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), store.DemoAccount.Password),
		chromedp.Click(chromedp.CSS(signInButton)),
		chromedp.WaitVisible(chromedp.CSS("tr[data-token-id]")),
	)
	checkAccessibility(t, ctx, "list")
	id := rowID(t, ctx, "Token automation")
	row := rowSelector(id)
	run(t, ctx, "open a menu", chromedp.Click(chromedp.CSS(row+" summary")),
		chromedp.WaitVisible(chromedp.CSS(row+" [data-menu] > ul a")))
	checkAccessibility(t, ctx, "list with a menu open")
	run(t, ctx, "open the delete dialog", chromedp.Click(menuItem(row, "Delete")),
		chromedp.WaitVisible(chromedp.CSS("#delete-dialog")))
	checkAccessibility(t, ctx, "delete dialog")

	for _, tab := range []string{"general", "modules", "details", "usage", "audit"} {
		run(t, ctx, "details "+tab, chromedp.Navigate(app.url+tokensPath+"/"+id+"?tab="+tab), chromedp.WaitVisible(chromedp.CSS(`[data-tab-panel="`+tab+`"]`)))
		checkAccessibility(t, ctx, "details, "+tab+" tab")
	}
	run(t, ctx, "password dialog",
		chromedp.Navigate(app.url+tokensPath+"/"+id),
		chromedp.WaitVisible(chromedp.CSS("[data-reveal-show]")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("password-dialog").showModal()`),
		chromedp.WaitVisible(chromedp.CSS("#confirm-password")),
	)
	checkAccessibility(t, ctx, "password dialog")

	run(t, ctx, "wizard with errors",
		chromedp.Navigate(app.url+tokensPath+"/new"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.Click(chromedp.CSS(`button[value="next"]`)),
		chromedp.WaitVisible(chromedp.CSS("[data-error-summary]")),
	)
	checkAccessibility(t, ctx, "wizard, General with errors")
	run(t, ctx, "wizard, modules",
		chromedp.SendKeys(chromedp.CSS("#name"), "Accessible token"),
		chromedp.Click(chromedp.CSS(`button[value="next"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="modules"]`)),
	)
	checkAccessibility(t, ctx, "wizard, Modules")
	run(t, ctx, "wizard, overview", chromedp.Click(chromedp.CSS(`input[name="modules"]`)),
		chromedp.Click(chromedp.CSS(`button[value="next"]`)), chromedp.WaitVisible(chromedp.CSS(`button[value="add"]`)))
	checkAccessibility(t, ctx, "wizard, Overview")
	run(t, ctx, "wizard, summary", chromedp.Click(chromedp.CSS(`button[value="add"]`)), chromedp.WaitVisible(chromedp.CSS("#new-secret")))
	checkAccessibility(t, ctx, "wizard, Summary")

	run(t, ctx, "edit", chromedp.Navigate(app.url+tokensPath+"/"+id+"/edit"), chromedp.WaitVisible(chromedp.CSS("#name")))
	checkAccessibility(t, ctx, "edit")
	run(t, ctx, "not found", chromedp.Navigate(app.url+tokensPath+"/TKN-0000-0000"), chromedp.WaitVisible(chromedp.CSS(`section[aria-labelledby="error-title"]`)))
	checkAccessibility(t, ctx, "404 page")
}
