package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAllowedAddresses binds a token to its server's addresses in
// the Add dialog: a range written wrong is pointed out at its field, the
// overview lists the addresses, and the token's General tab shows them.
func TestBrowserAllowedAddresses(t *testing.T) {
	app := newTestApp(t)
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	run(t, ctx, "open Add, name it, give two addresses, one wrong",
		chromedp.Click(link("Add")),
		chromedp.WaitVisible(chromedp.CSS(formDialog+" #name")),
		chromedp.SendKeys(chromedp.CSS(formDialog+" #name"), "Warehouse sync"),
		chromedp.SendKeys(chromedp.CSS(formDialog+" #allowed_addresses"), "203.0.113.7\n10.1.2.3/8"),
		chromedp.Click(chromedp.CSS(nextButton)),
		chromedp.WaitVisible(chromedp.CSS(formDialog+` [data-error-of="allowedAddresses"]`)),
	)
	if msg := text(t, ctx, formDialog+` [data-error-of="allowedAddresses"]`); !strings.Contains(msg, "10.1.2.3/8 has bits set past its prefix length: the range it means is written 10.0.0.0/8.") {
		t.Fatalf("the field says %q", msg)
	}
	if !eval[bool](t, ctx, `document.querySelector("`+formDialog+` #allowed_addresses").getAttribute("aria-invalid") === "true"`) {
		t.Error("the field is not marked invalid")
	}
	run(t, ctx, "show the field", chromedp.ScrollIntoView(chromedp.CSS(formDialog+" #allowed_addresses")))
	saveScreenshot(t, ctx, "add-dialog-addresses")
	checkAccessibility(t, ctx, "Add dialog with a wrong address")

	run(t, ctx, "put it right, choose a module, on to the overview",
		chromedp.SetValue(chromedp.CSS(formDialog+" #allowed_addresses"), "203.0.113.7\n10.0.0.0/8"),
		chromedp.Click(chromedp.CSS(nextButton)),
		chromedp.WaitVisible(chromedp.CSS(formDialog+` input[name="modules"]`)),
		chromedp.Click(chromedp.CSS(formDialog+` input[value="`+app.modules[0].ID+`"]`)),
		chromedp.Click(chromedp.CSS(nextButton)),
		chromedp.WaitVisible(chromedp.CSS(formDialog+` button[value="add"]`)),
	)
	if got := text(t, ctx, formDialog+" [data-overview]"); !strings.Contains(got, "203.0.113.7") || !strings.Contains(got, "10.0.0.0/8") {
		t.Fatalf("the overview says %q", got)
	}
	run(t, ctx, "add, then view details",
		chromedp.Click(chromedp.CSS(formDialog+` button[value="add"]`)),
		chromedp.WaitVisible(chromedp.CSS(formDialog+" #new-secret")),
		chromedp.Click(link("View details")),
		chromedp.WaitVisible(chromedp.CSS(`[data-fact="allowed-addresses"]`)),
	)
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll('[data-fact="allowed-addresses"] li')].map(li => li.textContent)`); strings.Join(got, " ") != "203.0.113.7 10.0.0.0/8" {
		t.Fatalf("the General tab lists %v", got)
	}
	saveScreenshot(t, ctx, "details-addresses")
	checkAccessibility(t, ctx, "details with allowed addresses")
}
