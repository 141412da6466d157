package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchPage measures a signed-in GET of path through the whole server —
// middleware, session, store, render — without the network.
// It reports the bytes sent: with acceptEncoding "gzip", what a browser
// receives.
func benchPage(b *testing.B, tokens int, acceptEncoding string, path func(app *testApp, firstID string) string) {
	app := newTestApp(b)
	var first string
	for i := range tokens {
		tok, _ := app.createToken(fmt.Sprintf("Token %03d", i), app.modules[i%len(app.modules)])
		first = tok.ID
	}
	c := app.signedIn(b, app.admin)
	req := httptest.NewRequest(http.MethodGet, app.url+path(app, first), nil)
	for _, ck := range c.http.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	var sent int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		app.srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
		sent = w.Body.Len()
	}
	b.ReportMetric(float64(sent), "sent-bytes")
}

func BenchmarkListPage(b *testing.B) {
	benchPage(b, 50, "", func(*testApp, string) string { return tokensPath })
}

// BenchmarkListPage50Rows is a page of 50 rows, the default before pages
// of 10.
func BenchmarkListPage50Rows(b *testing.B) {
	benchPage(b, 50, "", func(*testApp, string) string { return tokensPath + "?limit=50" })
}

// BenchmarkListPageGzip is the list as a browser that accepts gzip gets it.
func BenchmarkListPageGzip(b *testing.B) {
	benchPage(b, 50, "gzip, deflate, br", func(*testApp, string) string { return tokensPath + "?limit=50" })
}

func BenchmarkDetailsPage(b *testing.B) {
	benchPage(b, 1, "", func(_ *testApp, id string) string { return tokensPath + "/" + id })
}
