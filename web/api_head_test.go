package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"apitokens/store"
	"apitokens/web"
)

// headOverWire sends HEAD path, with a bearer secret unless it is empty,
// over a connection of its own, and returns the answer with every byte that
// came after its headers: an HTTP client never reads a body in answer to
// HEAD, so the connection is read to its end instead.
func headOverWire(t *testing.T, app *testApp, path, secret string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(app.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	auth := ""
	if secret != "" {
		auth = "Authorization: Bearer " + secret + "\r\n"
	}
	fmt.Fprintf(conn, "HEAD %s HTTP/1.1\r\nHost: %s\r\n%sX-Forwarded-For: %s\r\nConnection: close\r\n\r\n",
		path, conn.RemoteAddr(), auth, uniqueIP())
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, &http.Request{Method: http.MethodHead})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	contract, err := openAPIContract()
	if err == nil {
		err = contract.check(http.MethodHead, strings.Split(path, "?")[0], res.StatusCode, res.Header, rest)
	}
	if err != nil {
		t.Errorf("HEAD %s: the answer is not what openapi.json documents: %v", path, err)
	}
	return res, rest
}

// TestAPIHead asks for every GET address of the API with HEAD: the answer
// is the GET's status and headers without its body, and it takes the same
// credentials.
func TestAPIHead(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("Automation")
	withLogo, _, err := app.store.CreateToken(context.Background(), store.NewToken{AccountID: app.account.ID,
		Name: "With a logo", Logo: pngLogo(t)}, store.UserActor(app.admin.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := app.createTokenIn(app.otherAdmin, "Another account's")
	routes := web.Routes(app.srv)
	for _, r := range routes {
		if path, ok := strings.CutPrefix(r, "GET "); ok && strings.HasPrefix(path, "/public/") && !slices.Contains(routes, "HEAD "+path) {
			t.Errorf("the API's %s does not answer HEAD", r)
		}
	}
	one := apiTokens + "/" + withLogo.ID
	for _, tc := range []struct {
		name, path, secret string
		status             int
	}{
		{"List", apiTokens + "?limit=1", secret, http.StatusOK},
		{"Token", one, secret, http.StatusOK},
		{"Icon", one + "/icon", secret, http.StatusOK},
		{"Description", "/public/v1/openapi.json", "", http.StatusOK},
		{"ErrNoToken", apiTokens, "", http.StatusUnauthorized},
		{"ErrForgedToken", one, forgeSecret(withLogo.ID), http.StatusUnauthorized},
		{"ErrAnotherAccount", apiTokens + "/" + foreign.ID, secret, http.StatusNotFound},
		{"ErrPostOnly", one + "/enable", secret, http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, rest := headOverWire(t, app, tc.path, tc.secret)
			if res.StatusCode != tc.status || len(rest) != 0 {
				t.Fatalf("HEAD = %d with %d bytes of body, want %d and none:\n%.300s", res.StatusCode, len(rest), tc.status, rest)
			}
			if tc.status == http.StatusMethodNotAllowed {
				if allow := res.Header.Get("Allow"); !strings.Contains(allow, http.MethodPost) || strings.Contains(allow, http.MethodGet) {
					t.Fatalf("Allow %q, want POST and no GET", allow)
				}
				return
			}
			get := app.api(t, tc.secret).get(tc.path)
			if get.status != tc.status {
				t.Fatalf("GET = %d, HEAD = %d", get.status, res.StatusCode)
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "WWW-Authenticate", "X-Content-Type-Options", "Content-Security-Policy"} {
				if res.Header.Get(h) != get.header.Get(h) {
					t.Errorf("%s: HEAD %q, GET %q", h, res.Header.Get(h), get.header.Get(h))
				}
			}
			if n := res.Header.Get("Content-Length"); n != "" && n != fmt.Sprint(len(get.body)) {
				t.Errorf("HEAD says Content-Length %s, GET sends %d bytes", n, len(get.body))
			}
		})
	}
}
