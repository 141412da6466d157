package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

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
	msg := text(t, ctx, `section[aria-labelledby="form-title"] `+successFlash)
	secret := text(t, ctx, "#new-secret")
	if !secretPattern.MatchString(secret) || !strings.HasPrefix(msg, "The API token “Browser token ✓” (TKN-") || !strings.HasSuffix(msg, "has been added successfully.") {
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
	id := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), tokensPath+"/")

	run(t, ctx, "Edit the name",
		chromedp.Click(link("Edit")),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.Clear(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Browser token v2"),
		chromedp.Click(chromedp.CSS(`form[data-token-form] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(anyFlash)),
	)
	if msg := text(t, ctx, anyFlash); msg != "The API token “Browser token v2” ("+id+") has been updated successfully." {
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
	if b := eval[string](t, ctx, `document.querySelector("[data-reveal-show]").getAttribute("aria-label")`); b != "Hide the token value" {
		t.Errorf("the Show button says %q once shown", b)
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
		chromedp.Click(menuItem(moreActions, "Delete")),
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
