package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserRotateDialog rotates a token's secret from the list's •••
// menu: the dialog asks for the grace period, then shows the new secret
// once with Copy, as the Add wizard's summary does. Both secrets work until
// the deadline the details page gives, and End it now stops the old one.
func TestBrowserRotateDialog(t *testing.T) {
	app := newAPIApp(t)
	tok, old := app.managerToken("Nightly sync")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	row := rowSelector(tok.ID)

	run(t, ctx, "open the ••• menu and choose Rotate secret",
		chromedp.Click(chromedp.CSS(row+" summary")),
		chromedp.WaitVisible(menuItem(row, "Rotate secret")),
		chromedp.Click(menuItem(row, "Rotate secret")),
		chromedp.WaitVisible(chromedp.CSS(`#form-dialog input[name=grace][value="PT1H"]`)),
	)
	if !eval[bool](t, ctx, `document.querySelector("#form-dialog").open && document.querySelector('#form-dialog input[value="PT24H"]').checked`) {
		t.Fatal("the rotate dialog is not open with 24 hours chosen")
	}
	saveScreenshot(t, ctx, "rotate-dialog")
	checkAccessibility(t, ctx, "rotate dialog")

	// The choice by keyboard, as a radio group is used: arrows move it.
	run(t, ctx, "choose 1 hour and rotate",
		chromedp.Focus(chromedp.CSS(`#form-dialog input[value="PT24H"]`)),
		chromedp.KeyEvent(kb.ArrowUp), // 1 hour
		chromedp.Click(chromedp.CSS(`#form-dialog button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#form-dialog #new-secret")),
	)
	secret := text(t, ctx, "#form-dialog #new-secret")
	if !strings.HasPrefix(secret, "apitk_") || secret == old {
		t.Fatalf("the dialog shows %q, not a new secret", secret)
	}
	if got := text(t, ctx, "#form-dialog [data-previous-secret]"); !strings.Contains(got, "(in 1 hour)") {
		t.Fatalf("the dialog says %q of the previous secret", got)
	}
	run(t, ctx, "copy", chromedp.Click(chromedp.CSS(`#form-dialog [data-copy="new-secret"]`)))
	waitAnnouncement(t, ctx, "The API token value has been copied.")
	if got := readClipboard(t, ctx, app); got != secret {
		t.Fatalf("the clipboard holds %q, want the new secret", got)
	}
	saveScreenshot(t, ctx, "rotate-summary")
	checkAccessibility(t, ctx, "rotate summary")
	for _, s := range []string{old, secret} {
		if res := app.api(t, s).get(apiTokens + "/" + tok.ID); res.status != http.StatusOK {
			t.Fatalf("during the grace period a secret is refused: %d", res.status)
		}
	}

	// Closed, the dialog reloads the list behind it, which is out of date:
	// the page is a new one once the mark set here is gone.
	eval[bool](t, ctx, `(window.beforeReload = true)`)
	run(t, ctx, "close the dialog", chromedp.Click(chromedp.CSS(`#form-dialog [data-dialog-close]`)))
	waitAcross(t, ctx, "the list again", `window.beforeReload === undefined && document.readyState === "complete"`)
	waitListed(t, ctx)
	run(t, ctx, "the details page", chromedp.Click(chromedp.CSS(rowNameSelector(tok.ID))),
		chromedp.WaitVisible(chromedp.CSS("[data-previous-banner]")))
	if got := text(t, ctx, "[data-previous-banner]"); !strings.Contains(got, "The previous secret works until") ||
		!strings.Contains(got, "(in 1 hour)") || !strings.Contains(got, "Not used since the rotation.") {
		t.Fatalf("the banner says %q", got)
	}
	saveScreenshot(t, ctx, "previous-secret")
	checkAccessibility(t, ctx, "details page during a rotation")
	run(t, ctx, "end it now",
		chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll("[data-previous-banner] button")].find(b => b.textContent.trim() === "End it now")`)),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	if eval[bool](t, ctx, `document.querySelector("[data-previous-banner]") !== null`) {
		t.Fatal("the banner stays after End it now")
	}
	app.api(t, old).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	app.api(t, secret).get(apiTokens).decode(t, http.StatusOK, &struct{}{})
}
