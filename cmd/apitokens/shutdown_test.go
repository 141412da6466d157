package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
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
// half sent and its handler is reading the body. The server stops taking
// new connections but finishes that request, so the delete lands whole,
// with its audit event, before serve returns.
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

	// Send the delete's headers on a connection of its own, asking the
	// server to say when the handler starts reading the body: a request
	// whose headers the server reads after shutdown has begun is dropped
	// unanswered, so SIGTERM waits until the delete is surely in a handler.
	u, _ := url.Parse(base)
	body := url.Values{"_csrf": {csrf.FindStringSubmatch(list)[1]}, "from": {"list"}}.Encode()
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head strings.Builder
	fmt.Fprintf(&head, "POST /settings/api-tokens/%s/delete HTTP/1.1\r\nHost: %s\r\n", id, u.Host)
	fmt.Fprintf(&head, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\n", len(body))
	for _, ck := range jar.Cookies(u) {
		fmt.Fprintf(&head, "Cookie: %s=%s\r\n", ck.Name, ck.Value)
	}
	head.WriteString("\r\n")
	if _, err := io.WriteString(conn, head.String()+body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	answers := bufio.NewReader(conn)
	cont, err := http.ReadResponse(answers, nil)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("the delete's handler did not start reading: %v, %v", cont, err)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutting down starts by closing the listener.
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
	healthy := func() bool {
		res, err := probe.Get(base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return true
	}
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
	if _, err := io.WriteString(conn, body[len(body)/2:]); err != nil {
		t.Fatal(err)
	}
	res, err = http.ReadResponse(answers, nil)
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("in-flight delete answered %v, %v; want 303", res, err)
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
