package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"apitokens/store"
	"apitokens/web"
)

const apiTokens = "/public/v1/accounts/api-tokens"

// newAPIApp starts the app behind a trusted proxy, so that each API client
// can call from its own address (X-Forwarded-For) and failed
// authentications of one test do not slow another down.
func newAPIApp(t *testing.T) *testApp {
	return newTestApp(t, func(c *web.Config) { c.TrustProxy = true })
}

var nextClientIP atomic.Uint32

// uniqueIP returns a documentation address not handed out before.
func uniqueIP() string {
	n := nextClientIP.Add(1)
	return fmt.Sprintf("198.51.%d.%d", 100+n/250, 1+n%250)
}

// apiClient calls the REST API the way curl would: no cookies, no
// redirects, a bearer token and a client address of its own.
type apiClient struct {
	t      *testing.T
	app    *testApp
	secret string
	ip     string
	http   *http.Client
}

func (a *testApp) api(t *testing.T, secret string) *apiClient {
	return &apiClient{t: t, app: a, secret: secret, ip: uniqueIP(), http: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}}
}

// from returns a client with the same token calling from ip.
func (c *apiClient) from(ip string) *apiClient {
	d := *c
	d.ip = ip
	return &d
}

// as returns a client with the same address sending another token.
func (c *apiClient) as(secret string) *apiClient {
	d := *c
	d.secret = secret
	return &d
}

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

// send makes a request with a raw body and content type; headers are pairs.
func (c *apiClient) send(method, path, contentType string, body []byte, headers ...string) *apiResponse {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.app.url+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.secret != "" {
		req.Header.Set("Authorization", "Bearer "+c.secret)
	}
	req.Header.Set("X-Forwarded-For", c.ip)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &apiResponse{status: res.StatusCode, header: res.Header, body: b}
}

func (c *apiClient) get(path string) *apiResponse {
	c.t.Helper()
	return c.send(http.MethodGet, path, "", nil)
}

// call sends v as JSON (when not nil).
func (c *apiClient) call(method, path string, v any) *apiResponse {
	c.t.Helper()
	if v == nil {
		return c.send(method, path, "", nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.send(method, path, "application/json", b)
}

// decode reads the body as JSON into v, failing unless the status is want.
func (r *apiResponse) decode(t *testing.T, want int, v any) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, want, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body is not the JSON expected: %v\n%s", err, r.body)
	}
}

// apiProblem is an RFC 9457 problem as a client reads it.
type apiProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

// fields lists the fields the problem names, in order.
func (p apiProblem) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// problem reads a problem response, failing unless it has the status and
// type wanted and a detail for people.
func (r *apiResponse) problem(t *testing.T, status int, typ string) apiProblem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body:\n%s", ct, r.body)
	}
	var p apiProblem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem is not JSON: %v\n%s", err, r.body)
	}
	if p.Type != "urn:apitokens:problem:"+typ || p.Status != status || p.Title == "" || p.Detail == "" {
		t.Fatalf("problem %+v, want type %s", p, typ)
	}
	return p
}

// apiTokenJSON is a token as a client reads it.
type apiTokenJSON struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	Description  string     `json:"description"`
	Icon         *string    `json:"icon"`
	Status       string     `json:"status"`
	LastAccessAt *time.Time `json:"lastAccessAt"`
	ExpiresAt    *time.Time `json:"expiresAt"`
	Account      ref        `json:"account"`
	Modules      []ref      `json:"modules"`
	Audit        struct {
		Created struct {
			At time.Time `json:"at"`
			By ref       `json:"by"`
		} `json:"created"`
		Updated struct {
			At time.Time `json:"at"`
			By ref       `json:"by"`
		} `json:"updated"`
	} `json:"audit"`
	Token string `json:"token"`
}

type ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type apiPage struct {
	Meta struct {
		Pagination struct{ Offset, Limit, Total int } `json:"pagination"`
	} `json:"$meta"`
	Data []apiTokenJSON `json:"data"`
}

// module returns the account's module with the given name.
func (a *testApp) module(key string) store.Module {
	for _, m := range a.modules {
		if m.Key == key {
			return m
		}
	}
	a.t.Fatalf("no module %q", key)
	return store.Module{}
}

