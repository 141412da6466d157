package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestOpenAPIDocumentsEveryRoute checks that every API route the server
// registers is in openapi.json, and every path there is a route. HEAD is
// documented once for all, as GET without the body.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	s, err := New(nil, Config{SessionAuthKey: make([]byte, 32), SessionEncryptionKey: make([]byte, 32),
		PublicURL: &url.URL{Scheme: "http", Host: "127.0.0.1:8080"}})
	if err != nil {
		t.Fatal(err)
	}
	// Without a store: its background writer must stop before it would
	// reach for one.
	t.Cleanup(func() { s.Close() })
	var routes []string
	for _, r := range s.api.Routes() {
		route := r.Method + " " + strings.ReplaceAll(r.Path, ":id", "{id}")
		if r.Method == http.MethodHead {
			route = "GET" + strings.TrimPrefix(route, "HEAD")
		}
		if r.Method != "echo_route_not_found" && !slices.Contains(routes, route) {
			routes = append(routes, route)
		}
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range doc.Paths {
		for method := range item {
			if method != "parameters" {
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(routes)
	slices.Sort(documented)
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("openapi.json documents %s, which is not a route", d)
		}
	}
	if len(routes) < 9 {
		t.Fatalf("only %d API routes found: %v", len(routes), routes)
	}
}

func TestMemoryLimiter(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	wait := func(l *memoryLimiter, key string, now time.Time) time.Duration {
		return l.rate.waitFor(l.keys[key], now)
	}
	t.Run("BurstThenOnePerInterval", func(t *testing.T) {
		l := newMemoryLimiter(rate{burst: 3, interval: 10 * time.Second})
		for i := range 3 {
			if w, _ := l.reserve(ctx, "a", t0); w != 0 {
				t.Fatalf("failure %d had to wait %v", i+1, w)
			}
		}
		if w := wait(l, "a", t0); w != 10*time.Second {
			t.Fatalf("after the burst: wait %v, want 10s", w)
		}
		if w := wait(l, "a", t0.Add(4*time.Second)); w != 6*time.Second {
			t.Fatalf("4s later: wait %v, want 6s", w)
		}
		if w := wait(l, "b", t0); w != 0 {
			t.Fatalf("another client waits %v", w)
		}
		if w := wait(l, "a", t0.Add(10*time.Second)); w != 0 {
			t.Fatalf("after the interval: wait %v", w)
		}
	})
	t.Run("MemoryBounded", func(t *testing.T) {
		l := newMemoryLimiter(rate{burst: 3, interval: 10 * time.Second, keys: 4})
		for i := range 3 {
			l.reserve(ctx, "heavy", t0)
			l.reserve(ctx, "light"+string(rune('a'+i)), t0)
		}
		// Room is made from the clients with the fewest failures; the
		// one being slowed down is kept.
		for i := range 50 {
			l.reserve(ctx, "flood"+strings.Repeat("x", i), t0)
			if len(l.keys) > 4 {
				t.Fatalf("%d clients remembered, limit 4", len(l.keys))
			}
		}
		if wait(l, "heavy", t0) == 0 {
			t.Fatal("the flood of addresses freed the client that was limited")
		}
		// Once drained, old clients go first.
		later := t0.Add(time.Hour)
		l.reserve(ctx, "new", later)
		if len(l.keys) != 1 {
			t.Fatalf("%d clients after everything drained, want 1", len(l.keys))
		}
	})
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":          "203.0.113.9",
		"::ffff:203.0.113.9":   "203.0.113.9",
		"2001:db8:1:2::1":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9": "2001:db8:1:2::/64",
		"not an address":       "not an address",
	} {
		if got := clientKey(in); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", in, got, want)
		}
	}
}
