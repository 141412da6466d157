package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

// TestAPIFollowsTheWeb checks that what an administrator does on the pages
// holds for the very next API call: no cache answers for the store.
func TestAPIFollowsTheWeb(t *testing.T) {
	app := newAPIApp(t)
	tok, secret := app.managerToken("Automation")
	c := app.api(t, secret)
	admin := app.signedIn(t, app.admin)
	c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})

	t.Run("Disable", func(t *testing.T) {
		res := admin.submit(tokensPath+"/"+tok.ID, tokensPath+"/"+tok.ID+"/disable", nil)
		if res.status != http.StatusSeeOther {
			t.Fatalf("web disable = %d", res.status)
		}
		c.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("EnableWithSameSecret", func(t *testing.T) {
		admin.submit(tokensPath+"/"+tok.ID, tokensPath+"/"+tok.ID+"/enable", nil)
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
	})
	t.Run("DeleteIsForever", func(t *testing.T) {
		res := admin.submit(tokensPath, tokensPath+"/"+tok.ID+"/delete", nil)
		if res.status != http.StatusSeeOther {
			t.Fatalf("web delete = %d", res.status)
		}
		c.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		app.clock.Add(400 * 24 * time.Hour)
		c.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		// The sign-in has lapsed over those days; a new one sees the same.
		again := app.signedIn(t, app.admin)
		if res := again.submit(tokensPath, tokensPath+"/"+tok.ID+"/enable", nil); res.status != http.StatusNotFound {
			t.Fatalf("enable after delete = %d, want 404", res.status)
		}
		c.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	})
}

// TestAPISharesTheWebsStore checks that a change through the API is the
// same change as on the pages: listed alike, with the same audit trail,
// naming the token that made it.
func TestAPISharesTheWebsStore(t *testing.T) {
	app := newAPIApp(t)
	ctx := context.Background()
	caller, secret := app.managerToken("Automation bot")
	victim, _ := app.createToken("Old integration")
	c := app.api(t, secret)
	admin := app.signedIn(t, app.admin)

	var created apiTokenJSON
	c.call(http.MethodPost, apiTokens, map[string]any{"name": "Made by API"}).decode(t, http.StatusCreated, &created)
	t.Run("CreatedByTheTokenOnTheList", func(t *testing.T) {
		list := admin.get(tokensPath).text()
		if !strings.Contains(list, "Made by API "+created.ID+" None Automation bot "+caller.ID) {
			t.Fatalf("the list does not show the API's token made by the calling token:\n%s", list)
		}
	})
	t.Run("UpdateOnTheAuditTrail", func(t *testing.T) {
		c.call(http.MethodPut, apiTokens+"/"+victim.ID, map[string]any{"name": "Renamed by API"}).decode(t, http.StatusOK, &apiTokenJSON{})
		page := admin.get(tokensPath + "/" + victim.ID + "?tab=audit").text()
		if !strings.Contains(page, "Renamed by API") || !strings.Contains(page, "Automation bot") {
			t.Fatalf("the audit trail does not show the API's change by the token:\n%s", page)
		}
	})
	t.Run("DeleteGoneFromTheList", func(t *testing.T) {
		if res := c.call(http.MethodDelete, apiTokens+"/"+victim.ID, nil); res.status != http.StatusNoContent {
			t.Fatalf("DELETE = %d", res.status)
		}
		list := admin.get(tokensPath)
		if strings.Contains(list.body, `data-token-id="`+victim.ID+`"`) || strings.Contains(list.text(), "Renamed by API") {
			t.Fatal("the web list still shows the token deleted through the API")
		}
		if res := admin.get(tokensPath + "/" + victim.ID); res.status != http.StatusNotFound {
			t.Fatalf("details page after API delete = %d, want 404", res.status)
		}
		events, err := app.store.AuditEvents(ctx, app.account.ID, victim.ID)
		if err != nil || len(events) == 0 {
			t.Fatal(err)
		}
		top := events[0]
		if top.Action != store.AuditDeleted || top.Actor.ID != caller.ID || top.Actor.Name != "Automation bot" || top.IP == "" {
			t.Fatalf("last event %+v, want deleted by the calling token", top)
		}
	})
}
