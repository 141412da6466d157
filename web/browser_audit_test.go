package web_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Where the audit tests find things.
const (
	auditTable   = `table[data-audit-table]`
	recordDialog = `dialog[data-record-dialog]`
	recordLink   = `a[data-record-link]`
)

// labelled is the element whose accessible label is label.
func labelled(label string) string { return `[aria-label="` + label + `"]` }

// renameInBrowser renames the token through its Edit page, as a person
// does, so that the audit trail records this browser.
func renameInBrowser(t *testing.T, ctx context.Context, app *testApp, id, name string) {
	t.Helper()
	run(t, ctx, "rename through Edit",
		chromedp.Navigate(app.url+tokensPath+"/"+id+"/edit"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SetValue(chromedp.CSS("#name"), name),
		chromedp.Submit(chromedp.CSS("#name")),
		chromedp.WaitVisible(chromedp.CSS(successFlash)),
	)
}

// openRecord opens the record details of the newest event shown and
// returns the event's ID.
func openRecord(t *testing.T, ctx context.Context) string {
	t.Helper()
	run(t, ctx, "View details", chromedp.Click(chromedp.CSS(`tbody tr:first-child `+recordLink)),
		chromedp.WaitVisible(chromedp.CSS(recordDialog+` [data-record]`)))
	return eval[string](t, ctx, `document.querySelector('`+recordDialog+` [data-record]').dataset.record`)
}

// TestBrowserDetailsHeaderAndAuditTrail: the details page's header and
// card, the General tab's labelled icon buttons, the Audit trail table with
// this browser recorded, and its Record details in a dialog, with Copy.
func TestBrowserDetailsHeaderAndAuditTrail(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Nightly export", app.modules[0])
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	renameInBrowser(t, ctx, app, tok.ID, "Nightly invoices")
	ua := eval[string](t, ctx, `navigator.userAgent`)

	run(t, ctx, "details", chromedp.Navigate(app.url+tokensPath+"/"+tok.ID), chromedp.WaitVisible(chromedp.CSS(tokenSections)))
	if got := eval[string](t, ctx, `document.querySelector('`+labelled("Back to API tokens")+`').pathname`); got != tokensPath {
		t.Errorf("the back arrow leads to %q", got)
	}
	if got := text(t, ctx, "main .page-head"); got != "NI API token "+tok.ID+" Nightly invoices Active Edit" {
		t.Errorf("the header reads %q", got)
	}
	if got := text(t, ctx, `section[aria-label="Account and last access"]`); got != "Account Acme "+app.account.ID+" Last access Never" {
		t.Errorf("the card reads %q", got)
	}
	for _, label := range []string{"Copy the API endpoint", "Show the token value", "Copy the token value", "More actions"} {
		if !eval[bool](t, ctx, `(el => el !== null && el.checkVisibility())(document.querySelector('`+labelled(label)+`'))`) {
			t.Errorf("no visible button labelled %q", label)
		}
	}
	saveScreenshot(t, ctx, "header")
	checkAccessibility(t, ctx, "details header, General tab")

	run(t, ctx, "Audit trail tab", chromedp.Click(chromedp.CSS(tokenSections+` a[href$="tab=audit"]`)), chromedp.WaitVisible(chromedp.CSS(auditTable)))
	headers := eval[[]string](t, ctx, `[...document.querySelectorAll('`+auditTable+` th')].map(th => th.textContent)`)
	if want := []string{"Date", "Actor", "Tech details", "Summary", "Details"}; !equalStrings(headers, want) {
		t.Errorf("columns %q, want %q", headers, want)
	}
	newest := text(t, ctx, auditTable+` tbody tr:first-child`)
	if want := regexp.MustCompile(`^\S.* Ada Admin ` + app.admin.ID + ` 127\.0\.0\.1 Chrome \d+ on Linux API token updated Name Nightly export → changed to Nightly invoices View details of record \d+$`); !want.MatchString(newest) {
		t.Errorf("the newest row reads %q", newest)
	}
	if got := text(t, ctx, `[data-audit-count]`); got != "1–2 of 2 records" {
		t.Errorf("the pager says %q", got)
	}
	saveScreenshot(t, ctx, "audit-table")
	checkAccessibility(t, ctx, "Audit trail tab")

	id := openRecord(t, ctx)
	facts := eval[[]string](t, ctx, `[...document.querySelectorAll('`+recordDialog+` dt')].map(dt => dt.textContent)`)
	if want := []string{"Record ID", "Object", "Date", "Actor", "Tech details", "Summary", "Details", "JSON"}; !equalStrings(facts, want) {
		t.Errorf("record details %q, want %q", facts, want)
	}
	body := text(t, ctx, recordDialog)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`^Record details Record ID ` + id + ` Object Nightly invoices ` + tok.ID + ` API token`),
		regexp.MustCompile(`Date \d+ May 2026, \d\d:\d\d:\d\d\.\d{3} UTC Actor Ada Admin ` + app.admin.ID),
		regexp.MustCompile(`Summary API token updated Details Name Nightly export → changed to Nightly invoices JSON \{`),
	} {
		if !want.MatchString(body) {
			t.Errorf("the dialog reads %q, want it to match %s", body, want)
		}
	}
	var record struct {
		ID        int64  `json:"id"`
		Event     string `json:"event"`
		UserAgent string `json:"userAgent"`
		Address   string `json:"address"`
		Object    struct{ ID string }
	}
	shownJSON := eval[string](t, ctx, `document.querySelector('`+recordDialog+` pre').textContent`)
	if err := json.Unmarshal([]byte(shownJSON), &record); err != nil {
		t.Fatalf("the JSON shown does not parse: %v\n%s", err, shownJSON)
	}
	if strconv.FormatInt(record.ID, 10) != id || record.Event != "updated" || record.UserAgent != ua || record.Address != "127.0.0.1" || record.Object.ID != tok.ID {
		t.Errorf("the record's JSON is %+v, want event %s of %s by this browser (%q)", record, id, tok.ID, ua)
	}
	saveScreenshot(t, ctx, "record-details")
	checkAccessibility(t, ctx, "Record details dialog")

	run(t, ctx, "Copy the JSON", chromedp.Click(chromedp.CSS(recordDialog+` `+labelled("Copy JSON"))))
	waitAnnouncement(t, ctx, "JSON has been copied.")
	if !eval[bool](t, ctx, `document.querySelector('`+recordDialog+` [data-toasts]') !== null`) {
		t.Error("the message is not over the dialog, where the person is looking")
	}
	if got := readClipboard(t, ctx, app); got != shownJSON {
		t.Errorf("the clipboard holds %q, want the JSON shown", got)
	}
	run(t, ctx, "Escape closes the dialog", chromedp.KeyEvent(kb.Escape))
	waitUntil(t, ctx, "the dialog is closed and the focus back on its link",
		`!document.querySelector('`+recordDialog+`').open && document.activeElement.matches('`+recordLink+`')`)
}

