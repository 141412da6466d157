package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"apitokens/store"
	"apitokens/web"
)

// FuzzTokenForms posts arbitrary form bodies, with a valid CSRF token, to
// the Add wizard and the Edit form. Whatever comes in, the answer is a page
// or a redirect with a 2xx, 3xx or 4xx status — never a 500 — and the token
// being edited keeps a name the rules allow.
func FuzzTokenForms(f *testing.F) {
	app := newTestApp(f)
	tok, _ := app.createToken("Fuzzed", app.modules[0])
	for _, seed := range []string{
		"name=ok&description=&modules=" + app.modules[1].ID,
		"name=&go=next&step=modules",
		"name=%00&description=%FF%FE",
		"name=" + strings.Repeat("x", 201) + "&expiry=custom&expires_on=2020-13-45",
		"step=overview&go=add&name=a&logo_data=%21%21",
		"status=disabled&account_id=ACC-0000-0000&name=x",
		"name=a&name=b&modules=MOD-0000-0000&modules=",
		"%zz=1&name",
	} {
		f.Add(seed)
	}
	// One browser for every input: signing in for each would spend the
	// fuzzing time on sign-ins.
	browser := app.signedIn(f, app.admin)
	csrf := browser.get(tokensPath).csrf(f)
	f.Fuzz(func(t *testing.T, body string) {
		c := *browser // the same cookies, failing this input's test
		c.t = t
		for _, path := range []string{tokensPath + "/new", tokensPath + "/" + tok.ID + "/edit"} {
			req, err := http.NewRequest(http.MethodPost, app.url+path, strings.NewReader(body+"&_csrf="+url.QueryEscape(csrf)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res := c.do(req)
			if res.status == http.StatusSeeOther && strings.HasPrefix(res.location(), "/login") {
				t.Fatalf("POST %s with %q ended the session", path, body)
			}
			if res.status >= 500 || res.status < 200 {
				t.Fatalf("POST %s with %q = %d:\n%.400s", path, body, res.status, res.text())
			}
		}
		got, err := app.store.TokenByID(t.Context(), app.account.ID, tok.ID)
		if err != nil || got.Name == "" || len([]rune(got.Name)) > 200 || strings.ContainsRune(got.Name, 0) {
			t.Fatalf("token after %q: %+v, %v", body, got, err)
		}
	})
}

// FuzzAPIListQuery: no query string of the list or of one token gets a
// 500: it is answered (200) or refused (400) with a problem.
func FuzzAPIListQuery(f *testing.F) {
	app := newAPIApp(f)
	tok, secret := app.managerToken("Fuzz manager")
	for _, seed := range []string{
		"limit=100&offset=0&select=-name&and(eq(id,'" + tok.ID + "'),eq(name,'E2E%20Seeded%20Token'))",
		"order=-audit.created.at,name&select=-*,+audit.created&in(status,(Active,Disabled))",
		"any(modules,eq(id,MOD-1234-5678))&render()", "name=%zz", "select=-id", "limit=1&limit=2", "&&=&", "eq(name,'x",
		"select=-name%2C%2Baudit", "not(ne(lastAccessAt,null()))&ilike(description,'*%25_\\**')",
	} {
		f.Add(seed)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, query string) {
		for _, path := range []string{apiTokens, apiTokens + "/" + tok.ID} {
			req, err := http.NewRequest(http.MethodGet, app.url+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.RawQuery = query
			req.Header.Set("Authorization", "Bearer "+secret)
			res, err := client.Do(req)
			if err != nil {
				return // not a request a client can send
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			ct := res.Header.Get("Content-Type")
			switch {
			case res.StatusCode == http.StatusOK && strings.HasPrefix(ct, "application/json"):
			case res.StatusCode == http.StatusBadRequest && (ct == "application/problem+json" || !strings.Contains(string(body), "{")):
				// A problem, or net/http refusing a malformed request line.
			default:
				t.Fatalf("GET %s?%s = %d %s:\n%.400s", path, query, res.StatusCode, ct, body)
			}
		}
	})
}

// FuzzAPITokenBodies sends arbitrary JSON bodies to the API's create and
// update. Whatever comes in, the answer is a 2xx or a 4xx problem — never a
// 500 — and the token being updated keeps a name the rules allow and only
// modules its caller holds.
func FuzzAPITokenBodies(f *testing.F) {
	app := newTestApp(f, func(c *web.Config) { c.TrustedProxies = web.LoopbackProxies })
	caller, secret := app.managerToken("Fuzz caller")
	target, _ := app.createToken("Fuzzed", app.modules[0])
	access := app.module(store.ModuleAccessManagement).ID
	for _, seed := range []string{
		`{"account":{"id":"` + app.account.ID + `"},"name":"E2E","description":"d","icon":"","modules":[{"id":"` + access + `"}]}`,
		`{"name":"a","name":"b"}`,
		`{"modules":[{"id":"a"},{"id":"b","id":"c"}]}`,
		`{"icon":"data:image/png;base64,iVBORw0KGgo="}`,
		`{"icon":null,"account":{"ID":"x"},"modules":[{"Id":"` + access + `"}]}`,
		`{"name":"\u202e","description":"\u0000","expiresAt":"2020-01-01T00:00:00Z"}`,
		`[[[[{}]]]]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c := app.api(t, secret)
		for _, call := range []struct{ method, path string }{{http.MethodPost, apiTokens}, {http.MethodPut, apiTokens + "/" + target.ID}} {
			res := c.send(call.method, call.path, "application/json", []byte(body))
			if res.status >= 500 || res.status < 200 {
				t.Fatalf("%s %s with %q = %d:\n%.400s", call.method, call.path, body, res.status, res.body)
			}
		}
		got, err := app.store.TokenByID(t.Context(), app.account.ID, target.ID)
		if err != nil || got.Name == "" || len([]rune(got.Name)) > 200 || strings.ContainsRune(got.Name, 0) {
			t.Fatalf("token after %q: %+v, %v", body, got, err)
		}
		for _, m := range got.Modules {
			if m.ID != access && m.ID != app.modules[0].ID {
				t.Fatalf("after %q the token has %s, which %s does not hold", body, m.ID, caller.ID)
			}
		}
	})
}
