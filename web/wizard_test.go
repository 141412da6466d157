package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"image"
	"image/color"
	"image/png"
	"math/rand"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"apitokens/store"
)

// pngImage is a w×h PNG.
func pngImage(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{B: 180, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// postMultipart sends a multipart form, as a browser sends the wizard.
func (c *client) postMultipart(path string, form url.Values, files map[string][]byte) *response {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	for name, data := range files {
		part, err := w.CreateFormFile(name, name+".png")
		if err != nil {
			c.t.Fatal(err)
		}
		part.Write(data)
	}
	w.Close()
	req, err := http.NewRequest(http.MethodPost, c.app.url+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

var hiddenPattern = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

// hidden reads a page's hidden fields, as a browser would send them back.
func (r *response) hidden() url.Values {
	v := url.Values{}
	for _, m := range hiddenPattern.FindAllStringSubmatch(r.body, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// step posts the wizard's form found on page, with the given fields on top
// of its hidden ones.
func (c *client) step(page *response, fields url.Values, files map[string][]byte) *response {
	c.t.Helper()
	form := page.hidden()
	for k, vs := range fields {
		form[k] = vs
	}
	return c.postMultipart(newTokenPath, form, files)
}

const newTokenPath = tokensPath + "/new"

func (a *testApp) tokenCount(accountID string) int {
	a.t.Helper()
	page, err := a.store.ListTokens(context.Background(), accountID, store.TokenFilter{})
	if err != nil {
		a.t.Fatal(err)
	}
	return page.Total
}

var secretPattern = regexp.MustCompile(`apitk_[0-9]{8}_[0-9A-Za-z]{38}`)

func TestAddWizard(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	first := c.get(newTokenPath)
	if first.status != 200 || !strings.Contains(first.text(), "Add API token 1 General 2 Modules 3 Overview 4 Summary General") {
		t.Fatalf("wizard = %d:\n%s", first.status, first.text())
	}

	general := c.step(first, url.Values{"name": {" Nightly export "}, "description": {"Exports <orders> at night"},
		"expiry": {"30"}, "go": {"next"}}, map[string][]byte{"logo": pngImage(t, 300, 150)})
	if general.status != 200 || !strings.Contains(general.text(), "Modules this token may use") {
		t.Fatalf("after General = %d:\n%s", general.status, general.text())
	}
	if app.tokenCount(app.account.ID) != 0 {
		t.Fatal("a token was stored before Add")
	}

	modules := c.step(general, url.Values{"modules": {app.modules[0].ID, app.modules[2].ID}, "go": {"next"}}, nil)
	text := modules.text()
	expires := app.clock.Now().AddDate(0, 0, 30).Format("2 Jan 2006")
	for _, want := range []string{"Overview", "Name Nightly export", "Description Exports <orders> at night",
		app.modules[0].Name + " " + app.modules[0].ID, app.modules[2].Name, "Expires " + expires} {
		if !strings.Contains(text, want) {
			t.Errorf("overview lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(modules.body, `src="data:image/png;base64,`) {
		t.Error("overview does not show the logo")
	}

	t.Run("BackKeepsInput", func(t *testing.T) {
		back := c.step(modules, url.Values{"go": {"back"}}, nil)
		if back.status != 200 || !strings.Contains(back.body, `value="`+app.modules[2].ID+`" checked`) {
			t.Fatalf("back to Modules = %d, choices lost:\n%s", back.status, back.body)
		}
	})

	added := c.follow(c.step(modules, url.Values{"go": {"add"}}, nil))
	if added.status != 200 || added.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Add = %d, Cache-Control %q", added.status, added.header.Get("Cache-Control"))
	}
	secret := secretPattern.FindString(added.body)
	if secret == "" || !strings.Contains(added.text(), "The API token “Nightly export”") ||
		!strings.Contains(added.text(), "has been added") || !strings.Contains(added.text(), "View details") {
		t.Fatalf("summary:\n%s", added.text())
	}
	tok, err := app.store.TokenBySecret(context.Background(), secret)
	if err == nil {
		tok, err = app.store.TokenByID(context.Background(), app.account.ID, tok.ID)
	}
	if err != nil || tok.Name != "Nightly export" || len(tok.Modules) != 2 || !tok.HasLogo ||
		!tok.ExpiresAt.Equal(app.clock.Now().AddDate(0, 0, 30)) {
		t.Fatalf("stored token %+v, %v", tok, err)
	}
	if strings.Contains(app.logs.String(), secret) || strings.Contains(app.logs.String(), secret[len(secret)-20:]) {
		t.Fatal("the secret reached the log")
	}

	t.Run("AddTwiceMakesOne", func(t *testing.T) {
		again := c.step(modules, url.Values{"go": {"add"}}, nil)
		if again.status != http.StatusSeeOther || again.location() != tokensPath+"/"+tok.ID {
			t.Fatalf("second Add = %d → %q", again.status, again.location())
		}
		if msg := c.follow(again).text(); !strings.Contains(msg, "The API token “Nightly export” ("+tok.ID+") has already been added.") {
			t.Fatalf("page after second Add:\n%s", msg)
		}
		if n := app.tokenCount(app.account.ID); n != 1 {
			t.Fatalf("%d tokens, want 1", n)
		}
	})

	t.Run("AddsSentAtOnceMakeOne", func(t *testing.T) {
		first := c.get(newTokenPath)
		page := c.step(first, url.Values{"name": {"Raced"}, "go": {"next"}}, nil)
		page = c.step(page, url.Values{"modules": {app.modules[1].ID}, "go": {"next"}}, nil)
		before := app.tokenCount(app.account.ID)
		var wg sync.WaitGroup
		statuses := make([]int, 4)
		for i := range statuses {
			wg.Go(func() { statuses[i] = c.step(page, url.Values{"go": {"add"}}, nil).status })
		}
		wg.Wait()
		if n := app.tokenCount(app.account.ID) - before; n != 1 {
			t.Fatalf("4 Adds at once made %d tokens (statuses %v), want 1", n, statuses)
		}
		if slices.ContainsFunc(statuses, func(s int) bool { return s != http.StatusSeeOther }) {
			t.Fatalf("statuses %v: want redirects, to the summary and to the token", statuses)
		}
	})

	t.Run("Logo", func(t *testing.T) {
		res := c.get(tokensPath + "/" + tok.ID + "/logo")
		cfg, format, err := image.DecodeConfig(strings.NewReader(res.body))
		if res.status != 200 || res.header.Get("Content-Type") != "image/png" || err != nil || format != "png" || cfg.Width != 128 {
			t.Fatalf("logo = %d %s, %s %dx%d, %v", res.status, res.header.Get("Content-Type"), format, cfg.Width, cfg.Height, err)
		}
		plain, _ := app.createToken("No logo")
		if res := c.get(tokensPath + "/" + plain.ID + "/logo"); res.status != 404 || !strings.Contains(res.text(), "This API token has no logo.") {
			t.Fatalf("a token without a logo = %d:\n%.300s", res.status, res.text())
		}
		other := app.signedIn(t, app.otherAdmin)
		if res := other.get(tokensPath + "/" + tok.ID + "/logo"); res.status != 404 {
			t.Fatalf("another account's admin gets the logo: %d", res.status)
		}
	})
}

// TestAddWizardLargeLogo: an upload of hundreds of KB, as the platform takes, is
// normalised and carried to the overview as a small PNG.
func TestAddWizardLargeLogo(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	img := image.NewNRGBA(image.Rect(0, 0, 300, 300)) // noise: over 300 KB
	rand.New(rand.NewSource(1)).Read(img.Pix)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	page := c.step(c.get(newTokenPath), url.Values{"name": {"Big logo"}, "go": {"next"}}, map[string][]byte{"logo": buf.Bytes()})
	if page.status != http.StatusOK || !strings.Contains(page.text(), "Modules") {
		t.Fatalf("a %d KB logo = %d:\n%.400s", buf.Len()>>10, page.status, page.text())
	}
	carried := page.hidden().Get("logo_data")
	if carried == "" || len(carried) > 200<<10 {
		t.Fatalf("carried logo is %d bytes", len(carried))
	}
	overview := c.step(page, url.Values{"go": {"next"}, "no_modules": {"1"}}, nil)
	if overview.status != http.StatusOK || !strings.Contains(overview.body, `alt="Logo"`) {
		t.Fatalf("overview = %d:\n%.400s", overview.status, overview.text())
	}
}

// labelTwice is a message after a label that it repeats.
var labelTwice = regexp.MustCompile(`(?i)\b(name|description|logo|expiry): (the )?(name|description|logo|expiry)\b`)

func TestAddWizardValidation(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	otherModules, err := app.store.Modules(context.Background(), app.otherAdmin.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	big := append(pngImage(t, 8, 8), make([]byte, store.MaxLogoBytes)...)
	cases := []struct {
		name   string
		fields url.Values
		files  map[string][]byte
		want   string // the message shown
		kept   string // input that must still be on the page
	}{
		{"ErrNameRequired", url.Values{"name": {"   "}, "description": {"kept text"}}, nil, "Name is required.", "kept text"},
		{"ErrName201", url.Values{"name": {strings.Repeat("ß", 201)}}, nil, "Name must be at most 200 characters.", strings.Repeat("ß", 201)},
		{"ErrDescription2001", url.Values{"name": {"ok"}, "description": {strings.Repeat("x", 2001)}}, nil,
			"Description must be at most 2000 characters.", strings.Repeat("x", 2001)},
		{"ErrDescriptionControl", url.Values{"name": {"Keeps its name"}, "description": {"red \x1b[31malert"}}, nil,
			"Description contains an invisible control character (U+001B), which is not allowed; line breaks and tabs are.", "Keeps its name"},
		{"ErrNameBidiMark", url.Values{"name": {"pay\u200Froll"}, "description": {"kept text"}}, nil,
			"Name contains a character that changes the direction of text (U+200F), which is not allowed.", "kept text"},
		{"ErrLogoTooLarge", url.Values{"name": {"Keeps its name"}}, map[string][]byte{"logo": big},
			store.MsgLogoTooLarge, "Keeps its name"},
		{"ErrLogoSVG", url.Values{"name": {"Keeps its name"}},
			map[string][]byte{"logo": []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
			"The logo must be a PNG or JPEG image.", "Keeps its name"},
		{"ErrExpiryPast", url.Values{"name": {"ok"}, "expiry": {"custom"}, "expires_on": {"2020-01-01"}}, nil,
			"The expiry date must be in the future.", "2020-01-01"},
		{"ErrExpiryNotADate", url.Values{"name": {"ok"}, "expiry": {"custom"}, "expires_on": {"soon"}}, nil,
			"Enter the expiry date as a date", "soon"},
		{"ErrUnknownField", url.Values{"name": {"Mass assignment"}, "status": {"disabled"}}, nil,
			`The form sent a field this page does not have ("status")`, "Mass assignment"},
		{"ErrForeignModule", url.Values{"name": {"Sneaky"}, "step": {"modules"}, "modules": {otherModules[0].ID}}, nil,
			"Choose only modules enabled for this account.", "Sneaky"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page := c.get(newTokenPath)
			fields := url.Values{"go": {"next"}}
			for k, v := range tc.fields {
				fields[k] = v
			}
			res := c.step(page, fields, tc.files)
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", res.status, res.text())
			}
			if !strings.Contains(res.text(), tc.want) {
				t.Errorf("lacks %q:\n%s", tc.want, res.text())
			}
			// The summary names a field once: "Name is required.", not
			// "Name: Name is required.".
			if m := labelTwice.FindString(res.text()); m != "" {
				t.Errorf("the summary says %q", m)
			}
			if !strings.Contains(html.UnescapeString(res.body), tc.kept) {
				t.Errorf("the input %.40q was not kept", tc.kept)
			}
			if n := app.tokenCount(app.account.ID); n != 0 {
				t.Fatalf("%d tokens stored", n)
			}
		})
	}
	t.Run("ErrTamperedLogoData", func(t *testing.T) {
		page := c.get(newTokenPath)
		res := c.step(page, url.Values{"name": {"ok"}, "go": {"next"}, "step": {"modules"}, "logo_data": {"PHN2Zz48L3N2Zz4="}}, nil)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "The logo could not be read") {
			t.Fatalf("status %d:\n%s", res.status, res.text())
		}
	})
	t.Run("ErrUntaggedLogoData", func(t *testing.T) {
		// A real PNG, but not one this server normalised and tagged: it
		// would have to be decoded again to be trusted.
		page := c.get(newTokenPath)
		forged := base64.StdEncoding.EncodeToString(pngImage(t, 16, 16))
		res := c.step(page, url.Values{"name": {"ok"}, "go": {"next"}, "step": {"modules"}, "logo_data": {forged}}, nil)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "The logo could not be read") {
			t.Fatalf("status %d:\n%s", res.status, res.text())
		}
	})
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		page := c.get(newTokenPath)
		res := c.step(page, url.Values{"name": {"ok"}, "go": {"next"}}, map[string][]byte{"logo": make([]byte, store.MaxLogoBytes+1<<20)})
		if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.text(), "The logo is far over its limit of "+store.MaxLogoSize+".") {
			t.Fatalf("status %d, want 413 with a word about the logo:\n%.300s", res.status, res.text())
		}
	})
	t.Run("ErrNoCSRF", func(t *testing.T) {
		res := c.postMultipart(newTokenPath, url.Values{"name": {"x"}, "step": {"overview"}, "go": {"add"}}, nil)
		if res.status != http.StatusForbidden || app.tokenCount(app.account.ID) != 0 {
			t.Fatalf("status %d", res.status)
		}
	})
	t.Run("ErrMember", func(t *testing.T) {
		m := app.signedIn(t, app.member)
		if res := m.get(newTokenPath); res.status != http.StatusForbidden {
			t.Fatalf("member sees the wizard: %d", res.status)
		}
	})
}

// TestAddWizardWithoutDraft sends the wizard's last step with its draft
// empty or left out: each is a fresh wizard, so a different second token
// added within minutes is added too, not taken for the first.
func TestAddWizardWithoutDraft(t *testing.T) {
	for _, tc := range []struct {
		name  string
		draft []string
	}{{"Empty", []string{""}}, {"Missing", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t)
			c := app.signedIn(t, app.admin)
			for _, name := range []string{"First export", "Second export"} {
				page := c.step(c.get(newTokenPath), url.Values{"name": {name}, "go": {"next"}}, nil)
				page = c.step(page, url.Values{"modules": {app.modules[0].ID}, "go": {"next"}}, nil)
				form := page.hidden()
				form["go"] = []string{"add"}
				if tc.draft == nil {
					delete(form, "draft")
				} else {
					form["draft"] = tc.draft
				}
				app.clock.Add(time.Minute)
				added := c.follow(c.postMultipart(newTokenPath, form, nil))
				if added.status != http.StatusOK || !strings.Contains(added.text(), "The API token “"+name+"”") ||
					secretPattern.FindString(added.body) == "" {
					t.Fatalf("Add of %q = %d → %q:\n%.400s", name, added.status, added.location(), added.text())
				}
			}
			if n := app.tokenCount(app.account.ID); n != 2 {
				t.Fatalf("%d tokens, want 2", n)
			}
		})
	}
}
