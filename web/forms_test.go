package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

// flashPattern finds a message on a page: a flash after a redirect, or the
// summary's message.
var flashPattern = regexp.MustCompile(`(?s)data-flash="\w+">.*?<span>(.*?)</span>`)

// message is the message a page shows, as text.
func (r *response) message(t *testing.T) string {
	t.Helper()
	m := flashPattern.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no message on the page (%d):\n%.600s", r.status, r.text())
	}
	return html.UnescapeString(m[1])
}

// addThroughWizard runs the Add wizard with a name and modules, and returns
// the answer to Add.
func addThroughWizard(c *client, name string, modules ...string) *response {
	c.t.Helper()
	page := c.step(c.get(newTokenPath), url.Values{"name": {name}, "go": {"next"}}, nil)
	page = c.step(page, url.Values{"modules": modules, "go": {"next"}}, nil)
	return c.step(page, url.Values{"go": {"add"}}, nil)
}

// TestAddSummaryByRedirect: Add leads to the summary by a redirect, so that
// Back or a reload never sends Add again; the summary shows the secret the
// first time only, and the secret is in no address.
func TestAddSummaryByRedirect(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	res := addThroughWizard(c, "Redirected", app.modules[0].ID)
	if res.status != http.StatusSeeOther || !strings.HasSuffix(res.location(), "/added") || secretPattern.MatchString(res.location()) {
		t.Fatalf("Add = %d → %q, want a redirect to the summary", res.status, res.location())
	}
	summary := c.get(res.location())
	secret := secretPattern.FindString(summary.body)
	if summary.status != 200 || secret == "" || summary.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("summary = %d, Cache-Control %q, secret %q:\n%s", summary.status, summary.header.Get("Cache-Control"), secret, summary.text())
	}
	tok, err := app.store.TokenBySecret(context.Background(), secret)
	if err != nil || res.location() != tokensPath+"/"+tok.ID+"/added" {
		t.Fatalf("the summary's secret is not the token's at %q: %v", res.location(), err)
	}
	t.Run("SecretShownOnce", func(t *testing.T) {
		again := c.get(res.location())
		if again.status != 200 || secretPattern.MatchString(again.body) || !strings.Contains(again.text(), "was shown once") {
			t.Fatalf("summary again = %d:\n%s", again.status, again.text())
		}
		if !strings.Contains(again.text(), "Redirected") || !strings.Contains(again.text(), "View details") {
			t.Fatalf("the summary without its secret lost the token:\n%s", again.text())
		}
	})
	t.Run("NotRecordedAsShown", func(t *testing.T) {
		events, err := app.store.AuditEvents(context.Background(), app.account.ID, tok.ID)
		if err != nil || len(events) != 1 || events[0].Action != store.AuditCreated {
			t.Fatalf("audit trail %+v, %v: want the creation only", events, err)
		}
	})
	t.Run("ErrOtherAccount", func(t *testing.T) {
		if res := app.signedIn(t, app.otherAdmin).get(res.location()); res.status != http.StatusNotFound {
			t.Fatalf("another account's summary = %d, want 404", res.status)
		}
	})
	if strings.Contains(app.logs.String(), secret) {
		t.Fatal("the secret reached the log")
	}
}

// tokenMessage is the one pattern of the messages about a token.
var tokenMessage = regexp.MustCompile(`^The API token “(.+)” \((TKN-\d{4}-\d{4})\) [^“”]+\.$`)

