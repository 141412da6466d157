package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

const tokensPath = "/settings/api-tokens"

func TestTokenList(t *testing.T) {
	app := newTestApp(t)
	t.Run("EmptyState", func(t *testing.T) {
		page := app.signedIn(t, app.admin).get(tokensPath)
		if page.status != 200 || !strings.Contains(page.text(), "No API tokens yet") {
			t.Fatalf("empty list = %d:\n%s", page.status, page.text())
		}
	})
	one, _ := app.createToken("Billing export", app.modules[1])
	app.clock.Add(time.Hour)
	many, _ := app.createToken("Everything", app.modules...)
	theirs, _ := app.createTokenIn(app.otherAdmin, "Not yours")
	page := app.signedIn(t, app.admin).get(tokensPath)
	text := page.text()
	t.Run("Columns", func(t *testing.T) {
		for _, want := range []string{"API token", "Modules", "Created by", "Date created", "Last access", "Status"} {
			if !strings.Contains(text, want) {
				t.Errorf("no column %q", want)
			}
		}
	})
	t.Run("Rows", func(t *testing.T) {
		for _, want := range []string{
			"Billing export " + one.ID + " " + app.modules[1].Name + " " + app.modules[1].ID + " Ada Admin " + app.admin.ID + " 4 May 2026 10:30 UTC Never 0 Active",
			"Everything " + many.ID + " 4 modules Ada Admin",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("list lacks %q:\n%s", want, text)
			}
		}
		if strings.Index(text, many.ID) > strings.Index(text, one.ID) {
			t.Error("the newest token is not first")
		}
		if !strings.Contains(page.body, `href="/settings/api-tokens/`+one.ID+`"`) {
			t.Error("the token name does not link to its details page")
		}
	})
	t.Run("OnlyOwnAccount", func(t *testing.T) {
		if strings.Contains(text, theirs.ID) || strings.Contains(text, "Not yours") {
			t.Fatal("another account's token is listed")
		}
	})
	t.Run("ActionsMenu", func(t *testing.T) {
		// The list is the pages' default origin, so its links name none.
		for _, want := range []string{"/" + one.ID + `/disable"`, "/" + one.ID + `/delete"`, "/" + one.ID + `/edit"`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("row menu lacks %s", want)
			}
		}
		if strings.Contains(page.body, "/"+one.ID+"/enable") {
			t.Error("Enable is offered on an active token")
		}
	})
	t.Run("OldOffsetLinkShowsFirstPage", func(t *testing.T) {
		// Pages go by cursor now; a bookmark from before is not an error.
		res := app.signedIn(t, app.admin).get(tokensPath + "?offset=-5x")
		if res.status != 200 || !strings.Contains(res.text(), "Everything") || !strings.Contains(res.text(), "1–2 of 2 rows") {
			t.Fatalf("offset=-5x = %d:\n%s", res.status, res.text())
		}
	})
}

func TestTokenDetails(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Storefront sync", app.modules[2])
	c := app.signedIn(t, app.admin)
	path := tokensPath + "/" + tok.ID
	cases := []struct {
		tab  string
		want []string
	}{
		{"", []string{"API token " + tok.ID + " Storefront sync Active Edit", "Account " + app.account.Name + " " + app.account.ID + " Last access Never",
			"No description", "API endpoint " + app.url + "/public/v1/accounts/api-tokens API token"}},
		{"modules", []string{app.modules[2].Name, app.modules[2].ID}},
		{"details", []string{"Created 4 May 2026 10:30 UTC by Ada Admin " + app.admin.ID, "Last access Never", "Expires Never"}},
		{"audit", []string{"4 May 2026 10:30 UTC Ada Admin " + app.admin.ID + " 127.0.0.1 Unknown API token created View details of record",
			"1–1 of 1 record Page 1 of 1"}},
		{"nonsense", []string{"No description"}},
	}
	for _, tc := range cases {
		t.Run("Tab_"+tc.tab, func(t *testing.T) {
			res := c.get(path + "?tab=" + tc.tab)
			if res.status != 200 {
				t.Fatalf("status %d", res.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.text(), w) {
					t.Errorf("lacks %q:\n%s", w, res.text())
				}
			}
		})
	}
	t.Run("ErrMalformedID", func(t *testing.T) {
		for _, id := range []string{"nope", "TKN-1", "'%20OR%201=1--", "TKN-0000-0000%00"} {
			if res := c.get(tokensPath + "/" + id); res.status != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", id, res.status)
			}
		}
		if !app.tokenExists(app.account.ID, tok.ID) {
			t.Fatal("token lost")
		}
	})
}

