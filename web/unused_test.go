package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

const unusedPolicyPath = tokensPath + "/unused-policy"

// unusedPolicy is the account's policy as stored; an error fails the test.
func (a *testApp) unusedPolicy(t *testing.T) store.UnusedPolicy {
	t.Helper()
	p, err := a.store.UnusedPolicy(context.Background(), a.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnusedPolicyPage(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)

	t.Run("ReachedFromTheList", func(t *testing.T) {
		list := c.get(tokensPath)
		if !strings.Contains(list.body, `href="`+unusedPolicyPath+`"`) || !strings.Contains(list.text(), "Unused token policy") {
			t.Fatalf("the list does not link to the policy:\n%s", list.text())
		}
	})
	t.Run("OffByDefault", func(t *testing.T) {
		page := c.get(unusedPolicyPath)
		text := page.text()
		for _, want := range []string{"Unused API tokens", "Disable tokens not used for", "Off: never disable tokens", "30 days", "60 days",
			"90 days", "180 days", "The policy has never been set: it is off.", "Save Cancel"} {
			if !strings.Contains(text, want) {
				t.Errorf("the page lacks %q:\n%s", want, text)
			}
		}
		if !strings.Contains(page.body, `value="off" checked`) {
			t.Error("Off is not the choice")
		}
	})
	t.Run("OK", func(t *testing.T) {
		res := c.submit(unusedPolicyPath, unusedPolicyPath, url.Values{"days": {"90"}})
		if res.status != http.StatusSeeOther || res.location() != tokensPath {
			t.Fatalf("save = %d to %q, want 303 to the list", res.status, res.location())
		}
		list := c.follow(res)
		if want := "The policy is on: active API tokens not used for 90 days will be disabled."; !strings.Contains(list.text(), want) {
			t.Fatalf("the list lacks %q:\n%s", want, list.text())
		}
		p := app.unusedPolicy(t)
		if p.Days != 90 || p.UpdatedBy.ID != app.admin.ID || !p.UpdatedAt.Equal(app.clock.Now()) {
			t.Fatalf("stored %+v", p)
		}
		page := c.get(unusedPolicyPath)
		if !strings.Contains(page.body, `value="90" checked`) ||
			!strings.Contains(page.text(), "Last changed 4 May 2026 10:30 UTC by Ada Admin "+app.admin.ID) {
			t.Fatalf("the page after saving:\n%s", page.text())
		}
	})
	t.Run("Off", func(t *testing.T) {
		res := c.submit(unusedPolicyPath, unusedPolicyPath, url.Values{"days": {"off"}})
		if list := c.follow(res); !strings.Contains(list.text(), "The policy is off") {
			t.Fatalf("no message:\n%s", list.text())
		}
		if p := app.unusedPolicy(t); p.On() {
			t.Fatalf("stored %+v", p)
		}
	})

	c.submit(unusedPolicyPath, unusedPolicyPath, url.Values{"days": {"60"}})
	unchanged := func(t *testing.T) {
		t.Helper()
		if p := app.unusedPolicy(t); p.Days != 60 {
			t.Fatalf("the policy changed to %d days", p.Days)
		}
	}
	t.Run("ErrDays", func(t *testing.T) {
		for _, days := range []string{"45", "0", "090", "-30", "365", "abc", "", "30 "} {
			res := c.submit(unusedPolicyPath, unusedPolicyPath, url.Values{"days": {days}})
			if res.status != http.StatusBadRequest || !strings.Contains(res.text(), "The policy was not saved "+store.MsgUnusedDays) {
				t.Errorf("days=%q = %d:\n%s", days, res.status, res.text())
			}
			// The form comes back as sent, with the stored policy's facts.
			if !strings.Contains(res.text(), "Last changed") {
				t.Errorf("days=%q: the form lost the stored policy", days)
			}
		}
		unchanged(t)
	})
	t.Run("ErrNoChoice", func(t *testing.T) {
		if res := c.submit(unusedPolicyPath, unusedPolicyPath, url.Values{}); res.status != http.StatusBadRequest {
			t.Fatalf("no choice = %d, want 400", res.status)
		}
		unchanged(t)
	})
	t.Run("ErrUnknownField", func(t *testing.T) {
		res := c.submit(unusedPolicyPath, unusedPolicyPath, url.Values{"days": {"30"}, "account": {"ACC-0000-0001"}})
		if res.status != http.StatusBadRequest || !strings.Contains(res.text(), "Nothing was saved") {
			t.Fatalf("unknown field = %d:\n%s", res.status, res.text())
		}
		unchanged(t)
	})
	t.Run("ErrCSRF", func(t *testing.T) {
		for _, form := range []url.Values{{"days": {"30"}}, {"days": {"30"}, "_csrf": {"not-the-token"}}} {
			if res := c.post(unusedPolicyPath, form); res.status != http.StatusForbidden {
				t.Errorf("without a valid CSRF token = %d, want 403", res.status)
			}
		}
		unchanged(t)
	})
	t.Run("MemberForbidden", func(t *testing.T) {
		m := app.signedIn(t, app.member)
		if res := m.get(unusedPolicyPath); res.status != http.StatusForbidden {
			t.Errorf("a member's GET = %d, want 403", res.status)
		}
		csrf := m.get(tokensPath).csrf(t) // the 403 page's sign-out form
		if res := m.post(unusedPolicyPath, url.Values{"_csrf": {csrf}, "days": {"30"}}); res.status != http.StatusForbidden {
			t.Errorf("a member's POST = %d, want 403", res.status)
		}
		unchanged(t)
	})
	t.Run("AnotherAccountsAdmin", func(t *testing.T) {
		o := app.signedIn(t, app.otherAdmin)
		o.submit(unusedPolicyPath, unusedPolicyPath, url.Values{"days": {"180"}})
		unchanged(t)
	})
}

// TestUnusedNotice: once the policy has disabled tokens, each
// administrator is told on the list, once, with a link to them; the
// audit trails, the record details and the CSV name the policy.
func TestUnusedNotice(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	idle, _ := app.createToken("Old integration")
	idle2, _ := app.createToken("Forgotten script")
	app.clock.Add(20 * 24 * time.Hour)
	fresh, _ := app.createToken("New integration")
	if _, err := app.store.SetUnusedPolicy(ctx, app.account.ID, 30, store.UserActor(app.admin.ID, "")); err != nil {
		t.Fatal(err)
	}
	if list := app.signedIn(t, app.admin).get(tokensPath); list.status != http.StatusOK || strings.Contains(list.body, "data-unused-notice") {
		t.Fatalf("a notice before the policy disabled anything = %d", list.status)
	}
	app.clock.Add(11 * 24 * time.Hour)
	if n, err := app.store.DisableUnusedTokens(ctx); err != nil || n != 2 {
		t.Fatalf("the policy disabled %d: %v", n, err)
	}
	// A sign-in lasts hours, not the month the policy waited.
	c := app.signedIn(t, app.admin)
	const actorName = "System: unused for 30 days"

	var link string
	t.Run("ShownOnce", func(t *testing.T) {
		list := c.get(tokensPath)
		if want := "2 API tokens were disabled because they had not been used for 30 days. Show disabled tokens not used in 30 days"; !strings.Contains(list.text(), want) {
			t.Fatalf("the list lacks %q:\n%s", want, list.text())
		}
		link = tokensPath + "?lastAccess=30d&status=disabled"
		if !strings.Contains(list.body, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`" data-unused-link`) {
			t.Fatalf("the notice does not link to %s:\n%s", link, list.body)
		}
		if again := c.get(tokensPath); strings.Contains(again.body, "data-unused-notice") {
			t.Fatal("the notice shows again")
		}
	})
	t.Run("LinkShowsThem", func(t *testing.T) {
		page := c.get(link)
		text := page.text()
		if page.status != http.StatusOK || !strings.Contains(text, idle.ID) || !strings.Contains(text, idle2.ID) ||
			strings.Contains(text, fresh.ID) || !strings.Contains(text, "1–2 of 2 rows") {
			t.Fatalf("the notice's link = %d:\n%s", page.status, text)
		}
	})
	t.Run("EveryAdministratorOnce", func(t *testing.T) {
		app.clock.Add(time.Minute)
		second := app.signedIn(t, app.mustUser(app.account, "second@acme.test", "Sam Second", store.RoleAdmin))
		// Made after the run: not news to them.
		if strings.Contains(second.get(tokensPath).body, "data-unused-notice") {
			t.Fatal("an administrator made after the run is told of it")
		}
	})
	t.Run("TokenAuditTrail", func(t *testing.T) {
		page := c.get(tokensPath + "/" + idle.ID + "?tab=audit")
		if want := actorName + " system:unused-30d Run by the server API token disabled"; !strings.Contains(page.text(), want) {
			t.Fatalf("the token's audit trail lacks %q:\n%s", want, page.text())
		}
		if details := c.get(tokensPath + "/" + idle.ID + "?tab=details"); !strings.Contains(details.text(), "by "+actorName) {
			t.Fatalf("the details do not say who changed it last:\n%s", details.text())
		}
	})
	t.Run("AccountAuditTrail", func(t *testing.T) {
		page := c.get("/settings/audit-trail?event=disabled")
		if !strings.Contains(page.text(), actorName) {
			t.Fatalf("the account's audit trail lacks the policy:\n%s", page.text())
		}
	})
	t.Run("RecordDetailsJSON", func(t *testing.T) {
		events, err := app.store.AuditEvents(ctx, app.account.ID, idle.ID)
		if err != nil {
			t.Fatal(err)
		}
		page := c.get("/settings/audit-trail/" + strconv.FormatInt(events[0].ID, 10))
		for _, want := range []string{`&#34;id&#34;: &#34;system:unused-30d&#34;`, `&#34;name&#34;: &#34;` + actorName + `&#34;`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the record's JSON lacks %s:\n%s", want, page.text())
			}
		}
	})
	t.Run("CSV", func(t *testing.T) {
		res := c.get(tokensPath + "/" + idle.ID + "/audit.csv")
		if res.status != http.StatusOK || !strings.Contains(res.body, ","+actorName+",system:unused-30d,") {
			t.Fatalf("the CSV = %d:\n%s", res.status, res.body)
		}
	})
}

