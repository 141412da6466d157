package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

var (
	anchorTag      = regexp.MustCompile(`<a\s[^>]*>`)
	hrefAttr       = regexp.MustCompile(`href="([^"]*)"`)
	tokenNameLink  = regexp.MustCompile(`<a id="n-TKN-[^"]+"[^>]*>([^<]*)</a>`)
	inputValueAttr = regexp.MustCompile(`value="([^"]*)"`)
)

// link is the address of the page's link with the rel, "" when there is none.
func (r *response) link(rel string) string {
	for _, tag := range anchorTag.FindAllString(r.body, -1) {
		if strings.Contains(tag, `rel="`+rel+`"`) {
			if m := hrefAttr.FindStringSubmatch(tag); m != nil {
				return html.UnescapeString(m[1])
			}
		}
	}
	return ""
}

// names are the names of the tokens the list shows, in order.
func (r *response) names() []string {
	var out []string
	for _, m := range tokenNameLink.FindAllStringSubmatch(r.body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// inputValue is the value of the page's input with the id.
func (r *response) inputValue(t testing.TB, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<input[^>]*id="` + id + `"[^>]*>`).FindString(r.body)
	if m == "" {
		t.Fatalf("no input #%s on the page", id)
	}
	v := inputValueAttr.FindStringSubmatch(m)
	if v == nil {
		return ""
	}
	return html.UnescapeString(v[1])
}

// flash is the text of the page's message, "" when there is none.
func (r *response) flash() string {
	m := regexp.MustCompile(`(?s)<div [^>]*data-flash="(\w+)"[^>]*>(.*?)</div>`).FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return m[1] + ": " + (&response{body: m[2]}).text()
}

// listFixture is an account with tokens that differ in every way the list
// filters and sorts by, made over four months up to the test clock's now
// (4 May 2026).
type listFixture struct {
	app    *testApp
	bea    store.User // a second administrator
	tokens map[string]store.Token
	theirs store.Token // another account's
}

func newListFixture(t *testing.T) *listFixture {
	app := newTestApp(t)
	fx := &listFixture{app: app, tokens: map[string]store.Token{}}
	fx.bea = app.mustUser(app.account, "bea@acme.test", "Bea Builder", store.RoleAdmin)
	ctx := context.Background()
	now := app.clock.Now()
	at := func(day string) time.Time {
		d, err := time.Parse(time.DateOnly, day)
		if err != nil {
			t.Fatal(err)
		}
		return d.Add(10 * time.Hour)
	}
	billing, catalog, procurement := app.modules[1], app.modules[2], app.modules[3]
	for _, tc := range []struct {
		name      string
		by        store.User
		created   string
		modules   []store.Module
		expires   string
		used      string
		disabled  bool
		moduleIDs []string
	}{
		{name: "Alpha billing", by: app.admin, created: "2026-01-01", modules: []store.Module{billing}},
		{name: "Beta catalog", by: fx.bea, created: "2026-02-01", modules: []store.Module{catalog}, used: "2026-02-02"},
		{name: "Gamma disabled", by: app.admin, created: "2026-03-01", modules: []store.Module{billing}, used: "2026-04-20", disabled: true},
		{name: "Delta expired", by: fx.bea, created: "2026-04-01", modules: []store.Module{procurement}, expires: "2026-04-15"},
		{name: "Epsilon unscoped", by: app.admin, created: "2026-05-01", used: "2026-05-03"},
	} {
		app.clock.Add(at(tc.created).Sub(app.clock.Now()))
		n := store.NewToken{AccountID: app.account.ID, Name: tc.name}
		for _, m := range tc.modules {
			n.ModuleIDs = append(n.ModuleIDs, m.ID)
		}
		if tc.expires != "" {
			n.ExpiresAt = at(tc.expires)
		}
		tok, _, err := app.store.CreateToken(ctx, n, store.UserActor(tc.by.ID, ""))
		if err != nil {
			t.Fatal(err)
		}
		if tc.disabled {
			if _, _, err := app.store.SetTokenStatus(ctx, app.account.ID, tok.ID, store.StatusDisabled, store.UserActor(tc.by.ID, "")); err != nil {
				t.Fatal(err)
			}
		}
		if tc.used != "" {
			if err := app.store.RecordUsage(ctx, store.UsageBatch{Last: map[string]store.Caller{tok.ID: {At: at(tc.used)}}}); err != nil {
				t.Fatal(err)
			}
		}
		fx.tokens[tc.name] = tok
	}
	app.clock.Add(now.Sub(app.clock.Now()))
	fx.theirs, _ = app.createTokenIn(app.otherAdmin, "Alpha of another account")
	return fx
}

func TestListFilters(t *testing.T) {
	fx := newListFixture(t)
	app := fx.app
	c := app.signedIn(t, app.admin)
	billing := app.modules[1]
	cases := []struct {
		name, query string
		want        []string // newest first
	}{
		{"Everything", "", []string{"Epsilon unscoped", "Delta expired", "Gamma disabled", "Beta catalog", "Alpha billing"}},
		{"StatusActive", "status=active", []string{"Epsilon unscoped", "Beta catalog", "Alpha billing"}},
		{"StatusAnyCase", "status=Active", []string{"Epsilon unscoped", "Beta catalog", "Alpha billing"}},
		{"StatusDisabled", "status=disabled", []string{"Gamma disabled"}},
		{"StatusExpired", "status=expired", []string{"Delta expired"}},
		{"Module", "module=" + billing.ID, []string{"Gamma disabled", "Alpha billing"}},
		{"CreatedBy", "createdBy=" + fx.bea.ID, []string{"Delta expired", "Beta catalog"}},
		{"DateRangeIncludesBothDays", "from=2026-02-01&to=2026-03-01", []string{"Gamma disabled", "Beta catalog"}},
		{"DateFrom", "from=2026-04-01", []string{"Epsilon unscoped", "Delta expired"}},
		{"DateTo", "to=2026-01-31", []string{"Alpha billing"}},
		{"NeverUsed", "lastAccess=never", []string{"Delta expired", "Alpha billing"}},
		{"NotUsedIn30Days", "lastAccess=30d", []string{"Delta expired", "Beta catalog", "Alpha billing"}},
		{"NotUsedIn90Days", "lastAccess=90d", []string{"Beta catalog", "Alpha billing"}},
		{"SearchName", "q=alph", []string{"Alpha billing"}},
		{"SearchID", "q=" + fx.tokens["Gamma disabled"].ID, []string{"Gamma disabled"}},
		{"Combined", "status=active&module=" + billing.ID, []string{"Alpha billing"}},
		{"EmptyFieldsAreNoFilter", "q=&status=&module=&createdBy=&from=&to=&lastAccess=&limit=", []string{"Epsilon unscoped", "Delta expired", "Gamma disabled", "Beta catalog", "Alpha billing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := c.get(tokensPath + "?" + tc.query)
			if res.status != http.StatusOK {
				t.Fatalf("status %d:\n%s", res.status, res.text())
			}
			if got := res.names(); !slices.Equal(got, tc.want) {
				t.Fatalf("listed %q, want %q", got, tc.want)
			}
			if want := fmt.Sprintf("1–%d of %d row", len(tc.want), len(tc.want)); !strings.Contains(res.text(), want) {
				t.Errorf("no %q in:\n%s", want, res.text())
			}
			if strings.Contains(res.body, fx.theirs.ID) {
				t.Error("another account's token is listed")
			}
			filtered := tc.query != "" && tc.name != "EmptyFieldsAreNoFilter"
			if hasClear := strings.Contains(res.text(), "Clear filters"); hasClear != filtered {
				t.Errorf("Clear filters shown: %v, want %v", hasClear, filtered)
			}
		})
	}
	t.Run("FormShowsTheFilter", func(t *testing.T) {
		res := c.get(tokensPath + "?q=+gam+&status=Disabled&module=" + billing.ID + "&createdBy=" + app.admin.ID +
			"&from=2026-01-01&to=2026-05-04&limit=25")
		if got := res.names(); !slices.Equal(got, []string{"Gamma disabled"}) {
			t.Fatalf("listed %q", got)
		}
		for _, want := range []string{
			`<option value="disabled" selected>`, `<option value="` + billing.ID + `" selected>`,
			`<option value="` + app.admin.ID + `" selected>Ada Admin</option>`, `<option value="` + fx.bea.ID + `">Bea Builder</option>`,
			`<option value="25" selected>`,
		} {
			if !strings.Contains(res.body, want) {
				t.Errorf("the form lacks %s", want)
			}
		}
		if v := res.inputValue(t, "filter-q"); v != "gam" {
			t.Errorf("search shows %q", v)
		}
		if v := res.inputValue(t, "filter-from") + " " + res.inputValue(t, "filter-to"); v != "2026-01-01 2026-05-04" {
			t.Errorf("dates show %q", v)
		}
		// Links keep the filter, in canonical form.
		sortLink := regexp.MustCompile(`href="([^"]*sort=name[^"]*)"`).FindStringSubmatch(res.body)
		if sortLink == nil {
			t.Fatal("no link to sort by name")
		}
		want := tokensPath + "?createdBy=" + app.admin.ID + "&from=2026-01-01&limit=25&module=" + billing.ID +
			"&q=gam&sort=name&status=disabled&to=2026-05-04"
		if got := html.UnescapeString(sortLink[1]); got != want {
			t.Errorf("sort link %s, want %s", got, want)
		}
		if res := c.get(tokensPath + "?lastAccess=90d"); !strings.Contains(res.body, `<option value="90d" selected>`) {
			t.Error("the form does not show the last access chosen")
		}
	})
	t.Run("CreatedByAToken", func(t *testing.T) {
		// The API makes tokens too; their creator is a token, which the
		// form offers as its ID when the view asks for it.
		tokID := fx.tokens["Epsilon unscoped"].ID
		res := c.get(tokensPath + "?createdBy=" + tokID)
		if res.status != http.StatusOK || !strings.Contains(res.body, `<option value="`+tokID+`" selected>`+tokID+`</option>`) {
			t.Fatalf("status %d; the form does not show the token as creator", res.status)
		}
	})
}

func TestListSort(t *testing.T) {
	fx := newListFixture(t)
	c := fx.app.signedIn(t, fx.app.admin)
	byName := []string{"Alpha billing", "Beta catalog", "Delta expired", "Epsilon unscoped", "Gamma disabled"}
	byCreated := []string{"Epsilon unscoped", "Delta expired", "Gamma disabled", "Beta catalog", "Alpha billing"}
	byStatus := []string{"Alpha billing", "Beta catalog", "Epsilon unscoped", "Gamma disabled", "Delta expired"}
	reversed := func(s []string) []string { r := slices.Clone(s); slices.Reverse(r); return r }
	// Never used tokens come last, newest access first.
	lastAccess := c.get(tokensPath + "?sort=lastAccess").names()
	if len(lastAccess) != 5 || !slices.Equal(lastAccess[:3], []string{"Epsilon unscoped", "Gamma disabled", "Beta catalog"}) ||
		!slices.Contains(lastAccess[3:], "Alpha billing") || !slices.Contains(lastAccess[3:], "Delta expired") {
		t.Fatalf("by last access: %q", lastAccess)
	}
	cases := []struct {
		query, column, ariaSort string
		want                    []string
	}{
		{"sort=name", "API token", "ascending", byName},
		{"sort=name&order=desc", "API token", "descending", reversed(byName)},
		{"", "Date created", "descending", byCreated},
		{"sort=created&order=asc", "Date created", "ascending", reversed(byCreated)},
		{"sort=lastAccess", "Last access", "descending", lastAccess},
		{"sort=lastAccess&order=asc", "Last access", "ascending", reversed(lastAccess)},
		{"sort=status", "Status", "ascending", byStatus},
		{"sort=status&order=desc", "Status", "descending", reversed(byStatus)},
	}
	for _, tc := range cases {
		t.Run(tc.column+" "+tc.ariaSort, func(t *testing.T) {
			res := c.get(tokensPath + "?" + tc.query)
			if got := res.names(); !slices.Equal(got, tc.want) {
				t.Fatalf("?%s listed %q, want %q", tc.query, got, tc.want)
			}
			th := regexp.MustCompile(`<th scope="col" aria-sort="(\w+)" data-sort-column="\w+">\s*<a class="sort sort-current" href="([^"]*)">([^<]*)<span class="sort-arrow" aria-hidden="true">(.)</span>`).
				FindAllStringSubmatch(res.body, -1)
			if len(th) != 1 || th[0][1] != tc.ariaSort || th[0][3] != tc.column {
				t.Fatalf("sorted header %q, want %s %s", th, tc.column, tc.ariaSort)
			}
			if arrow := map[string]string{"ascending": "▲", "descending": "▼"}[tc.ariaSort]; th[0][4] != arrow {
				t.Errorf("arrow %s, want %s", th[0][4], arrow)
			}
			// The current column's link turns the order round.
			toggled := c.get(html.UnescapeString(th[0][2])).names()
			if !slices.Equal(toggled, reversed(tc.want)) {
				t.Errorf("the header link %s lists %q, want the reverse", th[0][2], toggled)
			}
		})
	}
}

