package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"apitokens/store"
)

// Where the tests find the form dialog and its parts.
const (
	formDialog = `dialog[data-form-dialog][open]`
	nameError  = `[data-error-of="name"]`
	nextButton = formDialog + ` button[value="next"]`
)

// fieldState is what a person (and a screen reader) can tell of a field.
type fieldState struct {
	Invalid     string `json:"invalid"`     // aria-invalid
	DescribedBy string `json:"describedBy"` // aria-describedby
	Message     string `json:"message"`     // the message shown for it, "" when hidden
	Gap         int    `json:"gap"`         // pixels from the field's bottom to its message's top
	InSummary   bool   `json:"inSummary"`   // the summary at the top lists it
}

func readField(t *testing.T, ctx context.Context, id, name string) fieldState {
	t.Helper()
	return eval[fieldState](t, ctx, `(() => {
		const f = document.getElementById(`+jsString(id)+`);
		const m = document.querySelector('[data-error-of=`+jsString(name)+`]');
		const shown = m && !m.hidden;
		return {
			invalid: f.getAttribute("aria-invalid") || "",
			describedBy: f.getAttribute("aria-describedby") || "",
			message: shown ? m.textContent.trim() : "",
			gap: shown ? Math.round(m.getBoundingClientRect().top - f.getBoundingClientRect().bottom) : -1,
			inSummary: !!document.querySelector('[data-error-summary]:not([hidden]) [data-error-for=`+jsString(name)+`]'),
		};
	})()`)
}