// TestExpiresSoon: a token within a week of its expiry date says when it
// expires, on the list and its details page; one further off does not.
func TestExpiresSoon(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	by := store.UserActor(app.admin.ID, "")
	soon, _, err := app.store.CreateToken(ctx, store.NewToken{AccountID: app.account.ID, Name: "Ends soon",
		ExpiresAt: app.clock.Now().Add(3*24*time.Hour + time.Hour)}, by)
	if err != nil {
		t.Fatal(err)
	}
	later, _, err := app.store.CreateToken(ctx, store.NewToken{AccountID: app.account.ID, Name: "Ends later",
		ExpiresAt: app.clock.Now().Add(30 * 24 * time.Hour)}, by)
	if err != nil {
		t.Fatal(err)
	}
	c := app.signedIn(t, app.admin)
	t.Run("List", func(t *testing.T) {
		text := c.get(tokensPath).text()
		if !strings.Contains(text, "Active Expires in 3 days") {
			t.Fatalf("the list lacks the expiry:\n%s", text)
		}
		if strings.Count(text, "Expires in") != 1 {
			t.Fatalf("a token a month from its expiry says when:\n%s", text)
		}
	})
	t.Run("Details", func(t *testing.T) {
		if text := c.get(tokensPath + "/" + soon.ID).text(); !strings.Contains(text, "Ends soon Active Expires in 3 days") {
			t.Fatalf("the details page lacks the expiry:\n%s", text)
		}
		if text := c.get(tokensPath + "/" + soon.ID + "?tab=details").text(); !strings.Contains(text, "Expires 7 May 2026 11:30 UTC Expires in 3 days") {
			t.Fatalf("the details tab lacks the expiry:\n%s", text)
		}
		if text := c.get(tokensPath + "/" + later.ID).text(); strings.Contains(text, "Expires in") {
			t.Fatalf("a token a month from its expiry says when:\n%s", text)
		}
	})
	t.Run("Hours", func(t *testing.T) {
		app.clock.Add(3 * 24 * time.Hour)
		c := app.signedIn(t, app.admin)
		if text := c.get(tokensPath + "/" + soon.ID).text(); !strings.Contains(text, "Expires in 1 hour") {
			t.Fatalf("an hour before:\n%s", text)
		}
	})
}