// TestBrowserAccountAuditTrail: Settings > Audit trail, from the menu, lists
// every token's events with their object, filters them, links each to its
// token and opens the same record details.
func TestBrowserAccountAuditTrail(t *testing.T) {
	app := newTestApp(t)
	first, _ := app.createToken("Storefront sync")
	second, _ := app.createToken("Warehouse feed", app.modules[1])
	theirs, _ := app.createTokenIn(app.otherAdmin, "Not yours")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	renameInBrowser(t, ctx, app, second.ID, "Warehouse feed v2")

	run(t, ctx, "Settings > Audit trail", chromedp.Click(chromedp.CSS(settingsNav+` a[href="/settings/audit-trail"]`)),
		chromedp.WaitVisible(chromedp.CSS(auditTable)))
	if got := text(t, ctx, settingsNav+` [aria-current="page"]`); got != "Audit trail" {
		t.Errorf("the menu marks %q as the current page", got)
	}
	headers := eval[[]string](t, ctx, `[...document.querySelectorAll('`+auditTable+` th')].map(th => th.textContent)`)
	if want := []string{"Date", "Object", "Object type", "Actor", "Tech details", "Summary", "Details"}; !equalStrings(headers, want) {
		t.Errorf("columns %q, want %q", headers, want)
	}
	objects := eval[[]string](t, ctx, `[...document.querySelectorAll('`+auditTable+` [data-object-link]')].map(a => a.pathname)`)
	if want := []string{tokensPath + "/" + second.ID, tokensPath + "/" + second.ID, tokensPath + "/" + first.ID}; !equalStrings(objects, want) {
		t.Errorf("rows link to %q, want %q", objects, want)
	}
	if body := text(t, ctx, "main"); containsAll(body, theirs.ID) {
		t.Errorf("another account's token is in the trail:\n%s", body)
	}
	saveScreenshot(t, ctx, "account-trail")
	checkAccessibility(t, ctx, "Settings > Audit trail")

	run(t, ctx, "filter by event",
		chromedp.SetValue(chromedp.CSS("#event"), "updated"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Filter the audit trail"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/settings/audit-trail"]`+`:not([aria-current])`)),
	)
	waitUntil(t, ctx, "one row", `document.querySelectorAll('`+auditTable+` tbody tr').length === 1`)
	if got := text(t, ctx, auditTable+` tbody tr`); !containsAll(got, "Warehouse feed v2", second.ID, "API token", "API token updated") {
		t.Errorf("the filtered row reads %q", got)
	}
	openRecord(t, ctx)
	if body := text(t, ctx, recordDialog); !containsAll(body, "Object Warehouse feed v2 "+second.ID, "Summary API token updated") {
		t.Errorf("the dialog reads %q", body)
	}
	checkAccessibility(t, ctx, "Record details over the account's trail")

	run(t, ctx, "the record's own page", chromedp.Navigate(app.url+eval[string](t, ctx, `document.querySelector('`+recordLink+`').pathname`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-record]`)))
	checkAccessibility(t, ctx, "a record's page")
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