// TestTokenMessagesOnePattern: every action's message names the token and
// its ID in the same words.
func TestTokenMessagesOnePattern(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	tok, _ := app.createToken("Messenger", app.modules[0])
	tokenPath := tokensPath + "/" + tok.ID
	edit := url.Values{"name": {"Messenger"}, "modules": {app.modules[0].ID}}
	cases := []struct {
		name string
		act  func() *response
		says string
	}{
		{"Disable", func() *response { return c.submit(tokensPath, tokenPath+"/disable", url.Values{"from": {"list"}}) }, "has been disabled"},
		{"DisableAgain", func() *response { return c.submit(tokensPath, tokenPath+"/disable", nil) }, "is already disabled"},
		{"Enable", func() *response { return c.submit(tokensPath, tokenPath+"/enable", nil) }, "has been enabled"},
		{"Edit", func() *response {
			edit.Set("description", "now described")
			return c.submit(tokenPath+"/edit", tokenPath+"/edit", edit)
		}, "has been updated"},
		{"EditNoChange", func() *response { return c.submit(tokenPath+"/edit", tokenPath+"/edit", edit) }, "was not changed"},
		{"Delete", func() *response { return c.submit(tokensPath, tokenPath+"/delete", nil) }, "has been deleted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.act()
			if res.status != http.StatusSeeOther {
				t.Fatalf("status %d:\n%.400s", res.status, res.text())
			}
			checkTokenMessage(t, c.follow(res).message(t), tok, tc.says)
		})
	}
	t.Run("Add", func(t *testing.T) {
		res := addThroughWizard(c, "Newcomer", app.modules[0].ID)
		summary := c.follow(res)
		id := strings.TrimSuffix(strings.TrimPrefix(res.location(), tokensPath+"/"), "/added")
		checkTokenMessage(t, summary.message(t), store.Token{ID: id, Name: "Newcomer"}, "has been added")
	})
}

func checkTokenMessage(t *testing.T, msg string, tok store.Token, says string) {
	t.Helper()
	m := tokenMessage.FindStringSubmatch(msg)
	if m == nil || m[1] != tok.Name || m[2] != tok.ID || !strings.Contains(msg, says) {
		t.Fatalf("message %q: want “%s” (%s) … %s.", msg, tok.Name, tok.ID, says)
	}
}

