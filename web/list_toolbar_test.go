package web_test

import (
	"bytes"
	"compress/gzip"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"apitokens/store"
)

// headers are the column headers of a list page, as read.
func (r *response) headers() []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?s)<th[^>]*>(.*?)</th>`).FindAllStringSubmatch(r.body, -1) {
		out = append(out, strings.Trim((&response{body: m[1]}).text(), " ▲▼↕"))
	}
	return out
}

// TestListColumns: the Columns form (a plain form, without JavaScript)
// hides and shows columns for the person who chose, on every device.
func TestListColumns(t *testing.T) {
	app := newTestApp(t)
	app.createToken("Billing export", app.modules[1])
	c := app.signedIn(t, app.admin)
	all := "Select API token Modules Created by Date created Last access Calls (7 days) Status Actions"
	if got := strings.Join(c.get(tokensPath).headers(), " "); got != all {
		t.Fatalf("headers %q", got)
	}
	t.Run("OK", func(t *testing.T) {
		res := c.submit(tokensPath, tokensPath+"/columns", url.Values{
			"column": {"createdBy", "lastAccess", "status"}, "return": {"status=active"}})
		if res.status != http.StatusSeeOther || res.location() != tokensPath+"?status=active" {
			t.Fatalf("= %d to %q, want back to the view", res.status, res.location())
		}
		want := "Select API token Created by Last access Status Actions"
		if got := strings.Join(c.follow(res).headers(), " "); got != want {
			t.Errorf("headers %q, want %q", got, want)
		}
		if got := strings.Join(app.signedIn(t, app.admin).get(tokensPath).headers(), " "); got != want {
			t.Errorf("signed in elsewhere, headers %q, want the same choice", got)
		}
		colleague := app.mustUser(app.account, "bea@acme.test", "Bea Builder", store.RoleAdmin)
		if got := strings.Join(app.signedIn(t, colleague).get(tokensPath).headers(), " "); got != all {
			t.Errorf("another person's headers %q, want every column", got)
		}
		c.submit(tokensPath, tokensPath+"/columns", url.Values{"column": {"modules", "createdBy", "created", "lastAccess", "calls", "status"}})
		if got := strings.Join(c.get(tokensPath).headers(), " "); got != all {
			t.Errorf("after showing all, headers %q", got)
		}
	})
	t.Run("ErrUnknownColumn", func(t *testing.T) {
		res := c.submit(tokensPath, tokensPath+"/columns", url.Values{"column": {"secret"}})
		if res.status != http.StatusBadRequest || !strings.Contains(res.text(), `"secret" is not a column of the list`) {
			t.Fatalf("= %d:\n%s", res.status, res.text())
		}
	})
	t.Run("ErrCSRF", func(t *testing.T) {
		if res := c.post(tokensPath+"/columns", url.Values{"column": {"status"}}); res.status != http.StatusForbidden {
			t.Fatalf("without the CSRF token = %d", res.status)
		}
	})
}

// TestListToolbarWithoutJavaScript: the filter panel is a <details>, open
// when a filter is in force, with their count on the button; the page size
// is a form of its own that keeps the view.
func TestListToolbarWithoutJavaScript(t *testing.T) {
	app := newTestApp(t)
	app.createToken("Billing export", app.modules[1])
	c := app.signedIn(t, app.admin)
	panel := regexp.MustCompile(`<details class="filter-panel" data-filter-panel( open)?>`)
	if m := panel.FindStringSubmatch(c.get(tokensPath).body); m == nil || m[1] != "" {
		t.Errorf("the filter panel is open with no filter: %q", m)
	}
	page := c.get(tokensPath + "?status=active&module=" + app.modules[1].ID + "&sort=name")
	if m := panel.FindStringSubmatch(page.body); m == nil || m[1] != " open" {
		t.Errorf("the filter panel is closed with filters in force: %q", m)
	}
	if !strings.Contains(page.body, `aria-label="Filter, 2 active"`) || !strings.Contains(page.body, `<span class="tool-count" data-filter-count>2</span>`) {
		t.Error("the Filter button does not count the filters in force")
	}
	form := regexp.MustCompile(`(?s)<form class="page-size".*?</form>`).FindString(page.body)
	for _, want := range []string{`name="status" value="active"`, `name="module" value="` + app.modules[1].ID + `"`, `name="sort" value="name"`, `<select id="page-size" name="limit"`} {
		if !strings.Contains(form, want) {
			t.Errorf("the page-size form lacks %s:\n%s", want, form)
		}
	}
	// Without JavaScript the bulk actions stay enabled: the server asks for
	// a selection (TestBulkActions/NoneSelected).
	if strings.Contains(regexp.MustCompile(`(?s)<div class="bulk-actions">.*?</div>`).FindString(page.body), "disabled") {
		t.Error("the bulk actions are disabled without JavaScript")
	}
}

// TestPagesCompressed: pages, stylesheet and scripts are gzipped for a
// browser that accepts it, and the CSRF token differs on every page (so
// the compressed size tells nothing of it) while each copy works.
func TestPagesCompressed(t *testing.T) {
	app := newTestApp(t)
	for range 10 {
		app.createToken("Nightly export", app.modules[1])
	}
	c := app.signedIn(t, app.admin)
	get := func(path, encoding string) *response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, app.url+path, nil)
		req.Header.Set("Accept-Encoding", encoding)
		return c.do(req)
	}
	for _, path := range []string{tokensPath, "/static/app.css", "/static/list.js"} {
		res := get(path, "gzip, deflate, br")
		if res.status != http.StatusOK || res.header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%s = %d, Content-Encoding %q, Vary %q", path, res.status, res.header.Get("Content-Encoding"), res.header.Get("Vary"))
		}
		zr, err := gzip.NewReader(strings.NewReader(res.body))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if plain := get(path, "identity"); plain.header.Get("Content-Encoding") != "" {
			t.Errorf("%s is compressed for a client that did not ask", path)
		}
		t.Logf("%s: %d bytes, %d gzipped (%.1f×)", path, len(plain), len(res.body), float64(len(plain))/float64(len(res.body)))
		if path == tokensPath && (!bytes.Contains(plain, []byte("Nightly export")) || len(res.body)*4 > len(plain)) {
			t.Errorf("the list is %d bytes gzipped of %d", len(res.body), len(plain))
		}
	}
	// A logo is a PNG, compressed already: it goes as it is, though it is
	// well over the kilobyte that gzip would take on.
	noisy := image.NewNRGBA(image.Rect(0, 0, 128, 128))
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range noisy.Pix {
		noisy.Pix[i] = byte(rnd.Uint32())
	}
	var raw bytes.Buffer
	if err := png.Encode(&raw, noisy); err != nil {
		t.Fatal(err)
	}
	stored, err := store.NormalizeLogo(t.Context(), raw.Bytes())
	if err != nil || len(stored) < 4096 {
		t.Fatalf("logo of %d bytes, %v", len(stored), err)
	}
	logo, _, err := app.store.CreateToken(t.Context(), store.NewToken{AccountID: app.account.ID, Name: "With a logo",
		Logo: stored}, store.UserActor(app.admin.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	if res := get(tokensPath+"/"+logo.ID+"/logo", "gzip"); res.status != http.StatusOK || res.header.Get("Content-Encoding") != "" {
		t.Errorf("the logo = %d, Content-Encoding %q: want the PNG as it is", res.status, res.header.Get("Content-Encoding"))
	}
	one, two := c.get(tokensPath).csrf(t), c.get(tokensPath).csrf(t)
	if one == two {
		t.Fatal("two pages carry the same CSRF token")
	}
	for _, tok := range []string{one, two} {
		res := c.post(tokensPath+"/columns", url.Values{"_csrf": {tok}, "column": {"status"}})
		if res.status != http.StatusSeeOther {
			t.Errorf("a page's CSRF token is refused: %d", res.status)
		}
	}
}
