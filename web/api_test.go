package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
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
func newAPIApp(t testing.TB) *testApp {
	return newTestApp(t, func(c *web.Config) { c.TrustedProxies = web.LoopbackProxies })
}

var nextClientIP atomic.Uint32

// uniqueIP returns a documentation address not handed out before.
func uniqueIP() string {
	n := nextClientIP.Add(1)
	return fmt.Sprintf("198.51.%d.%d", 100+n/250, 1+n%250)
}

// apiClient calls the REST API the way curl would: no cookies, no
// redirects, a bearer token and a client address of its own. Every answer
// it receives is held to openapi.json (see do).
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
	res, err := c.do(c.request(method, path, contentType, r, headers...))
	if err != nil {
		c.t.Fatal(err)
	}
	return res
}

// request builds a request as the client sends it; headers are pairs.
func (c *apiClient) request(method, path, contentType string, body io.Reader, headers ...string) *http.Request {
	c.t.Helper()
	req, err := http.NewRequest(method, c.app.url+path, body)
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
	return req
}

// do sends req and holds the answer to openapi.json: a status the
// operation does not document, or a media type, body or header other than
// documented for it, fails the test. It may be called from any goroutine.
func (c *apiClient) do(req *http.Request) (*apiResponse, error) {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	out := &apiResponse{status: res.StatusCode, header: res.Header, body: b}
	contract, err := openAPIContract()
	if err == nil {
		err = contract.check(req.Method, req.URL.EscapedPath(), out.status, out.header, out.body)
	}
	if err != nil {
		c.t.Errorf("%s %s: the answer is not what openapi.json documents: %v\nbody: %.2000s", req.Method, req.URL.RequestURI(), err, out.body)
	}
	return out, nil
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

// apiProblem is a problem as the platform's clients read it.
type apiProblem struct {
	Type    string              `json:"type"`
	Title   string              `json:"title"`
	Status  int                 `json:"status"`
	Detail  string              `json:"detail"`
	TraceID string              `json:"traceId"`
	Errors  map[string][]string `json:"errors"`
}

// fields lists the fields the problem names, in the order of their names.
func (p apiProblem) fields() []string {
	return slices.Sorted(maps.Keys(p.Errors))
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
	if p.Type != "urn:apitokens:problem:"+typ || p.Status != status || p.Title != http.StatusText(status) || p.Detail == "" {
		t.Fatalf("problem %+v, want type %s, title %q", p, typ, http.StatusText(status))
	}
	if p.TraceID == "" || p.TraceID != r.header.Get("X-Trace-Id") {
		t.Fatalf("traceId %q, header X-Trace-Id %q: want the same, not empty", p.TraceID, r.header.Get("X-Trace-Id"))
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

// managerToken makes a token that may use the API, and grant no module
// but Access management.
func (a *testApp) managerToken(name string) (store.Token, string) {
	return a.createToken(name, a.module(store.ModuleAccessManagement))
}

// ownerToken makes a token that may use the API and grant every module of
// the account.
func (a *testApp) ownerToken(name string) (store.Token, string) {
	return a.createToken(name, a.modules...)
}

// moduleRefs is a list of modules as a request body names them.
func moduleRefs(modules ...store.Module) []map[string]string {
	out := make([]map[string]string, len(modules))
	for i, m := range modules {
		out[i] = map[string]string{"id": m.ID}
	}
	return out
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
	logo, err := store.NormalizeLogo(t.Context(), buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return logo
}