func TestDeleteFlow(t *testing.T) {
	app := newTestApp(t)
	keep, _ := app.createToken("Keep me")
	tok, secret := app.createToken("ERP integration", app.modules[0])
	c := app.signedIn(t, app.admin)
	confirmPath := tokensPath + "/" + tok.ID + "/delete"

	t.Run("ConfirmationPage", func(t *testing.T) {
		res := c.get(confirmPath)
		text := res.text()
		for _, want := range []string{"Delete API token", "ERP integration", tok.ID, "can't be reinstated or reused", "Cancel"} {
			if !strings.Contains(text, want) {
				t.Errorf("confirmation page lacks %q:\n%s", want, text)
			}
		}
		if !strings.Contains(res.body, `<a class="button" href="/settings/api-tokens">Cancel</a>`) {
			t.Error("Cancel does not lead back to the list")
		}
		if !app.tokenExists(app.account.ID, tok.ID) {
			t.Fatal("showing the confirmation deleted the token")
		}
	})
	t.Run("ConfirmationFromDetails", func(t *testing.T) {
		details := c.get(tokensPath + "/" + tok.ID)
		for _, want := range []string{`/delete?from=details"`, `/edit?from=details"`} {
			if !strings.Contains(details.body, tokensPath+"/"+tok.ID+want) {
				t.Fatalf("the details page does not link to %s", want)
			}
		}
		res := c.get(confirmPath + "?from=details")
		if !strings.Contains(res.body, `<a class="button" href="`+tokensPath+"/"+tok.ID+`">Cancel</a>`) {
			t.Error("Cancel does not lead back to the details page")
		}
	})
	t.Run("Delete", func(t *testing.T) {
		res := c.submit(confirmPath, tokensPath+"/"+tok.ID+"/delete", url.Values{"from": {"details"}})
		if res.status != http.StatusSeeOther || res.location() != tokensPath {
			t.Fatalf("delete = %d to %q, want 303 to the list", res.status, res.location())
		}
		list := c.follow(res)
		want := "The API token “ERP integration” (" + tok.ID + ") has been deleted successfully."
		if !strings.Contains(list.text(), want) {
			t.Fatalf("list lacks %q:\n%s", want, list.text())
		}
		if strings.Contains(list.body, `data-token-id="`+tok.ID+`"`) {
			t.Fatal("deleted token still listed")
		}
		if !strings.Contains(list.text(), keep.ID) {
			t.Fatal("the other token vanished")
		}
		if again := c.get(tokensPath); strings.Contains(again.text(), "deleted successfully") {
			t.Fatal("the message shows again on reload")
		}
	})
	t.Run("GoneEverywhere", func(t *testing.T) {
		for _, p := range []string{"", "/delete", "/enable", "/disable"} {
			if res := c.get(tokensPath + "/" + tok.ID + p); res.status != http.StatusNotFound {
				t.Errorf("GET %s after delete = %d, want 404", p, res.status)
			}
		}
		if _, err := app.store.TokenBySecret(context.Background(), secret); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the deleted secret still authenticates: %v", err)
		}
	})
	t.Run("ErrDeleteTwice", func(t *testing.T) {
		res := c.submit(tokensPath, tokensPath+"/"+tok.ID+"/delete", nil)
		if res.status != http.StatusNotFound {
			t.Fatalf("second delete = %d, want 404", res.status)
		}
	})
}

