package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"apitokens/store"
)

// bulkPost posts the bulk form as the list page at view would, with its
// CSRF token.
func bulkPost(c *client, view string, form url.Values) *response {
	c.t.Helper()
	page := c.get(tokensPath + view)
	form.Set("_csrf", page.csrf(c.t))
	return c.post(tokensPath+"/bulk", form)
}

func auditActions(t *testing.T, app *testApp, id string) []string {
	t.Helper()
	events, err := app.store.AuditEvents(context.Background(), app.account.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Action)
	}
	return out
}

func TestBulkActions(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	c := app.signedIn(t, app.admin)
	newTokens := func(names ...string) []store.Token {
		var out []store.Token
		for _, n := range names {
			tok, _ := app.createToken(n)
			out = append(out, tok)
		}
		return out
	}
	idsOf := func(ts []store.Token) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}

	t.Run("ConfirmationNamesThem", func(t *testing.T) {
		ts := newTokens("Confirm one", "Confirm two", "Confirm three")
		res := bulkPost(c, "?sort=name", url.Values{"action": {"delete"}, "ids": idsOf(ts), "return": {"sort=name"}})
		if res.status != http.StatusOK {
			t.Fatalf("status %d:\n%s", res.status, res.text())
		}
		text := res.text()
		for _, want := range []string{"Delete 3 API tokens?", "Confirm one (" + ts[0].ID + ")", "Confirm two (" + ts[1].ID + ")",
			"Confirm three (" + ts[2].ID + ")", "can't be reinstated or reused", "Cancel", "Delete 3 API tokens"} {
			if !strings.Contains(text, want) {
				t.Errorf("confirmation lacks %q:\n%s", want, text)
			}
		}
		if !strings.Contains(res.body, `<a class="button" href="/settings/api-tokens?sort=name">Cancel</a>`) ||
			!strings.Contains(res.body, `name="confirm" value="1"`) {
			t.Error("no Cancel back to the view, or no confirming form")
		}
		for _, tok := range ts {
			if !app.tokenExists(app.account.ID, tok.ID) {
				t.Fatal("a token went before it was confirmed")
			}
		}
	})
	t.Run("ConfirmationOfMany", func(t *testing.T) {
		var names []string
		for i := range 23 {
			names = append(names, fmt.Sprintf("Many %02d", i))
		}
		ts := newTokens(names...)
		res := bulkPost(c, "", url.Values{"action": {"disable"}, "ids": idsOf(ts)})
		text := res.text()
		if !strings.Contains(text, "Disable 23 API tokens?") || !strings.Contains(text, "Many 19 ("+ts[19].ID+")") ||
			strings.Contains(text, "Many 20") || !strings.Contains(text, "and 3 more") {
			t.Fatalf("confirmation of 23:\n%s", text)
		}
		if n := strings.Count(res.body, `name="ids"`); n != 23 {
			t.Errorf("the form carries %d IDs, want 23", n)
		}
	})
	t.Run("Disable", func(t *testing.T) {
		ts := newTokens("Disable one", "Disable two", "Disable three")
		res := bulkPost(c, "?status=active", url.Values{"action": {"disable"}, "ids": idsOf(ts), "confirm": {"1"},
			"return": {"status=active&limit=25"}})
		if res.status != http.StatusSeeOther || res.location() != tokensPath+"?limit=25&status=active" {
			t.Fatalf("= %d to %q, want back to the view", res.status, res.location())
		}
		page := c.follow(res)
		if got := page.flash(); got != "success: 3 API tokens have been disabled." {
			t.Errorf("message %q", got)
		}
		for _, tok := range ts {
			got, _ := app.store.TokenByID(ctx, app.account.ID, tok.ID)
			if got.Status != store.StatusDisabled {
				t.Errorf("%s is %s", tok.Name, got.Status)
			}
			if a := auditActions(t, app, tok.ID); !slices.Equal(a, []string{store.AuditDisabled, store.AuditCreated}) {
				t.Errorf("%s audit trail %q, want its own disable event", tok.Name, a)
			}
			if strings.Contains(page.body, tok.ID) {
				t.Errorf("%s is still in the view of active tokens", tok.Name)
			}
		}
	})
	t.Run("Delete", func(t *testing.T) {
		ts := newTokens("Delete one", "Delete two")
		page := c.follow(bulkPost(c, "", url.Values{"action": {"delete"}, "ids": idsOf(ts), "confirm": {"1"}}))
		if got := page.flash(); got != "success: 2 API tokens have been deleted." {
			t.Errorf("message %q", got)
		}
		for _, tok := range ts {
			if app.tokenExists(app.account.ID, tok.ID) {
				t.Errorf("%s is still there", tok.Name)
			}
			if a := auditActions(t, app, tok.ID); len(a) == 0 || a[0] != store.AuditDeleted {
				t.Errorf("%s audit trail %q, want its own delete event", tok.Name, a)
			}
			if strings.Contains(page.body, tok.ID) {
				t.Errorf("%s is still listed", tok.Name)
			}
		}
	})
	t.Run("PartialFailure", func(t *testing.T) {
		ts := newTokens("Still active", "Was disabled")
		app.store.SetTokenStatus(ctx, app.account.ID, ts[1].ID, store.StatusDisabled, store.UserActor(app.admin.ID, ""))
		theirs, _ := app.createTokenIn(app.otherAdmin, "Their token")
		page := c.follow(bulkPost(c, "", url.Values{"action": {"disable"}, "confirm": {"1"},
			"ids": {ts[0].ID, ts[1].ID, theirs.ID, ts[0].ID}}))
		want := "warning: 1 API token has been disabled. Not changed: “Was disabled” (" + ts[1].ID + ") — already disabled; " +
			theirs.ID + " — not found."
		if got := page.flash(); got != want {
			t.Errorf("message\n%q, want\n%q", got, want)
		}
		got, _ := app.store.TokenByID(ctx, app.otherAdmin.AccountID, theirs.ID)
		events, _ := app.store.AuditEvents(ctx, app.otherAdmin.AccountID, theirs.ID)
		if got.Status != store.StatusActive || len(events) != 1 {
			t.Error("another account's token was changed")
		}
		if a := auditActions(t, app, ts[0].ID); !slices.Equal(a, []string{store.AuditDisabled, store.AuditCreated}) {
			t.Errorf("a token listed twice has audit trail %q", a)
		}
	})
	t.Run("NothingChanged", func(t *testing.T) {
		ts := newTokens("Enabled already")
		page := c.follow(bulkPost(c, "", url.Values{"action": {"enable"}, "confirm": {"1"}, "ids": idsOf(ts)}))
		want := "error: No API tokens were changed. Not changed: “Enabled already” (" + ts[0].ID + ") — already active."
		if got := page.flash(); got != want {
			t.Errorf("message %q, want %q", got, want)
		}
	})
	t.Run("ManyNotChanged", func(t *testing.T) {
		var ids []string
		for i := range 13 {
			ids = append(ids, fmt.Sprintf("TKN-0000-%04d", i))
		}
		page := c.follow(bulkPost(c, "", url.Values{"action": {"delete"}, "confirm": {"1"}, "ids": ids}))
		got := page.flash()
		if !strings.Contains(got, "TKN-0000-0009 — not found; and 3 more.") || strings.Contains(got, "TKN-0000-0010") {
			t.Errorf("message %q", got)
		}
	})
	t.Run("LongNamesStillFitTheMessage", func(t *testing.T) {
		// The message travels in the session cookie: twelve names of 200
		// four-byte characters would not fit, and the message would be lost.
		var ids []string
		for i := range 12 {
			tok := newTokens(fmt.Sprintf("%02d", i) + strings.Repeat("😀", 198))[0]
			app.store.SetTokenStatus(ctx, app.account.ID, tok.ID, store.StatusDisabled, store.UserActor(app.admin.ID, ""))
			ids = append(ids, tok.ID)
		}
		got := c.follow(bulkPost(c, "", url.Values{"action": {"disable"}, "confirm": {"1"}, "ids": ids})).flash()
		if !strings.HasPrefix(got, "error: No API tokens were changed. Not changed: “00"+strings.Repeat("😀", 37)+"…” ("+ids[0]+") — already disabled; ") ||
			!regexp.MustCompile(`; and \d+ more\.$`).MatchString(got) {
			t.Fatalf("message %q", got)
		}
	})
	t.Run("NoneSelected", func(t *testing.T) {
		res := bulkPost(c, "", url.Values{"action": {"delete"}, "confirm": {"1"}, "return": {"q=one"}})
		if res.status != http.StatusSeeOther || res.location() != tokensPath+"?q=one" {
			t.Fatalf("= %d to %q", res.status, res.location())
		}
		if got := c.follow(res).flash(); got != "error: Select at least one API token." {
			t.Errorf("message %q", got)
		}
	})
	t.Run("ReturnStaysOnTheList", func(t *testing.T) {
		tok := newTokens("Return check")[0]
		for _, ret := range []string{"//evil.example/x", "https://evil.example/", "status=gone", "%zz", "/settings/api-tokens/new"} {
			res := bulkPost(c, "", url.Values{"action": {"disable"}, "confirm": {"1"}, "ids": {tok.ID}, "return": {ret}})
			if res.status != http.StatusSeeOther || res.location() != tokensPath {
				t.Errorf("return %q: %d to %q, want the list", ret, res.status, res.location())
			}
		}
	})
}