func TestListPaging(t *testing.T) {
	app := newTestApp(t)
	var active []string
	for i := range 70 {
		tok, _ := app.createToken(fmt.Sprintf("Token %02d", i))
		if i%14 == 13 {
			app.store.SetTokenStatus(context.Background(), app.account.ID, tok.ID, store.StatusDisabled, store.UserActor(app.admin.ID, ""))
		} else {
			active = append(active, tok.Name)
		}
		app.clock.Add(time.Minute)
	}
	slices.Sort(active)
	c := app.signedIn(t, app.admin)
	view := "?limit=25&sort=name&status=active"
	first := c.get(tokensPath + view)
	var seen []string
	check := func(res *response, showing string, hasPrev, hasNext bool) {
		t.Helper()
		if res.status != http.StatusOK || !strings.Contains(res.text(), showing) {
			t.Fatalf("want %q:\n%s", showing, res.text())
		}
		if (res.link("prev") != "") != hasPrev || (res.link("next") != "") != hasNext {
			t.Fatalf("%s: Previous %q, Next %q", showing, res.link("prev"), res.link("next"))
		}
		for _, l := range []string{res.link("prev"), res.link("next")} {
			if l == "" {
				continue
			}
			u, _ := url.Parse(l)
			q := u.Query()
			q.Del("after")
			q.Del("before")
			if u.Path != tokensPath || "?"+q.Encode() != view {
				t.Errorf("page link %s does not keep the view %s", l, view)
			}
		}
	}
	check(first, "1–25 of 65 rows", false, true)
	seen = append(seen, first.names()...)
	second := c.get(first.link("next"))
	check(second, "26–50 of 65 rows", true, true)
	seen = append(seen, second.names()...)
	third := c.get(second.link("next"))
	check(third, "51–65 of 65 rows", true, false)
	seen = append(seen, third.names()...)
	if !slices.Equal(seen, active) {
		t.Fatalf("the pages list %q, want every active token by name once: %q", seen, active)
	}
	back := c.get(third.link("prev"))
	check(back, "26–50 of 65 rows", true, true)
	if !slices.Equal(back.names(), second.names()) {
		t.Fatalf("Previous lists %q, want %q", back.names(), second.names())
	}
	if back = c.get(back.link("prev")); !slices.Equal(back.names(), first.names()) {
		t.Fatalf("Previous twice lists %q, want the first page", back.names())
	}
	t.Run("PageSizes", func(t *testing.T) {
		for _, n := range []int{10, 25, 50, 100} {
			res := c.get(fmt.Sprintf("%s?limit=%d", tokensPath, n))
			if got := len(res.names()); got != min(n, 70) {
				t.Errorf("limit=%d shows %d tokens", n, got)
			}
		}
	})
}