func TestEnableDisable(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.createToken("Partner portal")
	c := app.signedIn(t, app.admin)
	ctx := context.Background()
	t.Run("DisableFromList", func(t *testing.T) {
		page := c.get(tokensPath + "/" + tok.ID + "/disable")
		if !strings.Contains(page.text(), "Disable API token") {
			t.Fatalf("confirmation:\n%s", page.text())
		}
		res := c.post(tokensPath+"/"+tok.ID+"/disable", url.Values{"_csrf": {page.csrf(t)}, "from": {"list"}})
		list := c.follow(res)
		if !strings.Contains(list.text(), "The API token “Partner portal” ("+tok.ID+") has been disabled successfully.") {
			t.Fatalf("no message:\n%s", list.text())
		}
		if !strings.Contains(list.text(), tok.ID+" None Ada Admin "+app.admin.ID+" 4 May 2026 10:30 UTC Never 0 Disabled") {
			t.Fatalf("row does not show Disabled:\n%s", list.text())
		}
		if _, err := app.store.TokenBySecret(ctx, secret); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("a disabled token authenticates")
		}
	})
	t.Run("DisableTwiceIsHarmless", func(t *testing.T) {
		res := c.submit(tokensPath, tokensPath+"/"+tok.ID+"/disable", nil)
		page := c.follow(res)
		if !strings.Contains(page.text(), "is already disabled; nothing was changed") {
			t.Fatalf("second disable:\n%s", page.text())
		}
	})
	t.Run("EnableFromDetails", func(t *testing.T) {
		res := c.submit(tokensPath+"/"+tok.ID, tokensPath+"/"+tok.ID+"/enable", url.Values{"from": {"details"}})
		if res.location() != tokensPath+"/"+tok.ID {
			t.Fatalf("enable went to %q, want the details page", res.location())
		}
		page := c.follow(res)
		if !strings.Contains(page.text(), "("+tok.ID+") has been enabled successfully.") {
			t.Fatalf("no message:\n%s", page.text())
		}
		if _, err := app.store.TokenBySecret(ctx, secret); err != nil {
			t.Fatal("the re-enabled token does not authenticate with its old secret")
		}
	})
	t.Run("EnableOnActiveIsNotOffered", func(t *testing.T) {
		res := c.get(tokensPath + "/" + tok.ID + "/enable?from=details")
		if res.status != http.StatusSeeOther {
			t.Fatalf("enable confirmation for an active token = %d, want a redirect", res.status)
		}
		if page := c.follow(res); !strings.Contains(page.text(), "is already active") {
			t.Fatalf("no explanation:\n%s", page.text())
		}
	})
}

func TestTokenListPages(t *testing.T) {
	app := newTestApp(t)
	var ids []string
	for i := range store.ListPageSize + 3 {
		tok, _ := app.createToken(fmt.Sprintf("token %02d", i))
		ids = append(ids, tok.ID)
		app.clock.Add(time.Second)
	}
	c := app.signedIn(t, app.admin)
	first := c.get(tokensPath)
	if !strings.Contains(first.text(), "1–10 of 13 rows") || first.link("prev") != "" {
		t.Fatalf("first page:\n%s", first.text())
	}
	next := first.link("next")
	if !strings.HasPrefix(next, tokensPath+"?after=") {
		t.Fatalf("link to the next page %q, want a cursor", next)
	}
	second := c.get(next)
	if !strings.Contains(second.text(), "11–13 of 13 rows") || second.link("next") != "" ||
		!strings.Contains(second.text(), "token 00") || strings.Contains(second.text(), "token 12") {
		t.Fatalf("second page:\n%s", second.text())
	}
	if back := c.get(second.link("prev")); !strings.Contains(back.text(), "1–10 of 13 rows") ||
		!strings.Contains(back.text(), "token 12") {
		t.Fatalf("Previous from the second page:\n%s", back.text())
	}
	t.Run("PastTheEnd", func(t *testing.T) {
		// The tokens of the second page go while the first is open: its
		// Next link leads to what is now the last page.
		for _, id := range ids[:3] {
			if _, err := app.store.DeleteToken(context.Background(), app.account.ID, id, store.UserActor(app.admin.ID, "")); err != nil {
				t.Fatal(err)
			}
		}
		res := c.get(next)
		if res.status != http.StatusOK || !strings.Contains(res.text(), "1–10 of 10 rows") || res.link("next") != "" {
			t.Fatalf("Next past the end = %d:\n%s", res.status, res.text())
		}
	})
}
