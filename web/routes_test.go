package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"apitokens/store"
	"apitokens/web"
)

// TestEveryRouteAsEveryone walks every route the server has, web and API,
// as someone signed out, a member, the administrator of another account and
// an administrator, each with a valid CSRF token of their own, and checks
// the status each one gets. A new route without a row here fails the test.
func TestEveryRouteAsEveryone(t *testing.T) {
	app := newTestApp(t)
	const (
		out    = "signed out"
		member = "member"
		other  = "other admin"
		admin  = "admin"
	)
	roles := []string{out, member, other, admin}
	clients := map[string]*client{out: app.client(t), member: app.signedIn(t, app.member),
		other: app.signedIn(t, app.otherAdmin), admin: app.signedIn(t, app.admin)}
	csrf := map[string]string{}
	for role, c := range clients {
		page := c.get("/login")
		if role != out {
			page = c.get(tokensPath) // a 403 page for the member, with the sign-out form
		}
		csrf[role] = page.csrf(t)
	}
	logo, err := store.NormalizeLogo(t.Context(), pngImage(t, 16, 16))
	if err != nil {
		t.Fatal(err)
	}
	// Each request gets a token of its own, so that deleting one changes
	// nothing for the next.
	fresh := func() string {
		tok, _, err := app.store.CreateToken(context.Background(), store.NewToken{AccountID: app.account.ID,
			Name: "route check", ModuleIDs: []string{app.modules[0].ID}, Logo: logo}, store.UserActor(app.admin.ID, ""))
		if err != nil {
			t.Fatal(err)
		}
		return tok.ID
	}
	toLogin := http.StatusSeeOther
	api := "/public/v1/accounts/api-tokens"
	type expect map[string]int
	cases := []struct {
		method, route string // route as registered
		want          expect
	}{
		{"GET", "/", expect{out: 303, member: 303, other: 303, admin: 303}},
		// A member manages no tokens: the settings show them who does.
		{"GET", "/settings", expect{out: 303, member: 200, other: 303, admin: 303}},
		{"GET", "/settings/audit-trail", expect{out: toLogin, member: 403, other: 200, admin: 200}},
		// Another account's record is not found, like one that never was.
		{"GET", "/settings/audit-trail/:event", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		{"GET", "/healthz", expect{out: 200, member: 200, other: 200, admin: 200}},
		{"GET", "/readyz", expect{out: 200, member: 200, other: 200, admin: 200}},
		{"GET", "/static/*", expect{out: 200, member: 200, other: 200, admin: 200}},
		{"GET", "/login", expect{out: 200, member: 303, other: 303, admin: 303}},
		{"POST", "/login", expect{out: 422, member: 422, other: 422, admin: 422}},
		{"GET", tokensPath, expect{out: toLogin, member: 403, other: 200, admin: 200}},
		{"GET", tokensPath + "/new", expect{out: toLogin, member: 403, other: 200, admin: 200}},
		{"POST", tokensPath + "/new", expect{out: toLogin, member: 403, other: 200, admin: 200}},
		{"GET", tokensPath + "/:id/added", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		{"GET", tokensPath + "/:id", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		{"GET", tokensPath + "/:id/edit", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		{"POST", tokensPath + "/:id/edit", expect{out: toLogin, member: 403, other: 404, admin: 303}},
		{"POST", tokensPath + "/:id/reveal", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		{"GET", tokensPath + "/:id/logo", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		{"GET", tokensPath + "/:id/audit.csv", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		{"GET", tokensPath + "/export.csv", expect{out: toLogin, member: 403, other: 200, admin: 200}},
		// Each administrator sets their own account's policy.
		{"GET", tokensPath + "/unused-policy", expect{out: toLogin, member: 403, other: 200, admin: 200}},
		{"POST", tokensPath + "/unused-policy", expect{out: toLogin, member: 403, other: 303, admin: 303}},
		{"GET", tokensPath + "/:id/delete", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		{"GET", tokensPath + "/:id/enable", expect{out: toLogin, member: 403, other: 404, admin: 303}},
		{"GET", tokensPath + "/:id/disable", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		{"POST", tokensPath + "/:id/delete", expect{out: toLogin, member: 403, other: 404, admin: 303}},
		// Another account's token in a selection is "not found" in the
		// message, like one that never existed.
		{"POST", tokensPath + "/bulk", expect{out: toLogin, member: 403, other: 303, admin: 303}},
		{"GET", tokensPath + "/bulk", expect{out: toLogin, member: 403, other: 303, admin: 303}},
		// The columns are the person's own: any administrator keeps theirs.
		{"POST", tokensPath + "/columns", expect{out: toLogin, member: 403, other: 303, admin: 303}},
		{"GET", tokensPath + "/columns", expect{out: toLogin, member: 403, other: 303, admin: 303}},
		{"POST", tokensPath + "/:id/enable", expect{out: toLogin, member: 403, other: 404, admin: 303}},
		{"POST", tokensPath + "/:id/disable", expect{out: toLogin, member: 403, other: 404, admin: 303}},
		{"GET", tokensPath + "/:id/rotate", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		// Sent without a grace period, the form comes back saying so.
		{"POST", tokensPath + "/:id/rotate", expect{out: toLogin, member: 403, other: 404, admin: 400}},
		{"GET", tokensPath + "/:id/rotated", expect{out: toLogin, member: 403, other: 404, admin: 200}},
		{"POST", tokensPath + "/:id/end-previous", expect{out: toLogin, member: 403, other: 404, admin: 303}},
		// The API takes bearer tokens only: a session cookie is no credential.
		{"GET", "/public/v1/openapi.json", expect{out: 200, member: 200, other: 200, admin: 200}},
		{"GET", api, expect{out: 401, member: 401, other: 401, admin: 401}},
		{"POST", api, expect{out: 401, member: 401, other: 401, admin: 401}},
		{"GET", api + "/:id", expect{out: 401, member: 401, other: 401, admin: 401}},
		{"PUT", api + "/:id", expect{out: 401, member: 401, other: 401, admin: 401}},
		{"DELETE", api + "/:id", expect{out: 401, member: 401, other: 401, admin: 401}},
		{"POST", api + "/:id/enable", expect{out: 401, member: 401, other: 401, admin: 401}},
		{"POST", api + "/:id/disable", expect{out: 401, member: 401, other: 401, admin: 401}},
		{"POST", api + "/:id/rotate", expect{out: 401, member: 401, other: 401, admin: 401}},
		{"GET", api + "/:id/icon", expect{out: 401, member: 401, other: 401, admin: 401}},
		{"GET", api + "/:id/usage", expect{out: 401, member: 401, other: 401, admin: 401}},
		// Last, as it ends the sessions the rows above use.
		{"POST", "/logout", expect{out: 303, member: 303, other: 303, admin: 303}},
	}
	registered := web.Routes(app.srv)
	for _, r := range registered {
		method, path, _ := strings.Cut(r, " ")
		if method == http.MethodHead || method == "echo_route_not_found" {
			continue
		}
		if !slices.ContainsFunc(cases, func(c struct {
			method, route string
			want          expect
		}) bool {
			return c.method == method && c.route == path
		}) {
			t.Errorf("route %s has no row in this table", r)
		}
	}
	for _, tc := range cases {
		for _, role := range roles {
			t.Run(fmt.Sprintf("%s %s as %s", tc.method, tc.route, role), func(t *testing.T) {
				c := clients[role]
				path := strings.Replace(tc.route, ":id", fresh(), 1)
				if strings.Contains(path, ":event") {
					events, err := app.store.AuditEvents(context.Background(), app.account.ID, fresh())
					if err != nil {
						t.Fatal(err)
					}
					path = strings.Replace(path, ":event", strconv.FormatInt(events[0].ID, 10), 1)
				}
				path = strings.Replace(path, "*", "app.css", 1)
				var res *response
				switch tc.method {
				case "GET":
					res = c.get(path)
				case "POST":
					form := url.Values{"_csrf": {csrf[role]}}
					if strings.HasSuffix(tc.route, "/edit") {
						form.Set("name", "renamed")
						form.Set("no_modules", "1")
					}
					if tc.route == tokensPath+"/unused-policy" {
						form.Set("days", "off")
					}
					if tc.route == tokensPath+"/new" {
						form.Set("name", "new")
					}
					if tc.route == tokensPath+"/bulk" {
						form.Set("action", "disable")
						form.Set("ids", fresh())
						form.Set("confirm", "1")
					}
					res = c.post(path, form)
				default:
					req, _ := http.NewRequest(tc.method, app.url+path, strings.NewReader("{}"))
					req.Header.Set("Content-Type", "application/json")
					res = c.do(req)
				}
				if want := tc.want[role]; res.status != want {
					t.Fatalf("status %d, want %d:\n%.300s", res.status, want, res.text())
				}
				if res.status == toLogin && strings.HasPrefix(tc.route, "/settings/") && role == out &&
					!strings.HasPrefix(res.location(), "/login") {
					t.Fatalf("redirected to %q, want the sign-in page", res.location())
				}
			})
		}
	}
}
