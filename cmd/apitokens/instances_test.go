package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"apitokens/store"
	"apitokens/store/storetest"
)

// TestServeTwoInstancesOnPostgres runs the binary's serve twice on one
// PostgreSQL database with one key file, as the README's "Running several
// instances" does: a token made by the command line works on both, and a
// delete through one is refused by the other at the next call.
func TestServeTwoInstancesOnPostgres(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	keys := filepath.Join(t.TempDir(), "apitokens.keys")
	base := func(args ...string) string {
		t.Helper()
		lines, _ := startServe(t, append([]string{"--db", dsn, "--keys", keys, "--addr", "127.0.0.1:0"}, args...)...)
		if !lines.Scan() {
			t.Fatal("serve printed nothing")
		}
		first := lines.Text()
		go func() {
			for lines.Scan() {
			}
		}()
		return strings.TrimSuffix(first[strings.Index(first, "http://"):], "/settings/api-tokens")
	}
	a, b := base("--demo"), base()

	out, err := cli(t, "", "token", "create", "--db", dsn, "--keys", keys, "--account", store.DemoAccount.AccountName,
		"--name", "On both", "--module", store.ModuleAccessManagement)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ ID, Token string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	call := func(method, url string) int {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, base := range []string{a, b} {
		if status := call(http.MethodGet, base+"/public/v1/accounts/api-tokens/"+tok.ID); status != http.StatusOK {
			t.Fatalf("GET on %s = %d, want 200", base, status)
		}
		res, err := http.Get(base + "/readyz")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("/readyz on %s = %v, %v", base, res, err)
		}
		res.Body.Close()
	}
	if status := call(http.MethodDelete, b+"/public/v1/accounts/api-tokens/"+tok.ID); status != http.StatusNoContent {
		t.Fatalf("DELETE on B = %d, want 204", status)
	}
	if status := call(http.MethodGet, a+"/public/v1/accounts/api-tokens/"+tok.ID); status != http.StatusUnauthorized {
		t.Fatalf("after the delete on B, A = %d, want 401", status)
	}
}
