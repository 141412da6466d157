package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"apitokens/web"
)

// TestPublicURL: the API endpoint shown on a token's page is the configured
// public URL, whatever Host the request names, and a form posted from
// that URL (through a proxy that says nothing of it) is from this site.
func TestPublicURL(t *testing.T) {
	public, err := web.ParsePublicURL("https://tokens.example.com")
	if err != nil {
		t.Fatal(err)
	}
	app := newTestApp(t, func(cfg *web.Config) { cfg.PublicURL = public })
	tok, _ := app.createToken("Endpoint")
	c := app.signedIn(t, app.admin)
	details := tokensPath + "/" + tok.ID
	want := "API endpoint https://tokens.example.com/public/v1/accounts/api-tokens"
	t.Run("Endpoint", func(t *testing.T) {
		if page := c.get(details); !strings.Contains(page.text(), want) {
			t.Fatalf("details page lacks %q:\n%s", want, page.text())
		}
	})
	t.Run("ErrHostHeader", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, app.url+details, nil)
		req.Host = "evil.example"
		// The jar would choose cookies by the Host; a client sends its own.
		for _, k := range c.http.Jar.Cookies(req.URL) {
			req.AddCookie(k)
		}
		res := c.do(req)
		if strings.Contains(res.body, "evil.example") || !strings.Contains(res.text(), want) {
			t.Fatalf("Host: evil.example = %d:\n%s", res.status, res.text())
		}
	})
	t.Run("OriginOfPublicURL", func(t *testing.T) {
		csrf := c.get(tokensPath).csrf(t)
		res := c.post(tokensPath+"/"+tok.ID+"/disable", url.Values{"_csrf": {csrf}}, "Origin", "https://tokens.example.com")
		if res.status != http.StatusSeeOther {
			t.Fatalf("a form from the public URL = %d:\n%s", res.status, res.text())
		}
	})
}

func TestParsePublicURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://tokens.example.com":     "https://tokens.example.com",
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"https://Tokens.Example.com/":    "https://tokens.example.com",
		"https://tokens.example.com:443": "https://tokens.example.com",
		"http://[::1]:80":                "http://[::1]",
	} {
		if u, err := web.ParsePublicURL(raw); err != nil || u.String() != want {
			t.Errorf("%q = %v, %v; want %s", raw, u, err, want)
		}
	}
	for _, bad := range []string{"", "tokens.example.com", "ftp://tokens.example.com", "https://", "https://tokens.example.com/app",
		"https://tokens.example.com?x=1", "https://tokens.example.com#top", "https://user:pw@tokens.example.com", "javascript:alert(1)"} {
		if _, err := web.ParsePublicURL(bad); err == nil || !strings.Contains(err.Error(), "public URL must be") {
			t.Errorf("%q accepted (%v)", bad, err)
		}
	}
}