// TestBrowserAddDialog: with JavaScript, Add opens the wizard in a dialog
// over the list, its steps down the side, Close at the left and Next at the
// right; its messages are marked on their fields and follow the input
// (defects 4 and 5); Add ends on the summary in the dialog, and Close shows
// the new token in the list behind.
func TestBrowserAddDialog(t *testing.T) {
	app := newTestApp(t)
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	run(t, ctx, "open Add",
		chromedp.Click(link("Add")),
		chromedp.WaitVisible(chromedp.CSS(formDialog+" #name")),
	)
	if p := eval[string](t, ctx, `location.pathname`); p != tokensPath {
		t.Fatalf("Add left the list for %s", p)
	}
	title := eval[string](t, ctx, `document.getElementById(document.querySelector("`+formDialog+`").getAttribute("aria-labelledby")).textContent`)
	if title != "Add API token" {
		t.Errorf("the dialog is named %q", title)
	}
	layout := eval[map[string]bool](t, ctx, `(() => {
		const d = document.querySelector("`+formDialog+`");
		const r = (el) => el.getBoundingClientRect();
		const steps = r(d.querySelector('ol[aria-label="Steps"]')), name = r(d.querySelector("#name"));
		const close = r(d.querySelector("[data-dialog-close]")), next = r(d.querySelector('button[value="next"]'));
		return {stepsLeft: steps.right <= name.left, stepsDown: d.querySelectorAll('ol[aria-label="Steps"] li').length === 4 &&
			r(d.querySelectorAll('ol[aria-label="Steps"] li')[1]).top > steps.top + 5, closeLeft: close.right < next.left,
			closeAtStart: close.left - r(d).left < 60, nextAtEnd: r(d).right - next.right < 60};
	})()`)
	for what, ok := range layout {
		if !ok {
			t.Errorf("dialog layout: %s is false", what)
		}
	}
	saveScreenshot(t, ctx, "add-dialog")
	checkAccessibility(t, ctx, "Add dialog, General")

	checkNameMessages(t, ctx, formDialog)
	saveScreenshot(t, ctx, "field-error")
	checkAccessibility(t, ctx, "Add dialog with a field error")

	run(t, ctx, "name it and go to Modules",
		chromedp.Focus(chromedp.CSS(formDialog+" #name")),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.SendKeys(chromedp.CSS(formDialog+" #name"), "Dialog token"),
		chromedp.Click(chromedp.CSS(nextButton)),
		chromedp.WaitVisible(chromedp.CSS(formDialog+` input[name="modules"]`)),
	)
	if s := text(t, ctx, formDialog+` [aria-current="step"]`); s != "2 Modules" {
		t.Fatalf("step %q, want Modules", s)
	}
	run(t, ctx, "Next with no module",
		chromedp.Click(chromedp.CSS(nextButton)),
		chromedp.WaitVisible(chromedp.CSS(formDialog+` [data-error-of="modules"]`)),
	)
	if msg := text(t, ctx, formDialog+` [data-error-of="modules"]`); !strings.Contains(msg, "won't be able to call any API") {
		t.Errorf("no module: %q", msg)
	}
	run(t, ctx, "tick a module, Next, Add",
		chromedp.Click(chromedp.CSS(formDialog+` input[value="`+app.modules[0].ID+`"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(formDialog+` [data-error-of="modules"]`)),
		chromedp.Click(chromedp.CSS(nextButton)),
		chromedp.WaitVisible(chromedp.CSS(formDialog+` button[value="add"]`)),
		chromedp.Click(chromedp.CSS(formDialog+` button[value="add"]`)),
		chromedp.WaitVisible(chromedp.CSS(formDialog+" #new-secret")),
	)
	saveScreenshot(t, ctx, "add-dialog-summary")
	checkAccessibility(t, ctx, "Add dialog, Summary")
	if !secretPattern.MatchString(text(t, ctx, formDialog+" #new-secret")) {
		t.Fatal("the summary in the dialog shows no secret")
	}
	run(t, ctx, "Close",
		chromedp.Click(chromedp.CSS(formDialog+" [data-dialog-close]")),
		chromedp.WaitVisible(chromedp.CSS("tr[data-token-id]")),
	)
	if names := rowNames(t, ctx); len(names) != 1 || names[0] != "Dialog token" {
		t.Fatalf("after Close the list shows %q", names)
	}
}

// checkNameMessages sends the General step of the form in scope without a
// name, and follows the name's message as a person puts it right: marked on
// the field (border, aria-invalid, aria-describedby, right under it), then
// changing with the input, then gone once the name is right.
func checkNameMessages(t *testing.T, ctx context.Context, scope string) {
	t.Helper()
	run(t, ctx, "Next with no name", chromedp.Click(chromedp.CSS(scope+` button[value="next"]`)), chromedp.WaitVisible(chromedp.CSS(scope+" "+nameError)))
	f := readField(t, ctx, "name", "name")
	if f.Invalid != "true" || !strings.HasPrefix(f.DescribedBy, "name-error") || f.Message != store.MsgNameRequired || f.Gap < 0 || f.Gap > 16 || !f.InSummary {
		t.Fatalf("the name's problem is not marked on it: %+v", f)
	}
	if border := eval[string](t, ctx, `getComputedStyle(document.querySelector(`+jsString(scope+" #name")+`)).borderTopColor`); border != eval[string](t, ctx, `getComputedStyle(document.querySelector(`+jsString(scope+" "+nameError)+`)).color`) {
		t.Errorf("the name's border (%s) is not in the colour of its message", border)
	}
	run(t, ctx, "type a name too long", chromedp.SendKeys(chromedp.CSS(scope+" #name"), strings.Repeat("n", store.MaxTokenName+1)))
	if f := readField(t, ctx, "name", "name"); f.Message != store.MsgNameTooLong || f.Invalid != "true" {
		t.Fatalf("after typing a name too long the field says %+v, want %q", f, store.MsgNameTooLong)
	}
	run(t, ctx, "shorten it", chromedp.SendKeys(chromedp.CSS(scope+" #name"), "\b"))
	if f := readField(t, ctx, "name", "name"); f.Message != "" || f.Invalid != "" || strings.Contains(f.DescribedBy, "name-error") || f.InSummary {
		t.Fatalf("the put-right name still has a problem: %+v", f)
	}
}

// TestBrowserFieldMessages: on the Add page, without the dialog, a field's
// message is marked on it and follows the input (defects 4 and 5).
func TestBrowserFieldMessages(t *testing.T) {
	app := newTestApp(t)
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	run(t, ctx, "the Add page", chromedp.Navigate(app.url+newTokenPath), chromedp.WaitVisible(chromedp.CSS("#name")))
	checkNameMessages(t, ctx, "main")
}

// TestBrowserEditDialogRenews: an expired token's menu offers Renew, which
// opens Edit in a dialog (General and Modules, Close and Save) where a new
// expiry brings it back.
func TestBrowserEditDialogRenews(t *testing.T) {
	app := newTestApp(t)
	tok := app.expiringToken(t, "Lapsed integration")
	app.clock.Add(48 * time.Hour)
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	row := rowSelector(tok.ID)
	run(t, ctx, "open the menu", chromedp.Click(chromedp.CSS(row+" summary")), chromedp.WaitVisible(chromedp.CSS(row+" [data-renew]")))
	if eval[bool](t, ctx, menuHas(row, "Disable")) {
		t.Error("an expired token's menu offers Disable")
	}
	run(t, ctx, "Renew", chromedp.Click(chromedp.CSS(row+" [data-renew]")), chromedp.WaitVisible(chromedp.CSS(formDialog+" [data-renew]")))
	if got := text(t, ctx, formDialog+" #form-title"); got != "Edit API token "+tok.ID {
		t.Errorf("dialog title %q", got)
	}
	if got := text(t, ctx, formDialog+` ol[aria-label="Sections"]`); got != "1 General 2 Modules" {
		t.Errorf("sections %q", got)
	}
	saveScreenshot(t, ctx, "edit-dialog")
	checkAccessibility(t, ctx, "Edit dialog")
	run(t, ctx, "choose 90 days and Save",
		chromedp.SetValue(chromedp.CSS(formDialog+" select[data-expiry]"), "90"),
		chromedp.Click(chromedp.CSS(formDialog+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
	checkTokenMessage(t, text(t, ctx, successFlash), tok, "has been updated")
	if st := text(t, ctx, row+" [data-status]"); st != "Active" {
		t.Errorf("status %q after renewal, want Active", st)
	}
}

// TestBrowserLogoRefusedInline: a logo too large or not an image is refused
// where it was chosen, like the other fields' problems, and never previewed
// (defect 6).
func TestBrowserLogoRefusedInline(t *testing.T) {
	app := newTestApp(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := write("big.png", append(pngImage(t, 8, 8), make([]byte, store.MaxLogoBytes)...))
	fake := write("fake.png", []byte("not an image at all"))
	good := write("good.png", pngImage(t, 64, 64))
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	run(t, ctx, "the Add page", chromedp.Navigate(app.url+newTokenPath), chromedp.WaitVisible(chromedp.CSS("#logo")))
	previewShown := `!document.querySelector("[data-logo-preview]").hidden`
	for _, tc := range []struct{ name, file, want string }{
		{"TooLarge", big, store.MsgLogoTooLarge},
		{"NotAnImage", fake, store.MsgLogoNotImage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run(t, ctx, "choose "+tc.name, chromedp.SetUploadFiles(chromedp.CSS("#logo"), []string{tc.file}))
			waitUntil(t, ctx, "the logo's message", `document.querySelector('[data-error-of="logo"]').textContent.trim() === `+jsString(tc.want))
			f := readField(t, ctx, "logo", "logo")
			if f.Message != tc.want || f.Invalid != "true" || !strings.HasPrefix(f.DescribedBy, "logo-error") {
				t.Errorf("logo field %+v, want %q marked on it", f, tc.want)
			}
			if eval[bool](t, ctx, previewShown) || eval[int](t, ctx, `document.querySelector("#logo").files.length`) != 0 {
				t.Error("the refused file is previewed or still chosen")
			}
		})
	}
	run(t, ctx, "choose a good one", chromedp.SetUploadFiles(chromedp.CSS("#logo"), []string{good}))
	waitUntil(t, ctx, "the preview", previewShown)
	if f := readField(t, ctx, "logo", "logo"); f.Message != "" || f.Invalid != "" {
		t.Errorf("a good logo still has a problem: %+v", f)
	}
}

// TestBrowserCopyMessageStays: the message after a copy has the icon of
// every message and floats over the page: nothing the person looks at
// moves (defect 7).
func TestBrowserCopyMessageStays(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Copy me")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	run(t, ctx, "details", chromedp.Navigate(app.url+tokensPath+"/"+tok.ID), chromedp.WaitVisible(chromedp.CSS(`[data-copy="endpoint-value"]`)))
	top := `Math.round(document.querySelector("[data-tab-panel]").getBoundingClientRect().top)`
	before := eval[int](t, ctx, top)
	run(t, ctx, "copy", chromedp.Click(chromedp.CSS(`[data-copy="endpoint-value"]`)))
	waitAnnouncement(t, ctx, "The API endpoint has been copied.")
	saveScreenshot(t, ctx, "copied")
	if after := eval[int](t, ctx, top); after != before {
		t.Errorf("the copy message moved the page by %d px", after-before)
	}
	if !eval[bool](t, ctx, `[...document.querySelectorAll('[data-flash="success"]')].some(f => f.textContent.includes("copied") && f.querySelector("svg") !== null)`) {
		t.Error("the copy message has no icon")
	}
}

// TestBrowserDialogIDStaysWithName: in a confirmation dialog the token's
// ID stays on the line of the question rather than on a line of its own
// (defect 13).
func TestBrowserDialogIDStaysWithName(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Nightly export to finance")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	for _, action := range []string{"disable", "delete"} {
		chooseFromRowMenu(t, ctx, tok.ID, action)
		sameLine := eval[bool](t, ctx, `(() => {
			const d = document.getElementById("`+action+`-dialog");
			const question = d.querySelector('[data-fill="id"]').closest("p").getClientRects()[0];
			const id = d.querySelector('[data-fill="id"]').getClientRects()[0];
			return id.top - question.top < id.height;
		})()`)
		if !sameLine {
			saveScreenshot(t, ctx, action+"-id")
			t.Errorf("%s dialog: the ID is on a line of its own", action)
		}
		run(t, ctx, "cancel", chromedp.Click(chromedp.CSS("#"+action+"-dialog [data-dialog-cancel]")))
	}
}

// TestBrowserSummaryIsAPage: without the dialog, Add leads to the summary
// by a redirect: the summary is a page at an address of its own, which Back
// or a reload asks for again (without the secret, shown once) instead of
// asking to send the form again (defect 11).
func TestBrowserSummaryIsAPage(t *testing.T) {
	app := newTestApp(t)
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "the four steps",
		chromedp.Navigate(app.url+newTokenPath),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "No script"),
		chromedp.Click(chromedp.CSS(`button[value="next"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[value="`+app.modules[0].ID+`"]`)),
		chromedp.Click(chromedp.CSS(`input[value="`+app.modules[0].ID+`"]`)),
		chromedp.Click(chromedp.CSS(`button[value="next"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value="add"]`)),
		chromedp.Click(chromedp.CSS(`button[value="add"]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-secret")),
	)
	if p := eval[string](t, ctx, `location.pathname`); !strings.HasSuffix(p, "/added") {
		t.Fatalf("the summary is the answer to the form at %s, not a page of its own", p)
	}
	reloadCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(reloadCtx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("[data-secret-gone]"))); err != nil {
		saveScreenshot(t, ctx, "reloaded")
		t.Fatalf("reloading the summary: %v", err)
	}
	if secretPattern.MatchString(text(t, ctx, "main")) {
		t.Fatal("the summary shows the secret a second time")
	}
}

// TestBrowserAddDialogOnPhone: on a phone the dialog's steps go above the
// fields, and nothing in it is wider than the dialog.
func TestBrowserAddDialogOnPhone(t *testing.T) {
	app := newTestApp(t)
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	for _, width := range []int64{390, 320} {
		if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: width, Height: 844, DeviceScaleFactor: 1, Mobile: true}); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, "open Add", chromedp.Navigate(app.url+tokensPath), chromedp.Click(link("Add")), chromedp.WaitVisible(chromedp.CSS(formDialog+" #name")))
		wider := eval[[]string](t, ctx, `(() => {
			const d = document.querySelector("`+formDialog+`").getBoundingClientRect();
			return [...document.querySelectorAll("`+formDialog+` [data-field], `+formDialog+` [data-field] input, `+formDialog+` [data-dropzone], `+formDialog+` .form-actions")]
				.filter(el => el.getBoundingClientRect().right > d.right + 0.5).map(el => el.id || el.dataset.field || el.className);
		})()`)
		if len(wider) > 0 {
			saveScreenshot(t, ctx, "phone")
			t.Errorf("at %d px these reach past the dialog: %v", width, wider)
		}
	}
	saveScreenshot(t, ctx, "phone")
}
