package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"apitokens/store"
)

// TestGracefulShutdown sends the process a real SIGTERM while a delete is
// half sent. The server stops taking new connections but finishes that
// request, so the delete lands whole, with its audit event, before serve
// returns.
func TestGracefulShutdown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "term.db")
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--demo"}, strings.NewReader(""), w, io.Discard)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatalf("serve printed nothing; it returned %v", <-done)
	}
	first := lines.Text()
	base := strings.TrimSuffix(first[strings.Index(first, "http://"):], "/settings/api-tokens")
	go io.Copy(io.Discard, out)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	get := func(path string) string {
		t.Helper()
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	login := get("/login")
	res, err := c.PostForm(base+"/login", url.Values{"_csrf": {csrf.FindStringSubmatch(login)[1]},
		"email": {store.DemoAccount.AdminEmail}, "password": {store.DemoAccount.Password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	list := get("/settings/api-tokens")
	id := regexp.MustCompile(`data-token-id="(TKN-\d{4}-\d{4})"`).FindStringSubmatch(list)[1]

	// Send the delete's headers and half its body, then SIGTERM.
	body := url.Values{"_csrf": {csrf.FindStringSubmatch(list)[1]}, "from": {"list"}}.Encode()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, base+"/settings/api-tokens/"+id+"/delete", pr)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = int64(len(body))
	// A connection of its own: one kept from an earlier request would be idle,
	// and shutting down closes idle connections.
	noRedirect := &http.Client{Transport: &http.Transport{}, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	result := make(chan *http.Response, 1)
	go func() {
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Errorf("the in-flight delete failed: %v", err)
		}
		result <- res
	}()
	pw.Write([]byte(body[:len(body)/2]))
	// The server takes connections in the order they came: once a request
	// on a newer connection is answered, it has taken the delete's.
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
	healthy := func() bool {
		res, err := probe.Get(base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return true
	}
	if !healthy() {
		t.Fatal("the server does not answer")
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutting down starts by closing the listener.
	for deadline := time.Now().Add(10 * time.Second); healthy(); {
		if time.Now().After(deadline) {
			t.Fatal("new connections were still accepted 10s after SIGTERM")
		}
	}
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) with a request in flight", err)
	case <-time.After(300 * time.Millisecond):
		// Still serving: it waits for the delete.
	}
	pw.Write([]byte(body[len(body)/2:]))
	pw.Close()
	res = <-result
	if res == nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("in-flight delete answered %v, want 303", res)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its last request")
	}

	st := openTestStore(t, db)
	acc := accountNamed(t, st, store.DemoAccount.AccountName)
	if _, err := st.TokenByID(context.Background(), acc.ID, id); err == nil {
		t.Fatal("the delete acknowledged during shutdown is not in the database")
	}
	events, err := st.AuditEvents(context.Background(), acc.ID, id)
	if err != nil || len(events) == 0 || events[0].Action != store.AuditDeleted {
		t.Fatalf("audit trail %+v, %v; want the delete on top", events, err)
	}
}
