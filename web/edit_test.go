package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"apitokens/store"
)

// pngImage is a w×h PNG.
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
	if list := c.follow(res).text(); !strings.Contains(list, "The API token “After” ("+tok.ID+") has been updated successfully.") {
		t.Fatalf("list after save:\n%s", list)
	}
	audit := c.get(tokensPath + "/" + tok.ID + "?tab=audit").text()
	for _, want := range []string{"Ada Admin " + app.admin.ID, "API token updated Name Before → changed to After",
		"Description (none) → changed to Now described", "Modules " + app.modules[0].Name + " → changed to " + app.modules[1].Name} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit trail lacks %q:\n%s", want, audit)
		}
	}
	t.Run("NoChange", func(t *testing.T) {
		res := c.submit(editPath, editPath, url.Values{"name": {"After"}, "description": {"Now described"}, "modules": {app.modules[1].ID}})
		if msg := c.follow(res).text(); !strings.Contains(msg, "was not changed: there was nothing to save") {
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