// expiringToken makes a token that expires in a day.
func (a *testApp) expiringToken(t *testing.T, name string) store.Token {
	t.Helper()
	tok, _, err := a.store.CreateToken(context.Background(), store.NewToken{AccountID: a.account.ID, Name: name,
		ModuleIDs: []string{a.modules[0].ID}, ExpiresAt: a.clock.Now().Add(24 * time.Hour)}, store.UserActor(a.admin.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// rowOf is the list's row of a token, as HTML.
func (r *response) rowOf(t *testing.T, id string) string {
	t.Helper()
	at := strings.Index(r.body, `data-token-id="`+id+`"`)
	if at < 0 {
		t.Fatalf("no row for %s", id)
	}
	row, _, _ := strings.Cut(r.body[at:], "</tr>")
	return row
}

// TestRenewExpired: an expired token is renewed by Edit, which its menu
// offers in place of Disable; Enable and Disable on it, from a page, the
// bulk form or the API, change nothing and say what to do instead of
// reporting an Expired status as a success.
func TestRenewExpired(t *testing.T) {
	app := newTestApp(t)
	tok, off := app.expiringToken(t, "Lapsed"), app.expiringToken(t, "Lapsed and off")
	if _, _, err := app.store.SetTokenStatus(context.Background(), app.account.ID, off.ID, store.StatusDisabled, store.UserActor(app.admin.ID, "")); err != nil {
		t.Fatal(err)
	}
	_, secret := app.managerToken("Caller")
	app.clock.Add(48 * time.Hour)
	statusOf := func(id string) store.TokenStatus {
		got, err := app.store.TokenByID(context.Background(), app.account.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	c := app.signedIn(t, app.admin)
	tokenPath := tokensPath + "/" + tok.ID

	row := c.get(tokensPath).rowOf(t, tok.ID)
	if !strings.Contains(row, `href="`+tokenPath+`/edit" data-renew`) || strings.Contains(row, tokenPath+"/disable") {
		t.Fatalf("the expired token's menu does not offer Renew in place of Disable:\n%s", row)
	}
	t.Run("DisableSaysRenew", func(t *testing.T) {
		page := c.follow(c.submit(tokensPath, tokenPath+"/disable", nil))
		checkTokenMessage(t, page.message(t), tok, "has expired: edit it")
		if !strings.HasPrefix(page.flash(), "warning: ") {
			t.Errorf("the message is %q, want a warning", page.flash())
		}
		if st := statusOf(tok.ID); st != store.StatusActive {
			t.Fatalf("status %s after a refused disable", st)
		}
	})
	t.Run("BulkSkipsThem", func(t *testing.T) {
		for _, a := range []string{"enable", "disable"} {
			msg := c.follow(bulkPost(c, "", url.Values{"action": {a}, "confirm": {"1"}, "ids": {tok.ID, off.ID}})).flash()
			if !strings.Contains(msg, "past its expiry date") || !strings.Contains(msg, "No API tokens were changed") {
				t.Errorf("bulk %s: %q", a, msg)
			}
		}
		if statusOf(tok.ID) != store.StatusActive || statusOf(off.ID) != store.StatusDisabled {
			t.Fatalf("a bulk action changed an expired token: %s, %s", statusOf(tok.ID), statusOf(off.ID))
		}
	})
	t.Run("APIAnswersConflict", func(t *testing.T) {
		api := app.api(t, secret)
		for _, path := range []string{"/" + tok.ID + "/disable", "/" + off.ID + "/enable"} {
			p := api.send("POST", apiTokens+path, "", nil).problem(t, http.StatusConflict, "conflict")
			if !strings.Contains(p.Detail, "past its expiry date") {
				t.Errorf("POST %s: detail %q", path, p.Detail)
			}
		}
		if statusOf(tok.ID) != store.StatusActive || statusOf(off.ID) != store.StatusDisabled {
			t.Fatalf("the API changed an expired token: %s, %s", statusOf(tok.ID), statusOf(off.ID))
		}
	})
	t.Run("EnableSaysRenew", func(t *testing.T) {
		msg := c.follow(c.submit(tokensPath, tokensPath+"/"+off.ID+"/enable", nil)).message(t)
		if strings.Contains(msg, "Expired") || strings.Contains(msg, "enabled") {
			t.Fatalf("message %q", msg)
		}
		checkTokenMessage(t, msg, off, "has expired: edit it")
	})
	t.Run("EditRenews", func(t *testing.T) {
		form := c.get(tokenPath + "/edit")
		if !strings.Contains(form.text(), "This token expired on") || !strings.Contains(form.body, `<option value="keep" selected>`) {
			t.Fatalf("edit form:\n%s", form.text())
		}
		res := c.submit(tokenPath+"/edit", tokenPath+"/edit", url.Values{"name": {"Lapsed"}, "modules": {app.modules[0].ID}, "expiry": {"30"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("save = %d:\n%s", res.status, res.text())
		}
		got, _ := app.store.TokenByID(context.Background(), app.account.ID, tok.ID)
		if got.State(app.clock.Now()) != store.StateActive || !got.ExpiresAt.Equal(app.clock.Now().AddDate(0, 0, 30).Truncate(time.Second)) {
			t.Fatalf("after renewal: %s, expires %s", got.State(app.clock.Now()), got.ExpiresAt)
		}
		if audit := c.get(tokenPath + "?tab=audit").text(); !strings.Contains(audit, "Expiry") {
			t.Errorf("the audit trail does not show the new expiry:\n%s", audit)
		}
		if row := c.get(tokensPath).rowOf(t, tok.ID); !strings.Contains(row, tokenPath+"/disable") || strings.Contains(row, "data-renew") {
			t.Fatalf("the renewed token's menu:\n%s", row)
		}
	})
	t.Run("ErrExpiryPast", func(t *testing.T) {
		res := c.submit(tokenPath+"/edit", tokenPath+"/edit", url.Values{"name": {"Lapsed"}, "modules": {app.modules[0].ID},
			"expiry": {"custom"}, "expires_on": {"2020-01-01"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "The expiry date must be in the future.") {
			t.Fatalf("save = %d:\n%s", res.status, res.text())
		}
	})
}

// TestNoModulesAsksToConfirm: a token with no module can call no API, so
// Add and Edit ask to confirm that choice, and say why.
func TestNoModulesAsksToConfirm(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	const why = "Without a module, this token won't be able to call any API."
	t.Run("Add", func(t *testing.T) {
		modules := c.step(c.get(newTokenPath), url.Values{"name": {"Scopeless"}, "go": {"next"}}, nil)
		if !strings.Contains(modules.text(), why) {
			t.Fatalf("the Modules step does not say it:\n%s", modules.text())
		}
		refused := c.step(modules, url.Values{"go": {"next"}}, nil)
		if refused.status != http.StatusUnprocessableEntity || !strings.Contains(refused.text(), "confirm that this token needs none") {
			t.Fatalf("Next with no module = %d:\n%s", refused.status, refused.text())
		}
		overview := c.step(modules, url.Values{"no_modules": {"1"}, "go": {"next"}}, nil)
		if overview.status != 200 || !strings.Contains(overview.text(), "Modules None: "+why) {
			t.Fatalf("confirmed = %d:\n%s", overview.status, overview.text())
		}
		if res := c.step(overview, url.Values{"go": {"add"}}, nil); res.status != http.StatusSeeOther {
			t.Fatalf("Add = %d:\n%s", res.status, res.text())
		}
	})
	t.Run("Edit", func(t *testing.T) {
		tok, _ := app.createToken("Scoped", app.modules[0])
		editPath := tokensPath + "/" + tok.ID + "/edit"
		refused := c.submit(editPath, editPath, url.Values{"name": {"Scoped"}})
		if refused.status != http.StatusUnprocessableEntity || !strings.Contains(refused.text(), why) {
			t.Fatalf("Save with no module = %d:\n%s", refused.status, refused.text())
		}
		if res := c.submit(editPath, editPath, url.Values{"name": {"Scoped"}, "no_modules": {"1"}}); res.status != http.StatusSeeOther {
			t.Fatalf("confirmed = %d:\n%s", res.status, res.text())
		}
		if got, _ := app.store.TokenByID(context.Background(), app.account.ID, tok.ID); len(got.Modules) != 0 {
			t.Fatalf("modules %v", got.Modules)
		}
	})
}

// TestEditLogo: Edit replaces a token's logo (normalised like Add's) or
// removes it, and refuses a file that is not an image.
func TestEditLogo(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	tok, _ := app.createToken("Pictured", app.modules[0])
	editPath := tokensPath + "/" + tok.ID + "/edit"
	save := func(fields url.Values, files map[string][]byte) *response {
		form := url.Values{"_csrf": {c.get(editPath).csrf(t)}, "name": {"Pictured"}, "modules": {app.modules[0].ID}}
		for k, v := range fields {
			form[k] = v
		}
		return c.postMultipart(editPath, form, files)
	}
	if res := save(nil, map[string][]byte{"logo": pngImage(t, 300, 150)}); res.status != http.StatusSeeOther {
		t.Fatalf("save with a logo = %d:\n%s", res.status, res.text())
	}
	logo, err := app.store.TokenLogo(context.Background(), app.account.ID, tok.ID)
	if err != nil || logo == nil {
		t.Fatalf("no logo after Edit: %v", err)
	}
	if form := c.get(editPath); !strings.Contains(form.body, `src="`+tokensPath+"/"+tok.ID+`/logo"`) || !strings.Contains(form.text(), "Remove this logo") {
		t.Fatalf("the Edit form does not show the logo:\n%s", form.text())
	}
	if audit := c.get(tokensPath + "/" + tok.ID + "?tab=audit").text(); !strings.Contains(audit, "Logo (none) → changed to New logo") {
		t.Errorf("audit trail:\n%s", audit)
	}
	t.Run("ErrNotAnImage", func(t *testing.T) {
		res := save(nil, map[string][]byte{"logo": []byte("GIF89a, or so it says")})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), store.MsgLogoNotImage) {
			t.Fatalf("status %d:\n%s", res.status, res.text())
		}
	})
	t.Run("CarriedPastAMistake", func(t *testing.T) {
		// A new logo sent with an empty name comes back on the form, and
		// is saved once the name is given.
		res := save(url.Values{"name": {""}}, map[string][]byte{"logo": pngImage(t, 64, 64)})
		carried := res.hidden().Get("logo_data")
		if res.status != http.StatusUnprocessableEntity || carried == "" {
			t.Fatalf("status %d, carried %q", res.status, carried)
		}
		if res := save(url.Values{"logo_data": {carried}}, nil); res.status != http.StatusSeeOther {
			t.Fatalf("save with the carried logo = %d:\n%s", res.status, res.text())
		}
	})
	t.Run("Remove", func(t *testing.T) {
		if res := save(url.Values{"logo_remove": {"1"}}, nil); res.status != http.StatusSeeOther {
			t.Fatalf("remove = %d:\n%s", res.status, res.text())
		}
		if logo, err := app.store.TokenLogo(context.Background(), app.account.ID, tok.ID); err != nil || logo != nil {
			t.Fatalf("logo %d bytes after removal, %v", len(logo), err)
		}
	})
}
