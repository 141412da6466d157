package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchPage measures a signed-in GET of path through the whole server —
// middleware, session, store, render — without the network.
func benchPage(b *testing.B, tokens int, path func(app *testApp, firstID string) string) {
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
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		app.srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

func BenchmarkListPage(b *testing.B) {
	benchPage(b, 50, func(*testApp, string) string { return tokensPath })
}

func BenchmarkDetailsPage(b *testing.B) {
	benchPage(b, 1, func(_ *testApp, id string) string { return tokensPath + "/" + id })
}
