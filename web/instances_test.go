package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"apitokens/store"
	"apitokens/store/storetest"
	"apitokens/web"
	"apitokens/web/paths"
)

// on is the client with its cookies sent to another instance, as a load
// balancer may send any request of a browser to any instance.
func (c *client) on(b *testApp) *client {
	d := *c
	d.app = b
	return &d
}

// on is the API client calling another instance.
func (c *apiClient) on(b *testApp) *apiClient {
	d := *c
	d.app = b
	return &d
}

// TestPostgresInstances runs two instances of the server on one PostgreSQL
// database, with the same keys, as a load balancer would have them, and
// checks what must hold whichever instance a request reaches.
func TestPostgresInstances(t *testing.T) {
	a := newTestAppOn(t, storetest.PostgresDSN(t), func(c *web.Config) { c.TrustedProxies = web.LoopbackProxies })
	b := a.another()

	t.Run("SessionOnEveryInstance", func(t *testing.T) {
		onA := a.signedIn(t, a.admin)
		onB := onA.on(b)
		if res := onB.get(tokensPath); res.status != http.StatusOK {
			t.Fatalf("a session begun on A, on B = %d, want 200", res.status)
		}
		// A form read from A's page is accepted by B.
		page := onA.get(tokensPath)
		res := onB.post(paths.TokenColumns, url.Values{"_csrf": {page.csrf(t)}, "column": {"modules"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("A's form sent to B = %d, want 303:\n%s", res.status, res.text())
		}
		// Signing out on A ends the session on B.
		if res := onA.post(paths.Logout, url.Values{"_csrf": {onA.get(tokensPath).csrf(t)}}); res.status != http.StatusSeeOther {
			t.Fatalf("sign-out = %d", res.status)
		}
		if res := onB.get(tokensPath); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), "/login") {
			t.Fatalf("after signing out on A, B = %d → %q, want the sign-in page", res.status, res.location())
		}
	})

	t.Run("RevokedOnOneRefusedByAll", func(t *testing.T) {
		admin := a.signedIn(t, a.admin)
		for _, action := range []string{"disable", "delete"} {
			tok, secret := a.managerToken("Revoked by " + action)
			onA, onB := a.api(t, secret), a.api(t, secret).on(b)
			onA.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
			onB.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
			if res := admin.submit(tokensPath, tokensPath+"/"+tok.ID+"/"+action, nil); res.status != http.StatusSeeOther {
				t.Fatalf("%s on A = %d", action, res.status)
			}
			onB.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
			onA.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		}
	})

	t.Run("PagesShowTheOthersChange", func(t *testing.T) {
		// What A keeps of the account for its pages gives way, at A's next
		// request, to a change made through B.
		admin := a.signedIn(t, a.admin)
		tok, secret := a.managerToken("Named on A")
		for range 2 { // the second from what A kept
			if list := admin.get(tokensPath); !strings.Contains(list.text(), "Named on A") {
				t.Fatalf("the list on A does not show the token:\n%s", list.text())
			}
			if page := admin.get(tokensPath + "/" + tok.ID); !strings.Contains(page.text(), "Named on A") {
				t.Fatalf("the details page on A does not show the token")
			}
		}
		a.api(t, secret).on(b).call(http.MethodPut, apiTokens+"/"+tok.ID, map[string]any{"name": "Renamed on B"}).
			decode(t, http.StatusOK, &map[string]any{})
		for _, path := range []string{tokensPath, tokensPath + "/" + tok.ID} {
			page := admin.get(path)
			if !strings.Contains(page.text(), "Renamed on B") || strings.Contains(page.text(), "Named on A") {
				t.Errorf("%s on A after a rename on B does not show the new name", path)
			}
		}
	})

	t.Run("DeletedThroughBothAtOnce", func(t *testing.T) {
		onA := a.signedIn(t, a.admin)
		onB := onA.on(b)
		for round := range 5 {
			tok, _ := a.createToken("Deleted twice")
			csrf := onA.get(tokensPath).csrf(t)
			statuses := make([]int, 2)
			var wg sync.WaitGroup
			for i, c := range []*client{onA, onB} {
				wg.Go(func() { statuses[i] = c.post(tokensPath+"/"+tok.ID+"/delete", url.Values{"_csrf": {csrf}}).status })
			}
			wg.Wait()
			if !(statuses[0] == http.StatusSeeOther && statuses[1] == http.StatusNotFound ||
				statuses[0] == http.StatusNotFound && statuses[1] == http.StatusSeeOther) {
				t.Fatalf("round %d: deletes through A and B = %v, want one 303 and one 404", round, statuses)
			}
			if deletes := a.auditCount(t, tok.ID, store.AuditDeleted); deletes != 1 {
				t.Fatalf("round %d: %d delete events, want 1", round, deletes)
			}
		}
	})

	t.Run("OneWizardAddsOneTokenOnTwoInstances", func(t *testing.T) {
		onA := a.signedIn(t, a.admin)
		page := onA.step(onA.get(newTokenPath), url.Values{"name": {"Sent to both"}, "go": {"next"}}, nil)
		page = onA.step(page, url.Values{"modules": {a.modules[1].ID}, "go": {"next"}}, nil)
		before := a.tokenCount(a.account.ID)
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, c := range []*client{onA, onA.on(b)} {
			wg.Go(func() { statuses[i] = c.step(page, url.Values{"go": {"add"}}, nil).status })
		}
		wg.Wait()
		if n := a.tokenCount(a.account.ID) - before; n != 1 {
			t.Fatalf("one wizard's Add sent to A and B made %d tokens (statuses %v), want 1", n, statuses)
		}
		if statuses[0] != http.StatusSeeOther || statuses[1] != http.StatusSeeOther {
			t.Fatalf("statuses %v, want both to lead to the token", statuses)
		}
	})

	t.Run("BearerFailuresCountAcrossInstances", func(t *testing.T) {
		_, secret := a.managerToken("Guessed at")
		attacker := a.api(t, forgeSecret(secret))
		for i := range 10 {
			on := attacker
			if i%2 == 1 {
				on = attacker.on(b)
			}
			on.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		}
		// Ten failures, five on each: the eleventh is refused on both.
		attacker.get(apiTokens).problem(t, http.StatusTooManyRequests, "too-many-failures")
		attacker.on(b).get(apiTokens).problem(t, http.StatusTooManyRequests, "too-many-failures")
		// The right token from that address still works.
		attacker.as(secret).on(b).get(apiTokens).decode(t, http.StatusOK, &apiPage{})
	})

	t.Run("RevealPasswordsCountAcrossInstances", func(t *testing.T) {
		tok, secret := a.createToken("Revealed")
		onA := a.signedIn(t, a.admin)
		// Past the while after signing in when no password is asked.
		a.clock.Add(11 * time.Minute)
		details, reveal := tokensPath+"/"+tok.ID, tokensPath+"/"+tok.ID+"/reveal"
		for i := range 5 {
			on := onA
			if i%2 == 1 {
				on = onA.on(b)
			}
			if res := on.submit(details, reveal, url.Values{"password": {"guess"}}); res.status != http.StatusUnprocessableEntity {
				t.Fatalf("wrong password %d = %d, want 422", i+1, res.status)
			}
		}
		for _, on := range []*client{onA, onA.on(b)} {
			res := on.submit(details, reveal, url.Values{"password": {password}})
			if res.status != http.StatusTooManyRequests || strings.Contains(res.body, secret) {
				t.Fatalf("after five wrong passwords on two instances, reveal on %s = %d, want 429", on.app.url, res.status)
			}
		}
	})

	t.Run("LastAccessSeenEverywhere", func(t *testing.T) {
		tok, secret := a.managerToken("Used on A")
		a.api(t, secret).get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		if err := a.srv.FlushUsage(t.Context()); err != nil {
			t.Fatal(err)
		}
		var got struct{ LastAccessAt *time.Time }
		b.api(t, secret).get(apiTokens+"/"+tok.ID).decode(t, http.StatusOK, &got)
		if got.LastAccessAt == nil || !got.LastAccessAt.Equal(a.clock.Now().Truncate(time.Millisecond)) {
			t.Fatalf("B shows last access %v, want A's call at %v", got.LastAccessAt, a.clock.Now())
		}
	})
	t.Run("UsageAddsUpAcrossInstances", func(t *testing.T) {
		// Calls through both at once, each writing its counts: the sum
		// is every call, seen from either, and in the dialog.
		tok, secret := a.managerToken("Used on both")
		var wg sync.WaitGroup
		for _, on := range []*testApp{a, b, a, b} {
			c := a.api(t, secret).on(on)
			wg.Go(func() {
				for range 25 {
					c.get(apiTokens + "/" + tok.ID)
				}
				if err := on.srv.FlushUsage(t.Context()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, on := range []*testApp{a, b} {
			var u apiUsageJSON
			a.api(t, secret).on(on).get(apiTokens+"/"+tok.ID+"/usage").decode(t, http.StatusOK, &u)
			// The reading call itself is counted later, at the next flush.
			if u.Calls24h != 100 {
				t.Fatalf("%s counts %d calls, want the 100 made through both", on.url, u.Calls24h)
			}
		}
		page := a.signedIn(t, a.admin).on(b).get(tokensPath + "/" + tok.ID + "/delete")
		if got := usageNote(t, page); !strings.HasPrefix(got, "Used 100 times in the last 7 days") {
			t.Fatalf("B's confirmation says %q", got)
		}
	})
	// Last: the sign-ins it refuses are this machine's address's.
	t.Run("WrongPasswordsCountAcrossInstances", func(t *testing.T) {
		u := a.mustUser(a.account, "guessed@acme.test", "Gus Guessed", store.RoleAdmin)
		guesser := a.client(t)
		for i := range 10 {
			on := guesser
			if i%2 == 1 {
				on = guesser.on(b)
			}
			res := on.submit("/login", "/login", url.Values{"email": {u.Email}, "password": {"guess"}})
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("wrong password %d = %d, want 422", i+1, res.status)
			}
		}
		for _, on := range []*client{guesser, guesser.on(b)} {
			res := on.submit("/login", "/login", url.Values{"email": {u.Email}, "password": {password}})
			if res.status != http.StatusTooManyRequests {
				t.Fatalf("after ten wrong passwords on two instances, sign-in on %s = %d, want 429", on.app.url, res.status)
			}
		}
	})
}