// managerToken makes a token that may use the API.
func (a *testApp) managerToken(name string) (store.Token, string) {
	return a.createToken(name, a.module(store.ModuleAccessManagement))
}

// forgeSecret returns a well-formed secret, checksum included, naming
// tokenID, that the server never issued.
func forgeSecret(tokenID string) string {
	const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	body := "apitk_" + strings.ReplaceAll(strings.TrimPrefix(tokenID, "TKN-"), "-", "") + "_" + strings.Repeat("Z", 32)
	sum := crc32.ChecksumIEEE([]byte(body))
	check := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		check[i] = base62[sum%62]
		sum /= 62
	}
	return body + string(check)
}

// badChecksum changes the last character of a secret.
func badChecksum(secret string) string {
	last := "a"
	if secret[len(secret)-1] == 'a' {
		last = "b"
	}
	return secret[:len(secret)-1] + last
}

func TestAPIAuthentication(t *testing.T) {
	app := newAPIApp(t)
	ctx := context.Background()
	manager, secret := app.managerToken("Automation")
	disabled, disabledSecret := app.managerToken("Disabled one")
	if _, _, err := app.store.SetTokenStatus(ctx, app.account.ID, disabled.ID, store.StatusDisabled, store.UserActor(app.admin.ID, "")); err != nil {
		t.Fatal(err)
	}
	deleted, deletedSecret := app.managerToken("Deleted one")
	if _, err := app.store.DeleteToken(ctx, app.account.ID, deleted.ID, store.UserActor(app.admin.ID, "")); err != nil {
		t.Fatal(err)
	}
	expiring, expiringSecret, err := app.store.CreateToken(ctx, store.NewToken{AccountID: app.account.ID, Name: "Expiring",
		ModuleIDs: []string{app.module(store.ModuleAccessManagement).ID}, ExpiresAt: app.clock.Now().Add(time.Hour)},
		store.UserActor(app.admin.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	app.clock.Add(time.Hour)

	t.Run("OK", func(t *testing.T) {
		res := app.api(t, secret).get(apiTokens)
		var page apiPage
		res.decode(t, http.StatusOK, &page)
		if page.Meta.Pagination.Total != 3 || len(page.Data) != 3 {
			t.Fatalf("list %+v, want the 3 tokens not deleted", page.Meta)
		}
		h := res.header
		if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("headers %v", h)
		}
		if h.Get("Set-Cookie") != "" {
			t.Fatalf("the API set a cookie: %s", h.Get("Set-Cookie"))
		}
	})
	t.Run("SchemeIsCaseInsensitive", func(t *testing.T) {
		res := app.api(t, "").send(http.MethodGet, apiTokens, "", nil, "Authorization", "bearer "+secret)
		if res.status != http.StatusOK {
			t.Fatalf("lower-case bearer = %d", res.status)
		}
	})

	// Every rejection must look the same to the caller.
	rejected := []struct {
		name, secret, tokenID, reason string
	}{
		{"Malformed", "not-a-token", "", store.RejectMalformed},
		{"Empty", "", "", store.RejectMalformed},
		{"BadChecksum", badChecksum(secret), "", store.RejectMalformed},
		{"NeverIssued", forgeSecret(manager.ID), manager.ID, store.RejectUnknown},
		{"Disabled", disabledSecret, disabled.ID, store.RejectDisabled},
		{"Deleted", deletedSecret, deleted.ID, store.RejectUnknown},
		{"Expired", expiringSecret, expiring.ID, store.RejectExpired},
	}
	var first *apiResponse
	for _, tc := range rejected {
		t.Run("Err"+tc.name, func(t *testing.T) {
			res := app.api(t, "").send(http.MethodGet, apiTokens, "", nil, "Authorization", "Bearer "+tc.secret)
			res.problem(t, http.StatusUnauthorized, "unauthorized")
			if got := res.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
			if first == nil {
				first = res
			} else if !bytes.Equal(res.body, first.body) {
				t.Errorf("body differs from another rejection's:\n%s\n%s", res.body, first.body)
			}
			logs := app.logs.String()
			want := "reason=" + tc.reason + " token=" + tc.tokenID
			if tc.tokenID == "" {
				want += `""`
			}
			if !strings.Contains(logs, want) {
				t.Errorf("the log does not say %q:\n%s", want, logs)
			}
			if tc.secret != "" && strings.Contains(logs, tc.secret) {
				t.Fatalf("the log holds the secret:\n%s", logs)
			}
		})
	}

	// Credentials anywhere but the Authorization header are not looked at.
	elsewhere := []struct {
		name string
		send func(c *apiClient) *apiResponse
	}{
		{"None", func(c *apiClient) *apiResponse { return c.get(apiTokens) }},
		{"QueryString", func(c *apiClient) *apiResponse {
			return c.get(apiTokens + "?access_token=" + url.QueryEscape(secret) + "&token=" + url.QueryEscape(secret))
		}},
		{"Cookie", func(c *apiClient) *apiResponse {
			return c.send(http.MethodGet, apiTokens, "", nil, "Cookie", "access_token="+secret+"; token="+secret)
		}},
		{"Body", func(c *apiClient) *apiResponse {
			return c.send(http.MethodPost, apiTokens, "application/json", []byte(`{"access_token":"`+secret+`","name":"x"}`))
		}},
		{"BasicScheme", func(c *apiClient) *apiResponse {
			return c.send(http.MethodGet, apiTokens, "", nil, "Authorization", "Basic "+secret)
		}},
	}
	for _, tc := range elsewhere {
		t.Run("Ignored"+tc.name, func(t *testing.T) {
			res := tc.send(app.api(t, ""))
			p := res.problem(t, http.StatusUnauthorized, "unauthorized")
			if got := res.header.Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate %q, want a bare Bearer challenge", got)
			}
			if string(res.body) != string(first.body) {
				t.Errorf("body %+v differs from a rejected token's", p)
			}
		})
	}
	t.Run("NothingCreatedByBodyToken", func(t *testing.T) {
		page, _ := app.store.ListTokens(ctx, app.account.ID, store.TokenFilter{})
		if page.Total != 3 {
			t.Fatalf("%d tokens, want 3", page.Total)
		}
	})

	t.Run("ErrInsufficientScope", func(t *testing.T) {
		_, billing := app.createToken("Billing only", app.module("billing"))
		res := app.api(t, billing).get(apiTokens)
		res.problem(t, http.StatusForbidden, "insufficient-scope")
		if got := res.header.Get("WWW-Authenticate"); got != `Bearer error="insufficient_scope"` {
			t.Errorf("WWW-Authenticate %q", got)
		}
		_, none := app.createToken("No modules")
		app.api(t, none).call(http.MethodDelete, apiTokens+"/"+manager.ID, nil).problem(t, http.StatusForbidden, "insufficient-scope")
		if !app.tokenExists(app.account.ID, manager.ID) {
			t.Fatal("a token without the module deleted a token")
		}
	})
}

