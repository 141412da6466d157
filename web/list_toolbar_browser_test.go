package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"apitokens/store"
)

// lineCount is a script's count of the lines the text of the elements
// matching a selector takes: 1 each when nothing wraps.
func lineCount(css string) string {
	return `[...document.querySelectorAll(` + jsString(css) + `)].map(el => {
		const r = document.createRange();
		r.selectNodeContents(el);
		// A box that starts below the line before it starts a new line.
		let lines = 0, bottom = -Infinity;
		for (const b of [...r.getClientRects()].filter(b => b.width > 0).sort((x, y) => x.top - y.top)) {
			if (b.top >= bottom - 1) lines++;
			bottom = Math.max(bottom, b.bottom);
		}
		return lines;
	})`
}

// listOf13 makes thirteen tokens, as in the platform's own example: one
// with a logo, one with a long name, one used 40 minutes ago.
func listOf13(t *testing.T, app *testApp) (logo, long, used store.Token) {
	t.Helper()
	ctx := context.Background()
	for i := range 10 {
		app.createToken(fmt.Sprintf("Integration %02d", i+1), app.modules[i%len(app.modules)])
		app.clock.Add(time.Minute)
	}
	logo, _, err := app.store.CreateToken(ctx, store.NewToken{AccountID: app.account.ID, Name: "With a logo", Logo: pngLogo(t)},
		store.UserActor(app.admin.ID, "127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	long, _ = app.createToken("Nightly reconciliation of every marketplace order with the finance system of record, all regions", app.modules...)
	used, secret := app.createToken("Storefront sync", app.modules[0])
	app.api(t, secret).get(apiTokens)
	if err := app.srv.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	app.clock.Add(40 * time.Minute)
	return logo, long, used
}

// TestBrowserListToolbarAndPaging: above the list, Filter (closed until a
// filter is in force), Sort, Columns, Refresh and the row count; below it,
// the page, the page size and the range, as on the platform.
func TestBrowserListToolbarAndPaging(t *testing.T) {
	app := newTestApp(t)
	listOf13(t, app)
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	waitPager(t, ctx, "1–10 of 13 rows")
	if eval[bool](t, ctx, `document.querySelector("details[data-filter-panel]").open`) {
		t.Error("the filter panel is open with no filter in force")
	}
	if got := text(t, ctx, "[data-row-count]"); got != "13 rows" {
		t.Errorf("row count %q", got)
	}
	if got := text(t, ctx, "[data-page-number]"); got != "Page 1 of 2" {
		t.Errorf("pager says %q", got)
	}
	headers := eval[[]string](t, ctx, `[...document.querySelectorAll("table thead th")].map(th => th.innerText.replace(/[▲▼↕]/g, "").trim())`)
	if got := strings.Join(headers, "|"); got != "Select|API token|Modules|Created by|Date created|Last access|Calls (7 days)|Status|Actions" {
		t.Errorf("headers %q, want sentence case and Actions", got)
	}
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 1280 {
		t.Errorf("the list is %d px wide, wider than the window", w)
		t.Log(eval[[]string](t, ctx, `[...document.querySelectorAll("th, td")].slice(0, 9).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().width))`))
	}
	// Tall enough for the whole page, toolbar to paging, in one picture.
	run(t, ctx, "a taller window", chromedp.EmulateViewport(1280, 1000))
	saveScreenshot(t, ctx, "list")
	checkAccessibility(t, ctx, "list with toolbar and paging")

	t.Run("Sort", func(t *testing.T) {
		run(t, ctx, "sort by name from the Sort menu",
			chromedp.Click(chromedp.CSS(`details[data-menu]:has(> summary .icon use[href="#i-sort"]) > summary`)),
			chromedp.Click(link("Name, A to Z")),
		)
		// The header says so too: its arrow and aria-sort.
		waitAcross(t, ctx, "sorted by name", `location.search === "?sort=name" && document.readyState === "complete" &&
			document.querySelector('th[data-sort-column="name"]')?.getAttribute("aria-sort") === "ascending"`)
		if got := rowNames(t, ctx)[0]; got != "Integration 01" {
			t.Errorf("first by name: %q", got)
		}
	})
	t.Run("Next", func(t *testing.T) {
		run(t, ctx, "next page", chromedp.Evaluate[chromedp.Void](`document.querySelector('nav[aria-label="Pages"] a[rel="next"]').click()`))
		waitPager(t, ctx, "11–13 of 13 rows")
		if got := text(t, ctx, "[data-page-number]"); got != "Page 2 of 2" {
			t.Errorf("pager says %q", got)
		}
	})
	t.Run("ColumnsRememberedPerPerson", func(t *testing.T) {
		run(t, ctx, "hide Modules",
			chromedp.Navigate(app.url+tokensPath),
			chromedp.Click(chromedp.CSS(`details[data-columns] > summary`)),
			chromedp.Click(chromedp.CSS(`details[data-columns] input[value="modules"]`)),
		)
		waitAcross(t, ctx, "the Modules column gone", `document.readyState === "complete" && ![...document.querySelectorAll("table thead th")].some(th => th.innerText.trim() === "Modules")`)
		// Another device: a browser of its own, signed in afresh.
		other := newTab(t)
		browserSignIn(t, other, app, app.admin)
		if eval[bool](t, other, `[...document.querySelectorAll("table thead th")].some(th => th.innerText.trim() === "Modules")`) {
			t.Error("the hidden column shows on another device")
		}
		// Someone else keeps every column.
		colleague := app.mustUser(app.account, "bea@acme.test", "Bea Builder", store.RoleAdmin)
		third := newTab(t)
		browserSignIn(t, third, app, colleague)
		if !eval[bool](t, third, `[...document.querySelectorAll("table thead th")].some(th => th.innerText.trim() === "Modules")`) {
			t.Error("one person's choice hid a column for another")
		}
	})
}

// TestBrowserListCellsDoNotWrap: headers, a long name and "40 minutes ago"
// keep to one line (the name cut short with an ellipsis), a date keeps its
// two, and names line up whether or not their token has a logo.
func TestBrowserListCellsDoNotWrap(t *testing.T) {
	app := newTestApp(t)
	logo, long, used := listOf13(t, app)
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	waitListed(t, ctx)
	for i, n := range eval[[]int](t, ctx, lineCount("table thead th a")) {
		if n != 1 {
			t.Errorf("header %d takes %d lines", i, n)
		}
	}
	if n := eval[[]int](t, ctx, lineCount(rowNameSelector(long.ID))); len(n) != 1 || n[0] != 1 {
		t.Errorf("the long name takes %v lines", n)
	}
	if !eval[bool](t, ctx, `(a => a.scrollWidth > a.clientWidth && getComputedStyle(a).textOverflow === "ellipsis")(document.querySelector('`+rowNameSelector(long.ID)+`'))`) {
		t.Error("the long name is not cut short with an ellipsis")
	}
	if n := eval[[]int](t, ctx, lineCount(rowSelector(used.ID)+" time[data-ago]")); len(n) != 1 || n[0] != 1 {
		t.Errorf(`"40 minutes ago" takes %v lines`, n)
	}
	// A date is the day over the time, the time in a quieter colour, as on
	// every page.
	if !eval[bool](t, ctx, `(t => {
		const day = t.getBoundingClientRect(), clock = t.querySelector("span");
		const at = clock.getBoundingClientRect();
		return at.top >= day.top + 5 && Math.abs(at.left - day.left) < 1 && getComputedStyle(clock).color !== getComputedStyle(t).color;
	})(document.querySelector('`+rowSelector(used.ID)+` time:not([data-ago])'))`) {
		t.Error("the date created is not the day over the time")
	}
	left := func(id string) float64 {
		return eval[float64](t, ctx, `document.querySelector('`+rowNameSelector(id)+`').getBoundingClientRect().left`)
	}
	if a, b := left(logo.ID), left(used.ID); a != b {
		t.Errorf("a name with a logo starts at %vpx, one without at %vpx", a, b)
	}
}

// TestBrowserRowMenuNextRow: with a row's ••• menu open, a click on the
// next row's ••• opens that row's menu (it used to land on Delete in the
// open one), and a click anywhere else only closes the menu.
func TestBrowserRowMenuNextRow(t *testing.T) {
	app := newTestApp(t)
	below, _ := app.createToken("Below")
	app.clock.Add(time.Minute)
	above, _ := app.createToken("Above")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	first, second := rowSelector(above.ID), rowSelector(below.ID)
	run(t, ctx, "open the first row's menu", chromedp.Click(chromedp.CSS(first+" summary")),
		chromedp.WaitVisible(chromedp.CSS(first+" [data-menu] > ul a")))
	items := eval[[]string](t, ctx, `[...document.querySelectorAll('`+first+` [data-menu] > ul a')].map(a => a.textContent)`)
	if strings.Join(items, ",") != "Disable,Edit,Rotate secret,Delete" {
		t.Errorf("menu items %v, want the platform's order", items)
	}
	saveScreenshot(t, ctx, "menu")
	checkAccessibility(t, ctx, "list with a row menu open")
	// A click where a person sees the next row's •••, as the mouse does it.
	run(t, ctx, "click the next row's •••", chromedp.Click(chromedp.CSS(second+" summary")))
	waitUntil(t, ctx, "the next row's menu open, the first closed",
		`document.querySelector('`+second+` details').open && !document.querySelector('`+first+` details').open`)
	if eval[bool](t, ctx, `[...document.querySelectorAll("dialog")].some(d => d.open)`) {
		t.Fatal("the click opened a dialog")
	}
	run(t, ctx, "click another row's name", chromedp.Click(chromedp.CSS(rowNameSelector(above.ID))))
	waitUntil(t, ctx, "the menu closed", `!document.querySelector('`+second+` details').open`)
	if got := eval[string](t, ctx, `location.pathname`); got != tokensPath {
		t.Errorf("a click outside the open menu went on to %s", got)
	}
	if !app.tokenExists(app.account.ID, above.ID) || !app.tokenExists(app.account.ID, below.ID) {
		t.Fatal("a token went")
	}
}

// TestBrowserPhoneFirstScreen: at 390 px the first screen shows a token,
// and nothing scrolls sideways.
func TestBrowserPhoneFirstScreen(t *testing.T) {
	app := newTestApp(t)
	listOf13(t, app)
	ctx := newTab(t)
	run(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	browserSignIn(t, ctx, app, app.admin)
	waitListed(t, ctx)
	saveScreenshot(t, ctx, "list")
	if !eval[bool](t, ctx, `document.querySelector("tr[data-token-id] a[id^=n-]").getBoundingClientRect().bottom <= innerHeight`) {
		t.Error("no token on the first screen")
	}
	// The settings menu's items sit side by side, as tabs, not one a line.
	if tops := eval[[]float64](t, ctx, `[...document.querySelectorAll('nav[aria-label="Settings"] a')].map(a => a.getBoundingClientRect().top)`); len(tops) != 2 || tops[0] != tops[1] {
		t.Errorf("the settings menu's items start at %v: not side by side", tops)
	}
	// With a mobile viewport the page grows to its content: compare with
	// the phone's own width.
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the list is %d px wide: it scrolls sideways", w)
		t.Log(eval[[]string](t, ctx, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 391).slice(0, 12).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`))
	}
	checkAccessibility(t, ctx, "list at phone width")
}

// TestBrowserBulkActionsNeedSelection: the bulk actions are disabled until
// a row is ticked. (Without JavaScript they stay enabled, and the server
// asks for a selection: TestBulkActions.)
func TestBrowserBulkActionsNeedSelection(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Pick me")
	app.createToken("Or me")
	ctx := newTab(t)
	browserSignIn(t, ctx, app, app.admin)
	waitListed(t, ctx)
	const disabled = `[...document.querySelectorAll("form#bulk [data-bulk-action]")].map(b => b.disabled)`
	if got := eval[[]bool](t, ctx, disabled); fmt.Sprint(got) != "[true true true]" {
		t.Errorf("with nothing ticked, the actions are disabled: %v", got)
	}
	run(t, ctx, "tick a row", chromedp.Click(chromedp.CSS(rowSelector(tok.ID)+` input[name="ids"]`)))
	if got := eval[[]bool](t, ctx, disabled); fmt.Sprint(got) != "[false false false]" {
		t.Errorf("with a row ticked, the actions are disabled: %v", got)
	}
	run(t, ctx, "untick it", chromedp.Click(chromedp.CSS(rowSelector(tok.ID)+` input[name="ids"]`)))
	if got := eval[[]bool](t, ctx, disabled); fmt.Sprint(got) != "[true true true]" {
		t.Errorf("with the row unticked again, the actions are enabled: %v", got)
	}
}
