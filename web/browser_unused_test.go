package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"apitokens/store"
)

// TestBrowserUnusedPolicy sets the policy on unused tokens with the
// keyboard alone, from the list's link to the form's radio buttons, then
// lets it run: the list tells the administrator once what it disabled,
// and its link lists them. A token about to expire says when.
func TestBrowserUnusedPolicy(t *testing.T) {
	app := newTestApp(t)
	idle, _ := app.createToken("Legacy ERP export")
	idle2, _ := app.createToken("Old partner feed")
	app.clock.Add(40 * 24 * time.Hour)
	busy, _ := app.createToken("Storefront sync")
	if _, _, err := app.store.CreateToken(t.Context(), store.NewToken{AccountID: app.account.ID, Name: "Quarter-end report",
		ExpiresAt: app.clock.Now().Add(3*24*time.Hour + time.Hour)}, store.UserActor(app.admin.ID, "")); err != nil {
		t.Fatal(err)
	}
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	waitListed(t, ctx)
	if !strings.Contains(text(t, ctx, "tbody"), "Active Expires in 3 days") {
		t.Fatalf("the token about to expire does not say when: %q", text(t, ctx, "tbody"))
	}

	run(t, ctx, "open the policy from the list with the keyboard",
		chromedp.Focus(chromedp.CSS("[data-unused-policy-link]")),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("[data-unused-policy]")),
	)
	if h1 := text(t, ctx, "main h1"); h1 != "Unused API tokens" {
		t.Fatalf("the policy page's heading is %q", h1)
	}
	if !eval[bool](t, ctx, `document.querySelector('input[name=days][value=off]').checked`) {
		t.Fatal("the policy is not off at first")
	}
	saveScreenshot(t, ctx, "policy-page")
	checkAccessibility(t, ctx, "the unused-token policy page")

	run(t, ctx, "choose 30 days with the arrow keys and press Enter",
		chromedp.Focus(chromedp.CSS(`input[name=days][value=off]`)),
		chromedp.KeyEvent(kb.ArrowDown),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	waitListed(t, ctx)
	if got := text(t, ctx, successFlash); got != "The policy is on: active API tokens not used for 30 days will be disabled." {
		t.Fatalf("the message after saving: %q", got)
	}
	if p, err := app.store.UnusedPolicy(t.Context(), app.account.ID); err != nil || p.Days != 30 {
		t.Fatalf("stored %+v, %v", p, err)
	}

	// The policy runs, as an instance's background job would.
	if n, err := app.store.DisableUnusedTokens(t.Context()); err != nil || n != 2 {
		t.Fatalf("the policy disabled %d: %v", n, err)
	}
	run(t, ctx, "reload the list", chromedp.Navigate(app.url+tokensPath), chromedp.WaitVisible(chromedp.CSS("[data-unused-notice]")))
	waitListed(t, ctx)
	if got := text(t, ctx, "[data-unused-notice]"); got != "2 API tokens were disabled because they had not been used for 30 days. Show disabled tokens not used in 30 days" {
		t.Fatalf("the notice reads %q", got)
	}
	saveScreenshot(t, ctx, "list-notice")
	checkAccessibility(t, ctx, "the list with the policy's notice")

	run(t, ctx, "follow the notice's link",
		chromedp.Click(chromedp.CSS("[data-unused-link]")),
		chromedp.WaitVisible(chromedp.CSS(rowSelector(idle.ID))),
	)
	waitListed(t, ctx)
	if !rowExists(t, ctx, idle2.ID) || rowExists(t, ctx, busy.ID) {
		t.Fatalf("the notice's list: %v", rowNames(t, ctx))
	}
	if eval[bool](t, ctx, `document.querySelector("[data-unused-notice]") !== null`) {
		t.Fatal("the notice shows again")
	}
	saveScreenshot(t, ctx, "notice-link")

	run(t, ctx, "the disabled token's audit trail",
		chromedp.Navigate(app.url+tokensPath+"/"+idle.ID+"?tab=audit"),
		chromedp.WaitVisible(chromedp.CSS("[data-audit-table]")),
	)
	if got := text(t, ctx, "[data-audit-table] tbody tr"); !strings.Contains(got, "System: unused for 30 days") || !strings.Contains(got, "API token disabled") {
		t.Fatalf("the latest event reads %q", got)
	}
	saveScreenshot(t, ctx, "audit-trail")
}
