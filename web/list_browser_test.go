package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// waitPager waits for the pager to say want: the page it is on has loaded.
func waitPager(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitAcross(t, ctx, "the pager says "+want, `(document.querySelector("[data-page-summary]") || {}).textContent === `+jsString(want))
}

// waitAcross is waitUntil for a condition that comes with a new page: while
// the browser navigates, the check is asked again.
func waitAcross(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			saveScreenshot(t, ctx, "failed")
			t.Fatalf("%s: not so after 5s (%v)", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// TestBrowserListFilterSortPageBulkDelete goes through the list as a person
// does: filters it with the form, sorts it by a column, pages through it,
// goes back, and deletes three tokens at once through the dialog.
func TestBrowserListFilterSortPageBulkDelete(t *testing.T) {
	app := newTestApp(t)
	billing := app.modules[1]
	batch := map[string]string{} // ID by name
	for i := range 55 {
		tok, _ := app.createToken(fmt.Sprintf("Batch %02d", i+1), billing)
		batch[tok.Name] = tok.ID
		app.clock.Add(time.Minute)
	}
	for i := range 5 {
		app.createToken(fmt.Sprintf("Other %02d", i+1))
	}
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	waitPager(t, ctx, "1–10 of 60 rows")

	run(t, ctx, "filter by module",
		chromedp.Click(chromedp.CSS(filterButton)),
		chromedp.WaitVisible(chromedp.CSS("#filter-module")),
		chromedp.SetValue(chromedp.CSS("#filter-module"), billing.ID),
		chromedp.Click(chromedp.CSS(`form[aria-label="Filter API tokens"] button[type=submit]`)),
	)
	waitPager(t, ctx, "1–10 of 55 rows")
	if got := text(t, ctx, filterButton+" [data-filter-count]"); got != "1" {
		t.Errorf("the Filter button counts %q active filters, want 1", got)
	}
	run(t, ctx, "25 rows a page", chromedp.WaitVisible(chromedp.CSS("#page-size")),
		chromedp.Evaluate[chromedp.Void](`(s => { s.value = "25"; s.dispatchEvent(new Event("change")); })(document.getElementById("page-size"))`))
	waitPager(t, ctx, "1–25 of 55 rows")
	// The empty fields stay out of the address, which says just the view.
	if q := eval[string](t, ctx, `location.search`); q != "?module="+billing.ID+"&limit=25" {
		t.Errorf("address %q", q)
	}
	if eval[bool](t, ctx, `document.body.textContent.includes("Other 0")`) {
		t.Error("tokens of no module are listed")
	}
	saveScreenshot(t, ctx, "filtered")
	checkAccessibility(t, ctx, "filtered list")

	const nameColumn = `th[data-sort-column="name"]`
	nameHeader := nameColumn + " a"
	run(t, ctx, "sort by name", chromedp.Click(chromedp.CSS(nameHeader)))
	waitAcross(t, ctx, "sorted by name", `location.search.includes("sort=name")`)
	waitPager(t, ctx, "1–25 of 55 rows")
	if got := rowNames(t, ctx)[0]; got != "Batch 01" {
		t.Errorf("first by name: %q", got)
	}
	if s := eval[string](t, ctx, `document.querySelector('`+nameColumn+`').getAttribute("aria-sort")`); s != "ascending" {
		t.Errorf("aria-sort %q", s)
	}
	run(t, ctx, "sort by name the other way", chromedp.Click(chromedp.CSS(nameHeader)))
	waitAcross(t, ctx, "sorted Z to A", `location.search.includes("order=desc")`)
	if got := rowNames(t, ctx)[0]; got != "Batch 55" {
		t.Errorf("first by name, Z to A: %q", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('`+nameHeader+`').textContent`); got != "API token▼" {
		t.Errorf("header %q, want the arrow down", got)
	}

	run(t, ctx, "next page", chromedp.Click(chromedp.CSS(`nav[aria-label="Pages"] a[rel="next"]`)))
	waitPager(t, ctx, "26–50 of 55 rows")
	if got := rowNames(t, ctx)[0]; got != "Batch 30" {
		t.Errorf("first on page 2: %q", got)
	}
	page2 := eval[string](t, ctx, `location.search`)
	q, _ := url.ParseQuery(strings.TrimPrefix(page2, "?"))
	if q.Get("module") != billing.ID || q.Get("limit") != "25" || q.Get("sort") != "name" || q.Get("order") != "desc" || q.Get("after") == "" {
		t.Errorf("page 2 address %q does not keep the view", page2)
	}
	run(t, ctx, "back", chromedp.Evaluate[chromedp.Void](`history.back()`))
	waitPager(t, ctx, "1–25 of 55 rows")
	// Read with a script: a page back from history may not tell the
	// browser driver that its document changed.
	if got := rowNames(t, ctx)[0]; got != "Batch 55" {
		t.Errorf("back on page 1, first is %q", got)
	}
	if got := eval[string](t, ctx, `location.search`); got != "?limit=25&module="+billing.ID+"&order=desc&sort=name" {
		t.Errorf("back at %q", got)
	}
	run(t, ctx, "to page 2 again", chromedp.Navigate(app.url+tokensPath+page2))
	waitPager(t, ctx, "26–50 of 55 rows")

	t.Run("SelectPage", func(t *testing.T) {
		run(t, ctx, "tick the whole page", chromedp.Click(chromedp.CSS("input[data-select-page]")))
		if got := text(t, ctx, "[data-selected-count]"); got != "25 selected" {
			t.Errorf("count %q", got)
		}
		run(t, ctx, "untick it", chromedp.Click(chromedp.CSS("input[data-select-page]")))
		if got := text(t, ctx, "[data-selected-count]"); got != "None selected" {
			t.Errorf("count %q", got)
		}
	})

	ids := []string{batch["Batch 30"], batch["Batch 29"], batch["Batch 28"]}
	for _, id := range ids {
		run(t, ctx, "tick "+id, chromedp.Click(chromedp.CSS(rowSelector(id)+` input[name="ids"]`)))
	}
	if got := text(t, ctx, "[data-selected-count]"); got != "3 selected" {
		t.Errorf("count %q", got)
	}
	openDialog := func() {
		t.Helper()
		run(t, ctx, "Delete the selected", chromedp.Click(chromedp.CSS(`form#bulk button[value="delete"]`)),
			chromedp.WaitVisible(chromedp.CSS("#bulk-dialog")))
	}
	openDialog()
	if got := text(t, ctx, "#bulk-dialog-title"); got != "Delete 3 API tokens?" {
		t.Errorf("dialog title %q", got)
	}
	body := text(t, ctx, "#bulk-dialog-text")
	for _, want := range []string{"Batch 30 (" + ids[0] + ")", "Batch 29 (" + ids[1] + ")", "Batch 28 (" + ids[2] + ")", "can't be reinstated or reused"} {
		if !strings.Contains(body, want) {
			t.Errorf("dialog says %q, lacking %q", body, want)
		}
	}
	saveScreenshot(t, ctx, "dialog")
	checkAccessibility(t, ctx, "bulk delete dialog")
	waitUntil(t, ctx, "focus on Cancel", `document.activeElement.textContent === "Cancel"`)
	for _, step := range []struct {
		shift bool
		want  string
	}{{false, "Delete 3 API tokens"}, {false, "reason"}, {true, "Delete 3 API tokens"}, {true, "Cancel"}} {
		var opts []chromedp.KeyOption
		if step.shift {
			opts = append(opts, chromedp.KeyModifiers(chromedp.ModifierShift))
		}
		run(t, ctx, "Tab in the dialog", chromedp.KeyEvent(kb.Tab, opts...))
		// A button by its words, the reason field by its name.
		if got := eval[string](t, ctx, `document.activeElement.textContent || document.activeElement.name`); got != step.want {
			t.Fatalf("Tab (shift %v) put the focus on %q, want %q: the dialog lets the focus out", step.shift, got, step.want)
		}
	}
	run(t, ctx, "Escape cancels", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS("#bulk-dialog")))
	waitUntil(t, ctx, "focus back on Delete", `document.activeElement.value === "delete"`)
	for _, id := range ids {
		if !app.tokenExists(app.account.ID, id) {
			t.Fatal("Escape deleted a token")
		}
	}

	openDialog()
	run(t, ctx, "confirm", chromedp.Click(chromedp.CSS("#bulk-dialog [data-bulk-confirm]")),
		chromedp.WaitVisible(chromedp.CSS(successFlash)))
	if msg := text(t, ctx, successFlash); msg != "3 API tokens have been deleted." {
		t.Errorf("message %q", msg)
	}
	waitPager(t, ctx, "26–50 of 52 rows")
	saveScreenshot(t, ctx, "deleted")
	if got := eval[string](t, ctx, `location.search`); got != page2 {
		t.Errorf("landed on %q, want the same view %q", got, page2)
	}
	for _, id := range ids {
		if rowExists(t, ctx, id) || app.tokenExists(app.account.ID, id) {
			t.Errorf("%s is still there", id)
		}
	}
	if got := rowNames(t, ctx)[0]; got != "Batch 27" {
		t.Errorf("first on the page after the delete: %q", got)
	}
}

// TestBrowserBulkAllMatching selects every token the filter matches, more
// than a page, and disables them through the server's confirmation.
func TestBrowserBulkAllMatching(t *testing.T) {
	app := newTestApp(t)
	for i := range 30 {
		app.createToken(fmt.Sprintf("Nightly %02d", i+1))
	}
	keep, _ := app.createToken("Keep active")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	run(t, ctx, "search", chromedp.Navigate(app.url+tokensPath+"?q=nightly&limit=25"))
	waitPager(t, ctx, "1–25 of 30 rows")
	run(t, ctx, "select all that match", chromedp.Click(chromedp.CSS("input[data-select-all]")))
	if got := text(t, ctx, "[data-selected-count]"); got != "All 30 selected" {
		t.Errorf("count %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('input[name="ids"]:checked').length`); n != 25 {
		t.Errorf("%d rows ticked, want the whole page", n)
	}
	run(t, ctx, "Disable", chromedp.Click(chromedp.CSS(`form#bulk button[value="disable"]`)))
	waitAcross(t, ctx, "the confirmation page", `location.pathname === "`+tokensPath+`/bulk"`)
	if got := text(t, ctx, "#confirm-title"); got != "Disable 30 API tokens?" {
		t.Fatalf("confirmation %q", got)
	}
	saveScreenshot(t, ctx, "confirm-page")
	checkAccessibility(t, ctx, "bulk confirmation page")
	run(t, ctx, "confirm", chromedp.Click(chromedp.CSS(confirmPage+` button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(successFlash)))
	if msg := text(t, ctx, successFlash); msg != "30 API tokens have been disabled." {
		t.Errorf("message %q", msg)
	}
	if q := eval[string](t, ctx, `location.search`); q != "?limit=25&q=nightly" {
		t.Errorf("landed on %q, want the view", q)
	}
	run(t, ctx, "the disabled ones", chromedp.Navigate(app.url+tokensPath+"?status=disabled&limit=50"))
	waitPager(t, ctx, "1–30 of 30 rows")
	if rowExists(t, ctx, keep.ID) {
		t.Error("a token the search did not match was disabled")
	}
}