func TestListBadQuery(t *testing.T) {
	app := newTestApp(t)
	for i := range 26 {
		app.createToken(fmt.Sprintf("Some token %d", i))
	}
	c := app.signedIn(t, app.admin)
	next, _ := url.Parse(c.get(tokensPath + "?limit=25").link("next"))
	cursor := next.Query().Get("after")
	if cursor == "" {
		t.Fatal("no cursor on the first page")
	}
	for _, tc := range []struct {
		name, query, message string
		kept                 [2]string // an input's id and the value it keeps
	}{
		{"Status", "q=keep+me&status=gone", "Choose a status: Active, Disabled or Expired.", [2]string{"filter-q", "keep me"}},
		{"Date", "from=2026-13-45", "Enter the first date created as a date", [2]string{"filter-from", "2026-13-45"}},
		{"DateTo", "to=yesterday", "Enter the last date created as a date", [2]string{"filter-to", "yesterday"}},
		{"DateRange", "from=2026-05-02&to=2026-05-01", "The end of the date range must come after its start.", [2]string{"filter-to", "2026-05-01"}},
		{"PageSize", "limit=7&q=x", "Choose 10, 25, 50 or 100 rows a page.", [2]string{"filter-q", "x"}},
		{"Sort", "sort=colour", "Sort by name, date created, last access, calls or status.", [2]string{"filter-q", ""}},
		{"Order", "order=sideways", "The sort order is asc or desc.", [2]string{"filter-q", ""}},
		{"LastAccess", "lastAccess=yesterday", "Choose a last access", [2]string{"filter-q", ""}},
		{"Module", "module=MOD-0000-0000", "Choose a module of this account.", [2]string{"filter-q", ""}},
		{"ModuleShape", "module=billing", "Choose a module of this account.", [2]string{"filter-q", ""}},
		{"CreatedBy", "createdBy=Ada", "Created by must be a user ID", [2]string{"filter-q", ""}},
		{"Search", "q=" + strings.Repeat("x", 201), "The search must be at most 200 characters.", [2]string{"filter-q", strings.Repeat("x", 201)}},
		{"TamperedCursor", "after=eyJzIjoibmFtZSJ9", "This page link is not valid", [2]string{"filter-q", ""}},
		{"CursorOfAnotherSort", "sort=name&after=" + cursor, "This page link is not valid", [2]string{"filter-q", ""}},
		{"BothCursors", "after=a&before=b", "either a next or a previous position", [2]string{"filter-q", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.get(tokensPath + "?" + tc.query)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400:\n%s", res.status, res.text())
			}
			if !strings.Contains(res.text(), "Please check the filters") || !strings.Contains(res.text(), tc.message) {
				t.Errorf("the page does not say %q:\n%s", tc.message, res.text())
			}
			if !strings.Contains(res.body, `<a class="button" href="/settings/api-tokens">Clear filters</a>`) {
				t.Error("no way to clear the filters")
			}
			if v := res.inputValue(t, tc.kept[0]); v != tc.kept[1] {
				t.Errorf("#%s shows %q, want %q as sent", tc.kept[0], v, tc.kept[1])
			}
			if len(res.names()) != 0 {
				t.Error("tokens listed under filters that can't be used")
			}
			// Nothing was counted: the toolbar does not say "0 rows".
			if strings.Contains(res.body, "data-row-count") {
				t.Error("a row count under filters that can't be used")
			}
		})
	}
}

func TestListEmptyStates(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	t.Run("NewAccount", func(t *testing.T) {
		res := c.get(tokensPath)
		if res.status != http.StatusOK || !strings.Contains(res.text(), "No API tokens yet") ||
			!strings.Contains(res.body, `href="/settings/api-tokens/new">Add API token</a>`) {
			t.Fatalf("empty list = %d:\n%s", res.status, res.text())
		}
		if strings.Contains(res.text(), "Apply filters") || strings.Contains(res.text(), "No API tokens match") {
			t.Error("a new account gets filters for nothing")
		}
	})
	app.createToken("Only one")
	t.Run("NoMatch", func(t *testing.T) {
		res := c.get(tokensPath + "?status=disabled&q=nothing")
		if res.status != http.StatusOK || !strings.Contains(res.text(), "No API tokens match these filters") ||
			!strings.Contains(res.body, `<a class="button" href="/settings/api-tokens">Clear filters</a>`) {
			t.Fatalf("no match = %d:\n%s", res.status, res.text())
		}
		if strings.Contains(res.text(), "No API tokens yet") {
			t.Error("says the account has no tokens")
		}
		if v := res.inputValue(t, "filter-q"); v != "nothing" {
			t.Errorf("search shows %q", v)
		}
	})
}
