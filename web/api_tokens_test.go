package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"apitokens/store"
)

func TestAPITokens(t *testing.T) {
	app := newAPIApp(t)
	caller, secret := app.ownerToken("Automation")
	c := app.api(t, secret)
	billing, catalog := app.module("billing"), app.module("catalog")
	var created apiTokenJSON

	t.Run("Create", func(t *testing.T) {
		app.clock.Add(time.Minute)
		expires := app.clock.Now().Add(30 * 24 * time.Hour)
		res := c.call(http.MethodPost, apiTokens, map[string]any{
			"name": "  Nightly export ", "description": "Exports invoices.",
			"modules": moduleRefs(billing, catalog), "expiresAt": expires.Format(time.RFC3339),
		})
		res.decode(t, http.StatusCreated, &created)
		if res.header.Get("Location") != apiTokens+"/"+created.ID {
			t.Errorf("Location %q", res.header.Get("Location"))
		}
		if id, err := store.ParseSecret(created.Token); err != nil || id != created.ID {
			t.Fatalf("secret %q does not name %s: %v", created.Token, created.ID, err)
		}
		if created.Name != "Nightly export" || created.Description != "Exports invoices." || created.Status != "Active" ||
			created.Icon != nil || created.LastAccessAt != nil || created.ExpiresAt == nil || !created.ExpiresAt.Equal(expires) {
			t.Fatalf("created %+v", created)
		}
		if created.Account != (ref{app.account.ID, app.account.Name}) {
			t.Errorf("account %+v", created.Account)
		}
		if !slices.Equal(created.Modules, []ref{{billing.ID, billing.Name}, {catalog.ID, catalog.Name}}) {
			t.Errorf("modules %+v", created.Modules)
		}
		by := ref{caller.ID, caller.Name}
		if created.Audit.Created.By != by || created.Audit.Updated.By != by || !created.Audit.Created.At.Equal(app.clock.Now()) {
			t.Errorf("audit %+v, want created now by the calling token", created.Audit)
		}
		// The new token has no Access management: it authenticates, but
		// may not use this API.
		app.api(t, created.Token).get(apiTokens).problem(t, http.StatusForbidden, "insufficient-scope")
	})
	t.Run("SecretShownOnce", func(t *testing.T) {
		res := c.get(apiTokens + "/" + created.ID)
		if bytes.Contains(res.body, []byte(created.Token)) || bytes.Contains(res.body, []byte(`"token"`)) {
			t.Fatalf("GET shows the secret again:\n%s", res.body)
		}
	})
	t.Run("Get", func(t *testing.T) {
		var got apiTokenJSON
		c.get(apiTokens+"/"+created.ID).decode(t, http.StatusOK, &got)
		want := created
		want.Token = ""
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Fatalf("GET = %s\nwant %s", gotJSON, wantJSON)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, id := range []string{"TKN-0000-0000", "nonsense", "%00"} {
			c.get(apiTokens+"/"+id).problem(t, http.StatusNotFound, "not-found")
		}
	})
	t.Run("List", func(t *testing.T) {
		for range 3 {
			app.clock.Add(time.Second)
			app.createToken("filler")
		}
		var page apiPage
		c.get(apiTokens+"?offset=1&limit=2").decode(t, http.StatusOK, &page)
		p := page.Meta.Pagination
		if p.Offset != 1 || p.Limit != 2 || p.Total != 5 || len(page.Data) != 2 {
			t.Fatalf("page %+v with %d tokens, want offset 1, limit 2, total 5", p, len(page.Data))
		}
		var all apiPage
		c.get(apiTokens).decode(t, http.StatusOK, &all)
		if all.Meta.Pagination.Limit != store.DefaultPageSize || len(all.Data) != 5 ||
			all.Data[1].ID != page.Data[0].ID || all.Data[4].ID != caller.ID {
			t.Fatalf("full list %+v, want the same order, newest first", all.Meta)
		}
		var past apiPage
		c.get(apiTokens+"?offset=50").decode(t, http.StatusOK, &past)
		if past.Data == nil || len(past.Data) != 0 || past.Meta.Pagination.Total != 5 {
			t.Fatalf("past the end: %s", c.get(apiTokens+"?offset=50").body)
		}
	})
	t.Run("Update", func(t *testing.T) {
		app.clock.Add(time.Minute)
		var got apiTokenJSON
		c.call(http.MethodPut, apiTokens+"/"+created.ID, map[string]any{
			"name": "Nightly export v2", "description": "", "modules": moduleRefs(catalog),
		}).decode(t, http.StatusOK, &got)
		if got.Name != "Nightly export v2" || got.Description != "" || len(got.Modules) != 1 || got.Modules[0].ID != catalog.ID {
			t.Fatalf("updated %+v", got)
		}
		if got.Audit.Updated.By != (ref{caller.ID, caller.Name}) || !got.Audit.Updated.At.Equal(app.clock.Now()) {
			t.Fatalf("updated %+v", got.Audit.Updated)
		}
	})
	t.Run("UpdateKeepsWhatIsLeftOut", func(t *testing.T) {
		var got apiTokenJSON
		c.call(http.MethodPut, apiTokens+"/"+created.ID, map[string]any{"description": "Only this"}).decode(t, http.StatusOK, &got)
		if got.Name != "Nightly export v2" || got.Description != "Only this" || len(got.Modules) != 1 {
			t.Fatalf("partial update lost data: %+v", got)
		}
	})
	t.Run("DisableAndEnable", func(t *testing.T) {
		other, otherSecret := app.managerToken("Other manager")
		var got apiTokenJSON
		c.call(http.MethodPost, apiTokens+"/"+created.ID+"/disable", nil).decode(t, http.StatusOK, &got)
		if got.Status != "Disabled" {
			t.Fatalf("after disable: %s", got.Status)
		}
		app.api(t, created.Token).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		c.call(http.MethodPost, apiTokens+"/"+created.ID+"/disable", nil).decode(t, http.StatusOK, &got)
		if got.Status != "Disabled" {
			t.Fatalf("disable twice: %s", got.Status)
		}
		c.call(http.MethodPost, apiTokens+"/"+created.ID+"/enable", nil).decode(t, http.StatusOK, &got)
		if got.Status != "Active" {
			t.Fatalf("after enable: %s", got.Status)
		}
		// Same secret, working again (403: it authenticates, without the module).
		app.api(t, created.Token).get(apiTokens).problem(t, http.StatusForbidden, "insufficient-scope")
		// A token may disable itself; its next call is refused.
		self := app.api(t, otherSecret)
		self.call(http.MethodPost, apiTokens+"/"+other.ID+"/disable", nil).decode(t, http.StatusOK, &got)
		if got.Status != "Disabled" || got.Audit.Updated.By.ID != other.ID {
			t.Fatalf("self-disabled %+v", got)
		}
		self.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("Delete", func(t *testing.T) {
		res := c.call(http.MethodDelete, apiTokens+"/"+created.ID, nil)
		if res.status != http.StatusNoContent || len(res.body) != 0 {
			t.Fatalf("DELETE = %d %s, want 204 and no body", res.status, res.body)
		}
		c.get(apiTokens+"/"+created.ID).problem(t, http.StatusNotFound, "not-found")
		c.call(http.MethodDelete, apiTokens+"/"+created.ID, nil).problem(t, http.StatusNotFound, "not-found")
		for _, action := range []string{"/enable", "/disable"} {
			c.call(http.MethodPost, apiTokens+"/"+created.ID+action, nil).problem(t, http.StatusNotFound, "not-found")
		}
		c.call(http.MethodPut, apiTokens+"/"+created.ID, map[string]any{"name": "back"}).problem(t, http.StatusNotFound, "not-found")
		app.api(t, created.Token).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("Icon", func(t *testing.T) {
		logo := pngLogo(t)
		tok, _, err := app.store.CreateToken(context.Background(), store.NewToken{AccountID: app.account.ID, Name: "With logo", Logo: logo},
			store.UserActor(app.admin.ID, ""))
		if err != nil {
			t.Fatal(err)
		}
		var got apiTokenJSON
		c.get(apiTokens+"/"+tok.ID).decode(t, http.StatusOK, &got)
		if got.Icon == nil || *got.Icon != apiTokens+"/"+tok.ID+"/icon" {
			t.Fatalf("icon %v", got.Icon)
		}
		res := c.get(*got.Icon)
		if res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" || !bytes.Equal(res.body, logo) {
			t.Fatalf("GET icon = %d %s, %d bytes", res.status, res.header.Get("Content-Type"), len(res.body))
		}
		c.get(apiTokens+"/"+caller.ID+"/icon").problem(t, http.StatusNotFound, "not-found")
		app.api(t, "").get(*got.Icon).problem(t, http.StatusUnauthorized, "unauthorized")
	})
}

func TestAPIAccountIsolation(t *testing.T) {
	app := newAPIApp(t)
	ctx := context.Background()
	_, secretA := app.managerToken("A's manager")
	otherAccess := store.Module{}
	mods, _ := app.store.Modules(ctx, app.otherAdmin.AccountID)
	for _, m := range mods {
		if m.Key == store.ModuleAccessManagement {
			otherAccess = m
		}
	}
	tokB, secretB := app.createTokenIn(app.otherAdmin, "B's manager", otherAccess)
	logo := pngLogo(t)
	withLogo, _, err := app.store.CreateToken(ctx, store.NewToken{AccountID: app.otherAdmin.AccountID, Name: "B's logo", Logo: logo},
		store.UserActor(app.otherAdmin.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	a := app.api(t, secretA)
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", apiTokens + "/" + tokB.ID, nil},
		{"PUT", apiTokens + "/" + tokB.ID, map[string]any{"name": "taken over"}},
		{"POST", apiTokens + "/" + tokB.ID + "/disable", nil},
		{"POST", apiTokens + "/" + tokB.ID + "/enable", nil},
		{"DELETE", apiTokens + "/" + tokB.ID, nil},
		{"GET", apiTokens + "/" + withLogo.ID + "/icon", nil},
	} {
		t.Run(tc.method+strings.ReplaceAll(strings.TrimPrefix(tc.path, apiTokens), "/", "_"), func(t *testing.T) {
			a.call(tc.method, tc.path, tc.body).problem(t, http.StatusNotFound, "not-found")
		})
	}
	t.Run("ListShowsOwnOnly", func(t *testing.T) {
		var page apiPage
		a.get(apiTokens).decode(t, http.StatusOK, &page)
		if page.Meta.Pagination.Total != 1 || page.Data[0].Account.ID != app.account.ID {
			t.Fatalf("A sees %+v", page)
		}
	})
	t.Run("BUntouched", func(t *testing.T) {
		var got apiTokenJSON
		app.api(t, secretB).get(apiTokens+"/"+tokB.ID).decode(t, http.StatusOK, &got)
		if got.Name != "B's manager" || got.Status != "Active" || got.Account.ID != app.otherAdmin.AccountID {
			t.Fatalf("B's token %+v", got)
		}
		events, _ := app.store.AuditEvents(ctx, tokB.AccountID, tokB.ID)
		if len(events) != 1 {
			t.Fatalf("B's token has events %+v, want only its creation", events)
		}
	})
}

func TestAPIConcurrentDelete(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("Automation")
	c := app.api(t, secret)
	for round := range 8 {
		tok, _ := app.createToken(fmt.Sprintf("Doomed %d", round))
		var wg sync.WaitGroup
		start := make(chan struct{})
		statuses := make([]int, 2)
		errs := make([]error, 2)
		for i := range statuses {
			req := c.request(http.MethodDelete, apiTokens+"/"+tok.ID, "", nil)
			wg.Go(func() {
				<-start
				res, err := c.do(req)
				if err != nil {
					errs[i] = err
					return
				}
				statuses[i] = res.status
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		slices.Sort(statuses)
		if statuses[0] != http.StatusNoContent || statuses[1] != http.StatusNotFound {
			t.Fatalf("round %d: two DELETEs answered %v, want one 204 and one 404", round, statuses)
		}
		if deletes := app.auditCount(t, tok.ID, store.AuditDeleted); deletes != 1 {
			t.Fatalf("round %d: %d delete events, want 1", round, deletes)
		}
	}
}

// TestAPIPutBackWhatWasRead: a client that reads a token, changes a member
// and sends the whole object back has it saved, even when the token was
// used between the read and the update; read-only members may come back as
// a read showed them, times written any way, but not changed.
func TestAPIPutBackWhatWasRead(t *testing.T) {
	app := newAPIApp(t)
	caller, secret := app.managerToken("Caller")
	target, targetSecret := app.createToken("Round trip", app.module(store.ModuleAccessManagement))
	c := app.api(t, secret)
	path := apiTokens + "/" + target.ID
	read := func(c *apiClient, path string) map[string]any {
		var tok map[string]any
		c.get(path).decode(t, http.StatusOK, &tok)
		return tok
	}
	// The server records an access a few seconds after the call.
	use := func(secret string) {
		app.clock.Add(2 * time.Minute)
		app.api(t, secret).get(apiTokens)
		if err := app.srv.FlushUsage(t.Context()); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("OK", func(t *testing.T) {
		use(targetSecret)
		tok := read(c, path)
		use(targetSecret) // the copy read is now behind
		tok["name"] = "Round trip, renamed"
		// The same instant, written as another client would.
		at, _ := time.Parse(time.RFC3339Nano, tok["audit"].(map[string]any)["created"].(map[string]any)["at"].(string))
		tok["audit"].(map[string]any)["created"].(map[string]any)["at"] = at.In(time.FixedZone("", 2*60*60)).Format("2006-01-02T15:04:05.000000-07:00")
		var got map[string]any
		c.call(http.MethodPut, path, tok).decode(t, http.StatusOK, &got)
		if got["name"] != "Round trip, renamed" || got["status"] != "Active" || got["lastAccessAt"] == tok["lastAccessAt"] {
			t.Fatalf("after the round trip: %v", got)
		}
	})
	t.Run("ItselfAfterUse", func(t *testing.T) {
		self := apiTokens + "/" + caller.ID
		tok := read(c, self)
		use(secret)
		tok["description"] = "Updates itself"
		var got map[string]any
		c.call(http.MethodPut, self, tok).decode(t, http.StatusOK, &got)
		if got["description"] != "Updates itself" {
			t.Fatalf("after the round trip: %v", got)
		}
	})
	for _, tc := range []struct {
		member string
		value  any
		says   string
	}{
		{"status", "Disabled", "…/disable"},
		{"id", "TKN-0000-0001", "read-only"},
		{"expiresAt", "2030-01-01T00:00:00Z", "read-only"},
		{"lastAccessAt", "yesterday", "read-only"},
		{"audit", map[string]any{"created": "today"}, "read-only"},
	} {
		t.Run("Err"+tc.member, func(t *testing.T) {
			before := read(c, path)
			tok := read(c, path)
			tok["name"] = "Not saved"
			tok[tc.member] = tc.value
			p := c.call(http.MethodPut, path, tok).problem(t, http.StatusBadRequest, "validation-failed")
			if len(p.Errors) != 1 || len(p.Errors[tc.member]) != 1 || !strings.Contains(p.Errors[tc.member][0], tc.says) {
				t.Fatalf("errors %v, want %s alone, saying %q", p.Errors, tc.member, tc.says)
			}
			if now := read(c, path); now["name"] != before["name"] || now["status"] != before["status"] {
				t.Fatalf("a refused update changed the token: %v", now)
			}
		})
	}
}

// TestAPICountOnlyAndCap: as on the platform, limit=0 answers the total of
// what the filter matches with no tokens, and a limit over 100 gets 100,
// which $meta says, so that a client paging by it reads every token once.
func TestAPICountOnlyAndCap(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("Caller")
	for i := range 104 {
		app.createToken(fmt.Sprintf("Batch %03d", i))
	}
	c := app.api(t, secret)
	var page struct {
		Meta struct {
			Pagination struct{ Offset, Limit, Total int } `json:"pagination"`
		} `json:"$meta"`
		Data []map[string]any `json:"data"`
	}

	c.get(apiTokens+"?ilike(name,'Batch*')&limit=0").decode(t, http.StatusOK, &page)
	if p := page.Meta.Pagination; p.Total != 104 || p.Limit != 0 || page.Data == nil || len(page.Data) != 0 {
		t.Fatalf("count only: %+v with %d tokens, want total 104, limit 0 and data []", p, len(page.Data))
	}

	seen := map[string]bool{}
	for offset := 0; ; {
		c.get(fmt.Sprintf("%s?ilike(name,'Batch*')&limit=500&offset=%d", apiTokens, offset)).decode(t, http.StatusOK, &page)
		p := page.Meta.Pagination
		if p.Limit != store.MaxPageSize || p.Total != 104 {
			t.Fatalf("limit=500 answered %+v, want limit %d of 104", p, store.MaxPageSize)
		}
		for _, tok := range page.Data {
			if seen[tok["id"].(string)] {
				t.Fatalf("%s read twice", tok["id"])
			}
			seen[tok["id"].(string)] = true
		}
		if offset += p.Limit; offset >= p.Total {
			break
		}
	}
	if len(seen) != 104 {
		t.Fatalf("paging by $meta read %d tokens, want 104", len(seen))
	}
}
