package web_test

import (
	"strings"
	"testing"

	"apitokens/static"
)

// TestStaticCache: only the URL a page links to, with the hash of the asset
// it names, may be kept by caches for good; any other is fetched again.
func TestStaticCache(t *testing.T) {
	app := newTestApp(t)
	c := app.client(t)
	css := static.Versioned("app.css")
	if login := c.get("/login"); !strings.Contains(login.body, `href="`+css+`"`) {
		t.Fatalf("the sign-in page does not link %s", css)
	}
	js := static.Versioned("app.js")
	jsVersion := js[strings.Index(js, "?v=")+3:]
	for _, tc := range []struct {
		name, path string
		forGood    bool
	}{
		{"Versioned", css, true},
		{"Unversioned", "/static/app.css", false},
		{"ErrMadeUpVersion", "/static/app.css?v=anything", false},
		{"ErrEmptyVersion", "/static/app.css?v=", false},
		{"ErrOtherAssetsVersion", "/static/app.css?v=" + jsVersion, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.get(tc.path)
			cc := res.header.Get("Cache-Control")
			if res.status != 200 || strings.Contains(cc, "immutable") != tc.forGood || strings.Contains(cc, "max-age=31536000") != tc.forGood {
				t.Fatalf("%s = %d, Cache-Control %q", tc.path, res.status, cc)
			}
		})
	}
}
