package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"apitokens/store"
)

// TestBrowserUsageBeforeDelete uses a token through the API, then opens its
// Delete dialog from the list, as a person about to delete it would: the
// dialog says how often it was called and from where. The reason given
// there ends up in the audit trail. The bulk dialog sums the selection.
func TestBrowserUsageBeforeDelete(t *testing.T) {
	app := newAPIApp(t)
	tok, secret := app.managerToken("Warehouse sync")
	quiet, _ := app.managerToken("Quiet one")
	app.callAPI(t, secret, 3, "python-httpx/0.28")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)

	chooseFromRowMenu(t, ctx, tok.ID, "delete")
	const used = "Used 3 times in the last 7 days, last just now from 203.0.113.7 (python-httpx/0.28). Applications using it will stop working."
	waitUntil(t, ctx, "the dialog says what the token has been doing",
		`document.querySelector("#delete-dialog [data-fill=usage]").textContent === `+jsString(used))
	if !eval[bool](t, ctx, `document.querySelector("#delete-dialog [data-fill=usage]").classList.contains("usage-in-use")`) {
		t.Error("the usage of a token in use is not marked as a risk")
	}
	saveScreenshot(t, ctx, "delete-dialog-usage")
	checkAccessibility(t, ctx, "delete dialog with usage")

	// Cancel, then the other token: its dialog says it was never used,
	// not what the first one's said.
	run(t, ctx, "cancel", chromedp.Click(chromedp.CSS("#delete-dialog [data-dialog-cancel]")),
		chromedp.WaitNotVisible(chromedp.CSS("#delete-dialog")))
	chooseFromRowMenu(t, ctx, quiet.ID, "disable")
	waitUntil(t, ctx, "the other token's dialog", `document.querySelector("#disable-dialog [data-fill=usage]").textContent === "Never used."`)
	run(t, ctx, "cancel", chromedp.Click(chromedp.CSS("#disable-dialog [data-dialog-cancel]")),
		chromedp.WaitNotVisible(chromedp.CSS("#disable-dialog")))

	// Without JavaScript the same words are on the confirmation page, with
	// the reason field.
	run(t, ctx, "the confirmation page", chromedp.Navigate(app.url+tokensPath+"/"+tok.ID+"/delete"),
		chromedp.WaitVisible(chromedp.CSS(confirmPage)))
	if got := text(t, ctx, "[data-usage]"); got != used {
		t.Fatalf("the confirmation page says %q", got)
	}
	checkAccessibility(t, ctx, "delete confirmation page with usage")
	run(t, ctx, "back to the list", chromedp.Navigate(app.url+tokensPath))
	waitListed(t, ctx)

	// The bulk dialog sums what the ticked rows did.
	run(t, ctx, "tick both and choose Disable",
		chromedp.Click(chromedp.CSS(rowSelector(tok.ID)+` input[name="ids"]`)),
		chromedp.Click(chromedp.CSS(rowSelector(quiet.ID)+` input[name="ids"]`)),
		chromedp.Click(chromedp.CSS(`button[data-bulk-action][value="disable"]`)),
		chromedp.WaitVisible(chromedp.CSS("#bulk-dialog")),
	)
	const bulkUsed = "Used 3 times in the last 7 days, last just now from 203.0.113.7 (python-httpx/0.28). Applications using them will stop working."
	waitUntil(t, ctx, "the bulk dialog sums the selection",
		`document.querySelector("#bulk-dialog [data-fill=usage]").textContent === `+jsString(bulkUsed))
	saveScreenshot(t, ctx, "bulk-dialog-usage")
	checkAccessibility(t, ctx, "bulk dialog with usage")
	// Enter in the reason confirms, as in the other dialogs.
	run(t, ctx, "give a reason and press Enter",
		chromedp.SendKeys(chromedp.CSS("#bulk-reason"), "Paused for the audit"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	waitListed(t, ctx)
	if n := app.auditCount(t, quiet.ID, store.AuditDisabled); n != 1 {
		t.Fatalf("%d disable events of the quiet token, want 1", n)
	}
	events, err := app.store.AuditTrail(t.Context(), app.account.ID, store.AuditFilter{TokenID: quiet.ID})
	if err != nil {
		t.Fatal(err)
	}
	if events.Events[0].Reason != "Paused for the audit" {
		t.Fatalf("the bulk disable kept the reason %q", events.Events[0].Reason)
	}

	// Delete with a reason: the Delete button is pressed as ever.
	chooseFromRowMenu(t, ctx, tok.ID, "delete")
	run(t, ctx, "give a reason and delete",
		chromedp.SendKeys(chromedp.CSS("#delete-dialog-reason"), "Rotated after a leak"),
		chromedp.Click(chromedp.CSS(`#delete-dialog button[type=submit]`)),
	)
	waitAcross(t, ctx, "the message that it was deleted", `[...document.querySelectorAll(`+jsString(successFlash)+`)].some(f => f.textContent.includes("has been deleted successfully"))`)
	if rowExists(t, ctx, tok.ID) {
		t.Fatal("the token is still listed after the delete")
	}
	run(t, ctx, "the audit trail", chromedp.Navigate(app.url+"/settings/audit-trail"), chromedp.WaitVisible(chromedp.CSS("[data-audit-table]")))
	if got := text(t, ctx, "[data-audit-table] tbody tr"); !strings.Contains(got, "API token deleted") || !strings.Contains(got, "Reason: Rotated after a leak") {
		t.Fatalf("the latest event reads %q", got)
	}
}

// TestBrowserUsageTab shows a demo token's Usage tab: the chart, the
// totals and the last caller, drawn without a script's help.
func TestBrowserUsageTab(t *testing.T) {
	app := newTestApp(t)
	admin := app.seedDemo(t)
	ctx := newTab(t)
	run(t, ctx, "sign in",
		chromedp.Navigate(app.url+tokensPath),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), admin.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), store.DemoAccount.Password),
		chromedp.Click(chromedp.CSS(signInButton)),
		chromedp.WaitVisible(chromedp.CSS("tr[data-token-id]")),
	)
	id := rowID(t, ctx, "User provisioning")
	run(t, ctx, "the Usage tab",
		chromedp.Click(chromedp.CSS(rowNameSelector(id))),
		chromedp.WaitVisible(chromedp.CSS(tokenSections)),
		chromedp.Click(link("Usage")),
		chromedp.WaitVisible(chromedp.CSS("[data-usage-chart]")),
	)
	bars := eval[int](t, ctx, `document.querySelectorAll("[data-usage-chart] rect.chart-calls").length`)
	if bars < 28 {
		t.Fatalf("%d days drawn, want a bar for each day of a month in use", bars)
	}
	if got := text(t, ctx, "[data-last-caller]"); !strings.Contains(got, "minutes ago") || !strings.Contains(got, "203.0.113.") {
		t.Fatalf("last caller %q", got)
	}
	saveScreenshot(t, ctx, "usage-tab")
	checkAccessibility(t, ctx, "usage tab")
}