func TestBulkAllMatching(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	c := app.signedIn(t, app.admin)
	// 80 tokens in two modules, every third disabled: 26 are active in the
	// first module, more than a page of 25.
	var matching []string
	for i := range 80 {
		tok, _ := app.createToken(fmt.Sprintf("All %02d", i), app.modules[i%2])
		switch {
		case i%3 == 0:
			app.store.SetTokenStatus(ctx, app.account.ID, tok.ID, store.StatusDisabled, store.UserActor(app.admin.ID, ""))
		case i%2 == 0:
			matching = append(matching, tok.ID)
		}
	}
	filter := url.Values{"status": {"active"}, "module": {app.modules[0].ID}}
	view := "?" + filter.Encode() + "&limit=25"
	if list := c.get(tokensPath + view); !strings.Contains(list.text(), "Select all 26 API tokens that match these filters") {
		t.Fatalf("no way to select all that match:\n%s", list.text())
	}
	if list := c.get(tokensPath + "?" + filter.Encode() + "&limit=100"); strings.Contains(list.body, `name="all"`) {
		t.Error("select all matching is offered when the page shows every match")
	}
	form := url.Values{"action": {"disable"}, "all": {"1"}, "return": {view[1:]}}
	for k, v := range filter {
		form[k] = v
	}
	// An ID sent along is ignored: "all" means the filter.
	other, _ := app.createToken("Other module", app.modules[1])
	form.Set("ids", other.ID)
	res := bulkPost(c, view, form)
	if res.status != http.StatusOK || !strings.Contains(res.text(), "Disable 26 API tokens?") ||
		!strings.Contains(res.text(), "every API token that matches the filters: 26 API tokens") ||
		!strings.Contains(res.text(), "and 6 more") {
		t.Fatalf("confirmation = %d:\n%s", res.status, res.text())
	}
	if !strings.Contains(res.body, `name="count" value="26"`) {
		t.Fatal("the confirmation does not carry the count")
	}
	selection := regexp.MustCompile(`name="selection" value="([0-9a-f]{32})"`)
	asked := selection.FindStringSubmatch(res.body)
	if asked == nil {
		t.Fatal("the confirmation does not carry what it asked about")
	}
	// The first twenty by name: All 02, All 04, All 08 … All 58.
	text := res.text()
	if i, j := strings.Index(text, "All 02 ("), strings.Index(text, "All 04 ("); i < 0 || j < i ||
		!strings.Contains(text, "All 58 (") || strings.Contains(text, "All 62 (") || strings.Contains(text, "Other module") {
		t.Errorf("the confirmation does not name the first twenty by name:\n%s", text)
	}

	t.Run("CountChanged", func(t *testing.T) {
		// A token joins the filter between the question and the answer:
		// the person is asked again.
		late, _ := app.createToken("Latecomer", app.modules[0])
		matching = append(matching, late.ID)
		again := url.Values{"confirm": {"1"}, "count": {"26"}, "selection": {asked[1]}}
		for k, v := range form {
			again[k] = v
		}
		res := bulkPost(c, view, again)
		if res.status != http.StatusOK || !strings.Contains(res.text(), "The filters now match 27 API tokens, not 26") ||
			!strings.Contains(res.text(), "Disable 27 API tokens?") {
			t.Fatalf("= %d:\n%s", res.status, res.text())
		}
		asked = selection.FindStringSubmatch(res.body)
		for _, id := range matching {
			if tok, _ := app.store.TokenByID(ctx, app.account.ID, id); tok.Status != store.StatusActive {
				t.Fatal("changed without confirmation of the new count")
			}
		}
	})
	t.Run("SameCountOtherTokens", func(t *testing.T) {
		// One token leaves the filter and another joins: as many as before,
		// but not the ones the person saw. They are asked again.
		swapIn, _ := app.createToken("Swapped in", app.modules[0])
		app.store.SetTokenStatus(ctx, app.account.ID, swapIn.ID, store.StatusDisabled, store.UserActor(app.admin.ID, ""))
		out := matching[0]
		app.store.SetTokenStatus(ctx, app.account.ID, out, store.StatusDisabled, store.UserActor(app.admin.ID, ""))
		app.store.SetTokenStatus(ctx, app.account.ID, swapIn.ID, store.StatusActive, store.UserActor(app.admin.ID, ""))
		again := url.Values{"confirm": {"1"}, "count": {"27"}, "selection": {asked[1]}}
		for k, v := range form {
			again[k] = v
		}
		res := bulkPost(c, view, again)
		if res.status != http.StatusOK || !strings.Contains(res.text(), "have changed since you were asked") {
			t.Fatalf("= %d:\n%s", res.status, res.text())
		}
		if tok, _ := app.store.TokenByID(ctx, app.account.ID, swapIn.ID); tok.Status != store.StatusActive {
			t.Fatal("a token the person never saw was changed")
		}
		// Put the set back as it was for the next step.
		app.store.SetTokenStatus(ctx, app.account.ID, swapIn.ID, store.StatusDisabled, store.UserActor(app.admin.ID, ""))
		app.store.SetTokenStatus(ctx, app.account.ID, out, store.StatusActive, store.UserActor(app.admin.ID, ""))
	})
	t.Run("Confirmed", func(t *testing.T) {
		form.Set("confirm", "1")
		form.Set("count", "27")
		form.Set("selection", asked[1])
		res := bulkPost(c, view, form)
		if res.status != http.StatusSeeOther || res.location() != tokensPath+"?limit=25&module="+app.modules[0].ID+"&status=active" {
			t.Fatalf("= %d to %q:\n%s", res.status, res.location(), res.text())
		}
		if got := c.follow(res).flash(); got != "success: 27 API tokens have been disabled." {
			t.Errorf("message %q", got)
		}
		for _, id := range matching {
			if tok, _ := app.store.TokenByID(ctx, app.account.ID, id); tok.Status != store.StatusDisabled {
				t.Errorf("%s (%s) was not disabled", tok.Name, tok.Status)
			}
		}
		// Exactly the filtered set: the other module's active tokens stay.
		if got, _ := app.store.TokenByID(ctx, app.account.ID, other.ID); got.Status != store.StatusActive {
			t.Error("a token outside the filter was disabled")
		}
		if n := len(c.get(tokensPath + "?status=active&limit=100").names()); n != 28 {
			t.Errorf("%d tokens are still active, want the 28 of the other module", n)
		}
	})
	t.Run("NoneMatch", func(t *testing.T) {
		form.Del("confirm")
		res := bulkPost(c, view, form)
		if got := c.follow(res).flash(); got != "error: No API tokens match these filters any more. Nothing was changed." {
			t.Errorf("message %q", got)
		}
	})
	t.Run("BadFilter", func(t *testing.T) {
		bad := url.Values{"action": {"delete"}, "all": {"1"}, "status": {"gone"}}
		if got := c.follow(bulkPost(c, "", bad)).flash(); !strings.Contains(got, "error: Choose a status") {
			t.Errorf("message %q", got)
		}
	})
}