// TestAPIBadChecksumNeedsNoDatabase closes the database under the server: a
// secret with a bad checksum is still rejected, so it was never looked up,
// while a well-formed one needs the database and fails with a 500.
func TestAPIBadChecksumNeedsNoDatabase(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("Automation")
	app.store.Close()
	for _, bad := range []string{badChecksum(secret), "apitk_0000", secret + "x"} {
		app.api(t, bad).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	}
	p := app.api(t, secret).get(apiTokens).problem(t, http.StatusInternalServerError, "server-error")
	if strings.Contains(p.Detail, "database") || strings.Contains(p.Detail, "sql") {
		t.Fatalf("the 500 leaks internals: %s", p.Detail)
	}
	if !strings.Contains(app.logs.String(), "database is closed") {
		t.Fatalf("the 500 was not logged:\n%s", app.logs.String())
	}
}

func TestAPITokens(t *testing.T) {
	app := newAPIApp(t)
	caller, secret := app.managerToken("Automation")
	c := app.api(t, secret)
	billing, catalog := app.module("billing"), app.module("catalog")
	var created apiTokenJSON

	t.Run("Create", func(t *testing.T) {
		app.clock.Add(time.Minute)
		expires := app.clock.Now().Add(30 * 24 * time.Hour)
		res := c.call(http.MethodPost, apiTokens, map[string]any{
			"name": "  Nightly export ", "description": "Exports invoices.",
			"modules": []string{billing.ID, catalog.ID}, "expiresAt": expires.Format(time.RFC3339),
		})
		res.decode(t, http.StatusCreated, &created)
		if res.header.Get("Location") != apiTokens+"/"+created.ID {
			t.Errorf("Location %q", res.header.Get("Location"))
		}
		if id, err := store.ParseSecret(created.Token); err != nil || id != created.ID {
			t.Fatalf("secret %q does not name %s: %v", created.Token, created.ID, err)
		}
		if created.Name != "Nightly export" || created.Description != "Exports invoices." || created.Status != "active" ||
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
			"name": "Nightly export v2", "description": "", "modules": []string{catalog.ID},
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
		if got.Status != "disabled" {
			t.Fatalf("after disable: %s", got.Status)
		}
		app.api(t, created.Token).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		c.call(http.MethodPost, apiTokens+"/"+created.ID+"/disable", nil).decode(t, http.StatusOK, &got)
		if got.Status != "disabled" {
			t.Fatalf("disable twice: %s", got.Status)
		}
		c.call(http.MethodPost, apiTokens+"/"+created.ID+"/enable", nil).decode(t, http.StatusOK, &got)
		if got.Status != "active" {
			t.Fatalf("after enable: %s", got.Status)
		}
		// Same secret, working again (403: it authenticates, without the module).
		app.api(t, created.Token).get(apiTokens).problem(t, http.StatusForbidden, "insufficient-scope")
		// A token may disable itself; its next call is refused.
		self := app.api(t, otherSecret)
		self.call(http.MethodPost, apiTokens+"/"+other.ID+"/disable", nil).decode(t, http.StatusOK, &got)
		if got.Status != "disabled" || got.Audit.Updated.By.ID != other.ID {
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

// pngLogo is a logo as the store keeps it.
func pngLogo(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	logo, err := store.NormalizeLogo(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return logo
}

func TestAPIBadInput(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("Automation")
	target, _ := app.createToken("Target", app.module("billing"))
	theirs, _ := app.createTokenIn(app.otherAdmin, "Theirs")
	c := app.api(t, secret)
	ctJSON := "application/json"
	cases := []struct {
		name, method, path, contentType, body string
		status                                int
		typ                                   string
		fields                                []string
	}{
		{"NoContentType", "POST", apiTokens, "", `{"name":"x"}`, 415, "unsupported-media-type", nil},
		{"TextPlain", "POST", apiTokens, "text/plain", `{"name":"x"}`, 415, "unsupported-media-type", nil},
		{"FormEncoded", "PUT", apiTokens + "/" + target.ID, "application/x-www-form-urlencoded", "name=x", 415, "unsupported-media-type", nil},
		{"OtherCharset", "POST", apiTokens, "application/json; charset=latin1", `{"name":"x"}`, 415, "unsupported-media-type", nil},
		{"EmptyBody", "POST", apiTokens, ctJSON, "", 400, "malformed-body", nil},
		{"BrokenJSON", "POST", apiTokens, ctJSON, `{"name": "x"`, 400, "malformed-body", nil},
		{"SyntaxError", "POST", apiTokens, ctJSON, `{"name": x}`, 400, "malformed-body", nil},
		{"TrailingData", "POST", apiTokens, ctJSON, `{"name": "x"} {}`, 400, "malformed-body", nil},
		{"Array", "POST", apiTokens, ctJSON, `[{"name": "x"}]`, 400, "malformed-body", nil},
		{"Null", "PUT", apiTokens + "/" + target.ID, ctJSON, `null`, 400, "malformed-body", nil},
		{"NameMissing", "POST", apiTokens, ctJSON, `{}`, 422, "validation-failed", []string{"name"}},
		{"NameBlank", "POST", apiTokens, ctJSON, `{"name": "   "}`, 422, "validation-failed", []string{"name"}},
		{"NameTooLong", "POST", apiTokens, ctJSON, `{"name": "` + strings.Repeat("é", store.MaxTokenName+1) + `"}`, 422, "validation-failed", []string{"name"}},
		{"NameNotString", "POST", apiTokens, ctJSON, `{"name": 5}`, 422, "validation-failed", []string{"name"}},
		{"NameNull", "POST", apiTokens, ctJSON, `{"name": null}`, 422, "validation-failed", []string{"name"}},
		{"DescriptionTooLong", "POST", apiTokens, ctJSON, `{"name": "x", "description": "` + strings.Repeat("d", store.MaxTokenDescription+1) + `"}`, 422, "validation-failed", []string{"description"}},
		{"ModulesNotList", "POST", apiTokens, ctJSON, `{"name": "x", "modules": "MOD-1"}`, 422, "validation-failed", []string{"modules"}},
		{"ModulesOfAnotherAccount", "POST", apiTokens, ctJSON, `{"name": "x", "modules": ["` + app.otherModule(t).ID + `"]}`, 422, "validation-failed", []string{"modules"}},
		{"ExpiryNotADate", "POST", apiTokens, ctJSON, `{"name": "x", "expiresAt": "next week"}`, 422, "validation-failed", []string{"expiresAt"}},
		{"ExpiryPast", "POST", apiTokens, ctJSON, `{"name": "x", "expiresAt": "2020-01-01T00:00:00Z"}`, 422, "validation-failed", []string{"expiresAt"}},
		{"EverythingWrongAtOnce", "POST", apiTokens, ctJSON, `{"name": "", "modules": 3, "colour": "red"}`, 422, "validation-failed", []string{"modules", "colour", "name"}},
		{"MassAssignmentOnCreate", "POST", apiTokens, ctJSON,
			`{"name": "sneaky", "status": "disabled", "accountId": "` + app.otherAdmin.AccountID + `", "account": {"id": "` + app.otherAdmin.AccountID + `"}, "digest": "00", "id": "TKN-1111-1111", "token": "apitk_x"}`,
			422, "validation-failed", []string{"account", "accountId", "digest", "id", "status", "token"}},
		{"MassAssignmentOnUpdate", "PUT", apiTokens + "/" + target.ID, ctJSON,
			`{"name": "renamed", "status": "disabled", "accountId": "` + app.otherAdmin.AccountID + `", "expiresAt": "2027-01-01T00:00:00Z", "lastAccessAt": null}`,
			422, "validation-failed", []string{"accountId", "expiresAt", "lastAccessAt", "status"}},
		{"UpdateOtherAccountsToken", "PUT", apiTokens + "/" + theirs.ID, ctJSON, `{"name": "mine now"}`, 404, "not-found", nil},
		{"TooLarge", "POST", apiTokens, ctJSON, `{"name": "` + strings.Repeat("x", 70<<10) + `"}`, 413, "body-too-large", nil},
		{"LimitZero", "GET", apiTokens + "?limit=0", "", "", 400, "invalid-parameters", []string{"limit"}},
		{"LimitTooBig", "GET", apiTokens + "?limit=101", "", "", 400, "invalid-parameters", []string{"limit"}},
		{"OffsetNegativeAndLimitWord", "GET", apiTokens + "?offset=-1&limit=ten", "", "", 400, "invalid-parameters", []string{"offset", "limit"}},
		{"UnknownPath", "GET", "/public/v1/nothing-here", "", "", 404, "not-found", nil},
		{"UnknownSubPath", "GET", apiTokens + "/" + target.ID + "/secret", "", "", 404, "not-found", nil},
		{"WrongMethod", "PATCH", apiTokens + "/" + target.ID, ctJSON, `{"name": "x"}`, 405, "method-not-allowed", nil},
		{"GetEnable", "GET", apiTokens + "/" + target.ID + "/enable", "", "", 405, "method-not-allowed", nil},
	}
	before, _ := app.store.ListTokens(context.Background(), app.account.ID, store.TokenFilter{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			res := c.send(tc.method, tc.path, tc.contentType, body)
			p := res.problem(t, tc.status, tc.typ)
			got := p.fields()
			if !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %v, want %v: %+v", got, tc.fields, p)
			}
			for _, e := range p.Errors {
				if e.Detail == "" {
					t.Errorf("field %s has no message", e.Field)
				}
			}
			if res.header.Get("Cache-Control") != "no-store" || res.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", res.header)
			}
			if tc.status == 405 && res.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	t.Run("NothingChanged", func(t *testing.T) {
		after, _ := app.store.ListTokens(context.Background(), app.account.ID, store.TokenFilter{})
		if after.Total != before.Total {
			t.Fatalf("%d tokens, was %d", after.Total, before.Total)
		}
		got, _ := app.store.TokenByID(context.Background(), app.account.ID, target.ID)
		if got.Name != "Target" || got.Status != store.StatusActive || !got.ExpiresAt.IsZero() || len(got.Modules) != 1 {
			t.Fatalf("target changed: %+v", got)
		}
		other, _ := app.store.TokenByID(context.Background(), theirs.AccountID, theirs.ID)
		if other.Name != "Theirs" {
			t.Fatalf("another account's token changed: %+v", other)
		}
	})
	t.Run("TooLargeWithoutLength", func(t *testing.T) {
		body := io.MultiReader(strings.NewReader(`{"name": "`), strings.NewReader(strings.Repeat("x", 70<<10)), strings.NewReader(`"}`))
		req, _ := http.NewRequest(http.MethodPost, app.url+apiTokens, body)
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		if req.ContentLength > 0 {
			t.Fatal("the request announces its length")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		(&apiResponse{status: res.StatusCode, header: res.Header, body: b}).problem(t, http.StatusRequestEntityTooLarge, "body-too-large")
	})
	t.Run("SessionCookieDoesNotAuthenticate", func(t *testing.T) {
		browser := app.signedIn(t, app.admin)
		req, _ := http.NewRequest(http.MethodGet, app.url+apiTokens, nil)
		if res := browser.do(req); res.status != http.StatusUnauthorized {
			t.Fatalf("a signed-in browser without a token = %d, want 401", res.status)
		}
	})
}

// otherModule is a module of the other account.
func (a *testApp) otherModule(t *testing.T) store.Module {
	mods, err := a.store.Modules(context.Background(), a.otherAdmin.AccountID)
	if err != nil || len(mods) == 0 {
		t.Fatal(err)
	}
	return mods[0]
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
		if got.Name != "B's manager" || got.Status != "active" || got.Account.ID != app.otherAdmin.AccountID {
			t.Fatalf("B's token %+v", got)
		}
		events, _ := app.store.AuditEvents(ctx, tokB.AccountID, tokB.ID)
		if len(events) != 1 {
			t.Fatalf("B's token has events %+v, want only its creation", events)
		}
	})
}

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

func TestAPIConcurrentDelete(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("Automation")
	for round := range 8 {
		tok, _ := app.createToken(fmt.Sprintf("Doomed %d", round))
		var wg sync.WaitGroup
		start := make(chan struct{})
		statuses := make([]int, 2)
		errs := make([]error, 2)
		for i := range statuses {
			req, _ := http.NewRequest(http.MethodDelete, app.url+apiTokens+"/"+tok.ID, nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			wg.Go(func() {
				<-start
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					errs[i] = err
					return
				}
				res.Body.Close()
				statuses[i] = res.StatusCode
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
		events, _ := app.store.AuditEvents(context.Background(), app.account.ID, tok.ID)
		deletes := 0
		for _, e := range events {
			if e.Action == store.AuditDeleted {
				deletes++
			}
		}
		if deletes != 1 {
			t.Fatalf("round %d: %d delete events, want 1", round, deletes)
		}
	}
}

func TestAPILastAccess(t *testing.T) {
	app := newAPIApp(t)
	ctx := context.Background()
	tok, secret := app.managerToken("Automation")
	c := app.api(t, secret)
	stored := func(t *testing.T) time.Time {
		t.Helper()
		got, err := app.store.TokenByID(ctx, app.account.ID, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.LastAccessAt
	}
	flush := func(t *testing.T) {
		t.Helper()
		if err := app.srv.FlushAccess(ctx); err != nil {
			t.Fatal(err)
		}
	}
	first := app.clock.Now()
	if page := app.signedIn(t, app.admin).get(tokensPath).text(); !strings.Contains(page, "Never Active") {
		t.Fatalf("the web list shows a last access before any:\n%s", page)
	}
	t.Run("NotWrittenOnTheRequest", func(t *testing.T) {
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		if got := stored(t); !got.IsZero() {
			t.Fatalf("the request itself wrote last access %v", got)
		}
	})
	t.Run("WrittenByTheFlush", func(t *testing.T) {
		flush(t)
		if got := stored(t); !got.Equal(first) {
			t.Fatalf("last access %v, want %v", got, first)
		}
		var got apiTokenJSON
		c.get(apiTokens+"/"+tok.ID).decode(t, http.StatusOK, &got)
		if got.LastAccessAt == nil || !got.LastAccessAt.Equal(first) {
			t.Fatalf("API shows lastAccessAt %v", got.LastAccessAt)
		}
		if page := app.signedIn(t, app.admin).get(tokensPath).text(); strings.Contains(page, "Never") {
			t.Fatalf("the web list does not show the last access:\n%s", page)
		}
	})
	t.Run("AtMostOnceAMinute", func(t *testing.T) {
		app.clock.Add(30 * time.Second)
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		flush(t)
		if got := stored(t); !got.Equal(first) {
			t.Fatalf("last access moved within the minute to %v", got)
		}
		app.clock.Add(31 * time.Second)
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		flush(t)
		if got := stored(t); !got.Equal(first.Add(61 * time.Second)) {
			t.Fatalf("last access %v, want %v", got, first.Add(61*time.Second))
		}
	})
	t.Run("DeletedBeforeTheFlush", func(t *testing.T) {
		other, otherSecret := app.managerToken("Short-lived")
		app.clock.Add(2 * time.Minute)
		app.api(t, otherSecret).get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		if _, err := app.store.DeleteToken(ctx, app.account.ID, other.ID, store.UserActor(app.admin.ID, "")); err != nil {
			t.Fatal(err)
		}
		flush(t)
		if got := stored(t); !got.Equal(app.clock.Now()) {
			t.Fatalf("the batch with a deleted token lost the live one: %v", got)
		}
	})
	t.Run("FlushedOnClose", func(t *testing.T) {
		app.clock.Add(2 * time.Minute)
		c.get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		if err := app.srv.Close(); err != nil {
			t.Fatal(err)
		}
		if got := stored(t); !got.Equal(app.clock.Now()) {
			t.Fatalf("Close did not write the pending last access: %v", got)
		}
	})
}

func TestAPIRateLimit(t *testing.T) {
	app := newAPIApp(t)
	tok, secret := app.managerToken("Automation")
	wrong := forgeSecret(tok.ID)
	attacker := app.api(t, wrong).from("203.0.113.9")
	for i := range 10 {
		if res := attacker.get(apiTokens); res.status != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, res.status)
		}
	}
	t.Run("Refused", func(t *testing.T) {
		res := attacker.get(apiTokens)
		res.problem(t, http.StatusTooManyRequests, "too-many-failures")
		if res.header.Get("Retry-After") != "6" {
			t.Fatalf("Retry-After %q, want 6", res.header.Get("Retry-After"))
		}
		// Even a good token waits: the refusal must not tell guesses apart.
		attacker.as(secret).get(apiTokens).problem(t, http.StatusTooManyRequests, "too-many-failures")
	})
	t.Run("OtherAddressesUnaffected", func(t *testing.T) {
		app.api(t, secret).from("203.0.113.10").get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		app.api(t, wrong).from("203.0.113.11").get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("IPv6CountsBy64", func(t *testing.T) {
		for range 10 {
			app.api(t, wrong).from(fmt.Sprintf("2001:db8:1:2::%x", nextClientIP.Add(1))).get(apiTokens)
		}
		app.api(t, secret).from("2001:db8:1:2::ffff").get(apiTokens).problem(t, http.StatusTooManyRequests, "too-many-failures")
		app.api(t, secret).from("2001:db8:1:3::1").get(apiTokens).decode(t, http.StatusOK, &apiPage{})
	})
	t.Run("SlowedAfterTheWait", func(t *testing.T) {
		app.clock.Add(6 * time.Second)
		attacker.as(secret).get(apiTokens).decode(t, http.StatusOK, &apiPage{})
		attacker.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		res := attacker.get(apiTokens)
		res.problem(t, http.StatusTooManyRequests, "too-many-failures")
		app.clock.Add(time.Minute)
		attacker.as(secret).get(apiTokens).decode(t, http.StatusOK, &apiPage{})
	})
	t.Run("MissingTokenIsNotAFailure", func(t *testing.T) {
		anon := app.api(t, "")
		for range 20 {
			anon.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		}
		anon.as(secret).get(apiTokens).decode(t, http.StatusOK, &apiPage{})
	})
}
