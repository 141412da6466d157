package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"image"
	"image/color"
	"image/png"
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
	if first.status != 200 || !strings.Contains(first.text(), "1 General 2 Modules 3 Overview 4 Summary General Logo") {
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

	added := c.step(modules, url.Values{"go": {"add"}}, nil)
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
		if msg := c.follow(again).text(); !strings.Contains(msg, "This API token has already been added.") {
			t.Fatalf("page after second Add:\n%s", msg)
		}
		if n := app.tokenCount(app.account.ID); n != 1 {
			t.Fatalf("%d tokens, want 1", n)
		}
	})

	t.Run("AddsSentAtOnceMakeOne", func(t *testing.T) {
		first := c.get(newTokenPath)
		page := c.step(first, url.Values{"name": {"Raced"}, "go": {"next"}}, nil)
		page = c.step(page, url.Values{"go": {"next"}}, nil)
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
		if slices.Index(statuses, http.StatusOK) < 0 || slices.ContainsFunc(statuses, func(s int) bool { return s != 200 && s != 303 }) {
			t.Fatalf("statuses %v: want one summary and redirects to it", statuses)
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
		{"ErrLogoTooLarge", url.Values{"name": {"Keeps its name"}}, map[string][]byte{"logo": big},
			"The logo must be at most 256 KB.", "Keeps its name"},
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
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		page := c.get(newTokenPath)
		res := c.step(page, url.Values{"name": {"ok"}, "go": {"next"}}, map[string][]byte{"logo": make([]byte, 3<<20)})
		if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.text(), "The logo is far over its limit of 256 KB.") {
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

func TestEditToken(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Before", app.modules[0])
	c := app.signedIn(t, app.admin)
	editPath := tokensPath + "/" + tok.ID + "/edit"

	form := c.get(editPath + "?from=list")
	if form.status != 200 || !strings.Contains(form.body, `value="Before"`) || !strings.Contains(form.body, `value="`+app.modules[0].ID+`" checked`) {
		t.Fatalf("edit form = %d:\n%s", form.status, form.text())
	}
	res := c.submit(editPath, editPath, url.Values{"from": {"list"}, "name": {"After"}, "description": {"Now described"},
		"modules": {app.modules[1].ID}})
	if res.status != http.StatusSeeOther || res.location() != tokensPath {
		t.Fatalf("save = %d → %q:\n%s", res.status, res.location(), res.text())
	}
	if list := c.follow(res).text(); !strings.Contains(list, "The API token “After” has been updated.") {
		t.Fatalf("list after save:\n%s", list)
	}
	audit := c.get(tokensPath + "/" + tok.ID + "?tab=audit").text()
	for _, want := range []string{"Updated by Ada Admin", "Name Before → changed to After",
		"Description (none) → changed to Now described", "Modules " + app.modules[0].Name + " → changed to " + app.modules[1].Name} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit trail lacks %q:\n%s", want, audit)
		}
	}
	t.Run("NoChange", func(t *testing.T) {
		res := c.submit(editPath, editPath, url.Values{"name": {"After"}, "description": {"Now described"}, "modules": {app.modules[1].ID}})
		if msg := c.follow(res).text(); !strings.Contains(msg, "Nothing to save") {
			t.Fatalf("page:\n%s", msg)
		}
	})
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"ErrNameEmpty", url.Values{"name": {""}, "description": {"kept"}}, "Name is required."},
		{"ErrName201", url.Values{"name": {strings.Repeat("n", 201)}, "description": {"kept"}}, "Name must be at most 200 characters."},
		{"ErrForeignModule", url.Values{"name": {"x"}, "description": {"kept"}, "modules": {"MOD-0000-0000"}}, "Choose only modules enabled for this account."},
		{"ErrUnknownField", url.Values{"name": {"x"}, "description": {"kept"}, "account_id": {app.otherAdmin.AccountID}}, `("account_id")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.submit(editPath, editPath, tc.form)
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), tc.want) || !strings.Contains(res.body, ">kept</textarea>") {
				t.Fatalf("status %d, want 422 with %q and the input kept:\n%s", res.status, tc.want, res.text())
			}
			got, _ := app.store.TokenByID(context.Background(), app.account.ID, tok.ID)
			if got.Name != "After" || got.AccountID != app.account.ID {
				t.Fatalf("a refused edit changed the token: %+v", got)
			}
		})
	}
	t.Run("ErrOtherAccount", func(t *testing.T) {
		other := app.signedIn(t, app.otherAdmin)
		if res := other.get(editPath); res.status != 404 {
			t.Fatalf("GET = %d", res.status)
		}
		page := other.get(tokensPath)
		if res := other.post(editPath, url.Values{"_csrf": {page.csrf(t)}, "name": {"hijack"}}); res.status != 404 {
			t.Fatalf("POST = %d", res.status)
		}
	})
	t.Run("ErrDeleted", func(t *testing.T) {
		app.store.DeleteToken(context.Background(), app.account.ID, tok.ID, store.UserActor(app.admin.ID, ""))
		if res := c.get(editPath); res.status != 404 {
			t.Fatalf("GET = %d", res.status)
		}
		page := c.get(tokensPath)
		if res := c.post(editPath, url.Values{"_csrf": {page.csrf(t)}, "name": {"Back from the dead"}}); res.status != 404 {
			t.Fatalf("POST = %d", res.status)
		}
	})
}

func TestRevealToken(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.createToken("Reveal me")
	c := app.signedIn(t, app.admin)
	details := tokensPath + "/" + tok.ID
	reveal := details + "/reveal"

	if strings.Contains(c.get(details).body, secret) {
		t.Fatal("the details page shows the secret before it is asked for")
	}
	t.Run("ErrNoCSRF", func(t *testing.T) {
		if res := c.post(reveal, nil); res.status != http.StatusForbidden || strings.Contains(res.body, secret) {
			t.Fatalf("status %d", res.status)
		}
	})
	t.Run("RightAfterSignIn", func(t *testing.T) {
		res := c.submit(details, reveal, nil)
		if res.status != 200 || !strings.Contains(res.body, secret) || res.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("reveal = %d, Cache-Control %q", res.status, res.header.Get("Cache-Control"))
		}
	})
	t.Run("AsksForThePasswordAfter10Minutes", func(t *testing.T) {
		app.clock.Add(10 * time.Minute)
		res := c.submit(details, reveal, nil)
		if res.status != http.StatusForbidden || strings.Contains(res.body, secret) || !strings.Contains(res.text(), "Confirm your password") {
			t.Fatalf("reveal = %d:\n%s", res.status, res.text())
		}
		res = c.submit(details, reveal, url.Values{"password": {"not it"}})
		if res.status != http.StatusUnprocessableEntity || strings.Contains(res.body, secret) || !strings.Contains(res.text(), "That password is not right.") {
			t.Fatalf("wrong password = %d:\n%s", res.status, res.text())
		}
		res = c.submit(details, reveal, url.Values{"password": {password}})
		if res.status != 200 || !strings.Contains(res.body, secret) {
			t.Fatalf("right password = %d", res.status)
		}
		app.clock.Add(9 * time.Minute)
		if res := c.submit(details, reveal, nil); res.status != 200 {
			t.Fatalf("within 10 minutes of confirming = %d", res.status)
		}
	})
	t.Run("ErrTooManyWrongPasswords", func(t *testing.T) {
		app.clock.Add(11 * time.Minute)
		for i := range 5 {
			if res := c.submit(details, reveal, url.Values{"password": {"guess"}}); res.status != http.StatusUnprocessableEntity {
				t.Fatalf("wrong password %d = %d, want 422", i+1, res.status)
			}
		}
		res := c.submit(details, reveal, url.Values{"password": {password}})
		if res.status != http.StatusTooManyRequests || strings.Contains(res.body, secret) || !strings.Contains(res.text(), "Too many wrong passwords.") {
			t.Fatalf("sixth try = %d:\n%.300s", res.status, res.text())
		}
		app.clock.Add(time.Minute)
		if res := c.submit(details, reveal, url.Values{"password": {password}}); res.status != 200 || !strings.Contains(res.body, secret) {
			t.Fatalf("after a minute = %d", res.status)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		// A script asking for JSON gets the value, or a problem (RFC 9457)
		// saying what to do first, like every other error it may meet.
		app.clock.Add(11 * time.Minute)
		csrf := c.get(details).csrf(t)
		type answer struct {
			Token  string `json:"token"`
			Type   string `json:"type"`
			Status int    `json:"status"`
			Errors []struct {
				Field  string `json:"field"`
				Detail string `json:"detail"`
			} `json:"errors"`
		}
		ask := func(form url.Values) (int, string, answer) {
			form.Set("_csrf", csrf)
			res := c.post(reveal, form, "Accept", "application/json")
			var body answer
			if err := json.Unmarshal([]byte(res.body), &body); err != nil {
				t.Fatalf("not JSON: %s", res.body)
			}
			return res.status, res.header.Get("Content-Type"), body
		}
		if status, ct, body := ask(url.Values{}); status != 403 || ct != "application/problem+json" ||
			body.Type != "urn:apitokens:problem:password-required" || body.Status != 403 || body.Token != "" {
			t.Fatalf("without password: %d %s %+v", status, ct, body)
		}
		if status, ct, body := ask(url.Values{"password": {"nope"}}); status != 422 || ct != "application/problem+json" ||
			len(body.Errors) != 1 || body.Errors[0].Field != "password" || body.Errors[0].Detail != "That password is not right. Try again." {
			t.Fatalf("wrong password: %d %s %+v", status, ct, body)
		}
		if status, _, body := ask(url.Values{"password": {password}}); status != 200 || body.Token != secret {
			t.Fatalf("right password: %d %+v", status, body)
		}
	})
	t.Run("AuditedWithoutTheValue", func(t *testing.T) {
		audit := c.get(details + "?tab=audit").text()
		if n := strings.Count(audit, "Token value shown by Ada Admin"); n != 5 {
			t.Errorf("%d reveals in the audit trail, want 5:\n%s", n, audit)
		}
		if strings.Contains(audit, secret) || strings.Contains(app.logs.String(), secret) {
			t.Fatal("the secret is in the audit trail or the log")
		}
	})
	t.Run("ErrOtherAccount", func(t *testing.T) {
		other := app.signedIn(t, app.otherAdmin)
		page := other.get(tokensPath)
		if res := other.post(reveal, url.Values{"_csrf": {page.csrf(t)}}); res.status != 404 || strings.Contains(res.body, secret) {
			t.Fatalf("status %d", res.status)
		}
	})
	t.Run("ErrMember", func(t *testing.T) {
		m := app.signedIn(t, app.member)
		page := m.get(tokensPath)
		if res := m.post(reveal, url.Values{"_csrf": {page.csrf(t)}}); res.status != 403 || strings.Contains(res.body, secret) {
			t.Fatalf("status %d", res.status)
		}
	})
}