func TestBulkRefusals(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Guarded")
	admin := app.signedIn(t, app.admin)
	valid := func() url.Values {
		return url.Values{"action": {"delete"}, "ids": {tok.ID}, "confirm": {"1"}}
	}
	t.Run("NoCSRF", func(t *testing.T) {
		if res := admin.post(tokensPath+"/bulk", valid()); res.status != http.StatusForbidden {
			t.Fatalf("= %d, want 403", res.status)
		}
	})
	t.Run("Member", func(t *testing.T) {
		m := app.signedIn(t, app.member)
		form := valid()
		form.Set("_csrf", m.get(tokensPath).csrf(t))
		if res := m.post(tokensPath+"/bulk", form); res.status != http.StatusForbidden {
			t.Fatalf("= %d, want 403", res.status)
		}
	})
	for _, tc := range []struct {
		name    string
		change  func(url.Values)
		message string
	}{
		{"UnknownField", func(f url.Values) { f.Set("status_override", "active") }, `"status_override"`},
		{"UnknownAction", func(f url.Values) { f.Set("action", "reveal") }, "Choose Disable, Enable or Delete"},
		{"NoAction", func(f url.Values) { f.Del("action") }, "Choose Disable, Enable or Delete"},
		{"NotAnID", func(f url.Values) { f.Add("ids", "TKN-1234-567x") }, `"TKN-1234-567x" is not an API token ID`},
		{"NotATokenID", func(f url.Values) { f.Add("ids", "USR-1234-5678") }, `"USR-1234-5678" is not an API token ID`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := valid()
			tc.change(form)
			res := bulkPost(admin, "", form)
			if res.status != http.StatusBadRequest || !strings.Contains(res.text(), tc.message) {
				t.Fatalf("= %d, want 400 saying %s:\n%s", res.status, tc.message, res.text())
			}
		})
	}
	if !app.tokenExists(app.account.ID, tok.ID) {
		t.Fatal("a refused request deleted the token")
	}
}
