package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"apitokens/store"
	"apitokens/store/storetest"
)

func TestMain(m *testing.M) {
	store.PasswordCost = bcrypt.MinCost
	os.Exit(storetest.Run(m))
}

// openTestStore opens the database with its key file, as the commands do,
// and closes it when the test ends.
func openTestStore(t *testing.T, db string) *store.Store {
	t.Helper()
	st, _, err := openStore(dbFlags{dsn: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// cli runs the command as a person would type it.
func cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

func TestAdminCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sub", "cli.db")
	t.Run("UserCreate", func(t *testing.T) {
		out, err := cli(t, "a long password\n", "user", "create", "--db", db, "--account", "Initech",
			"--email", "boss@initech.test", "--name", "Bill L", "--role", "admin")
		if err != nil {
			t.Fatal(err)
		}
		var u map[string]string
		if err := json.Unmarshal([]byte(out), &u); err != nil || !strings.HasPrefix(u["id"], "USR-") || u["role"] != "admin" {
			t.Fatalf("output %q: %v", out, err)
		}
		info, err := os.Stat(keyPath(db))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v, mode %v; want 0600", err, info.Mode().Perm())
		}
		if info, err := os.Stat(db); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("database mode %v, want 0600", info.Mode().Perm())
		}
	})
	t.Run("ErrDuplicateUser", func(t *testing.T) {
		_, err := cli(t, "another password\n", "user", "create", "--db", db, "--account", "Initech",
			"--email", "boss@initech.test", "--name", "Again")
		if err == nil || !strings.Contains(err.Error(), "exists already") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrAccountDiffersInCase", func(t *testing.T) {
		_, err := cli(t, "a long password\n", "user", "create", "--db", db, "--account", " initech ",
			"--email", "peter@initech.test", "--name", "Peter")
		want := `an account named "Initech" exists already: account names are unique regardless of case; to add the user to it, give --account "Initech"`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to say %s", err, want)
		}
		st := openTestStore(t, db)
		if _, err := st.AccountByName(context.Background(), "initech"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a second Initech: %v", err)
		}
		if _, err := st.UserByEmail(context.Background(), "peter@initech.test"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the user was added: %v", err)
		}
	})
	t.Run("ErrShortPassword", func(t *testing.T) {
		_, err := cli(t, "short\n", "user", "create", "--db", db, "--account", "Initech",
			"--email", "peter@initech.test", "--name", "Peter")
		if err == nil || !strings.Contains(err.Error(), "at least 8") {
			t.Fatalf("err = %v", err)
		}
	})
	var secret, id string
	t.Run("TokenCreate", func(t *testing.T) {
		out, err := cli(t, "", "token", "create", "--db", db, "--account", "Initech", "--name", "TPS reports",
			"--module", "billing", "--module", "Catalog")
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			ID, Name, Token string
			Modules         []struct{ ID, Name string }
		}
		if err := json.Unmarshal([]byte(out), &tok); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if !strings.HasPrefix(tok.ID, "TKN-") || !parsesTo(tok.Token, tok.ID) || len(tok.Modules) != 2 {
			t.Fatalf("token %+v", tok)
		}
		secret, id = tok.Token, tok.ID
	})
	t.Run("SecretWorksWithTheSameKeys", func(t *testing.T) {
		st := openTestStore(t, db)
		got, err := st.TokenBySecret(context.Background(), secret)
		if err != nil || got.ID != id || got.CreatedBy.Name != "Bill L" {
			t.Fatalf("TokenBySecret = %+v, %v", got, err)
		}
	})
	errCases := []struct {
		name string
		args []string
		want string
	}{
		{"ErrUnknownAccount", []string{"token", "create", "--db", db, "--account", "Nobody", "--name", "x"}, "no account"},
		{"ErrUnknownModule", []string{"token", "create", "--db", db, "--account", "Initech", "--name", "x", "--module", "Teleport"}, "no module"},
		{"ErrMissingName", []string{"token", "create", "--db", db, "--account", "Initech"}, "required"},
		{"ErrUnknownCommand", []string{"frobnicate"}, "unknown command"},
		{"ErrUnknownFlag", []string{"serve", "--colour"}, "flag provided but not defined"},
		{"ErrTrustProxyNotARange", []string{"serve", "--db", db, "--trust-proxy=10.0.0.0/33"}, `--trust-proxy: "10.0.0.0/33" is neither an address range such as 10.0.0.0/8 nor an address`},
		{"ErrTrustProxyOneOfTwo", []string{"serve", "--db", db, "--trust-proxy=10.0.0.0/8,proxy.internal"}, `"proxy.internal" is neither`},
		{"ErrTrustProxyWithoutEquals", []string{"serve", "--db", db, "--trust-proxy", "10.0.0.0/8"}, "--trust-proxy=10.0.0.0/8"},
		{"ErrEmptyDB", []string{"serve", "--db", "", "--addr", "127.0.0.1:0"}, "--db (or APITOKENS_DB) must name the database file"},
		{"ErrPublicURLWithPath", []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--public-url", "https://tokens.example.com/app"}, "--public-url: the public URL must be"},
		{"ErrPublicURLNoScheme", []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--public-url", "tokens.example.com"}, "--public-url: the public URL must be"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := cli(t, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
	t.Run("ErrReadOnlyDB", func(t *testing.T) {
		// A database written by a later SQLite, which this one may read
		// but not write: serve refuses it rather than start and fail at
		// the first sign-in.
		ro := filepath.Join(t.TempDir(), "ro.db")
		if _, err := cli(t, "a long password\n", "user", "create", "--db", ro, "--account", "RO", "--email", "ro@ro.test", "--name", "R"); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(ro, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte{3}, 18) // the file format write version
		f.Close()
		_, err = cli(t, "", "serve", "--db", ro, "--addr", "127.0.0.1:0")
		if err == nil || !strings.Contains(err.Error(), "cannot be written") {
			t.Fatalf("serve on a read-only database: err = %v", err)
		}
	})
	t.Run("ErrAccountWithoutAdmin", func(t *testing.T) {
		if _, err := cli(t, "member password\n", "user", "create", "--db", db, "--account", "Hooli",
			"--email", "m@hooli.test", "--name", "M"); err != nil {
			t.Fatal(err)
		}
		_, err := cli(t, "", "token", "create", "--db", db, "--account", "Hooli", "--name", "x")
		if err == nil || !strings.Contains(err.Error(), "no such administrator") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestKeysFromEnvironment(t *testing.T) {
	db := filepath.Join(t.TempDir(), "env.db")
	for _, name := range []string{"APITOKENS_SESSION_AUTH_KEY", "APITOKENS_SESSION_ENCRYPTION_KEY", "APITOKENS_DIGEST_KEY", "APITOKENS_ENCRYPTION_KEY"} {
		t.Setenv(name, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=") // 32 bytes
	}
	if _, err := loadKeys(dbFlags{dsn: db}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(keyPath(db)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key file was written although the environment had every key: %v", err)
	}
	t.Setenv("APITOKENS_DIGEST_KEY", "dG9vIHNob3J0")
	if _, err := loadKeys(dbFlags{dsn: db}); err == nil || !strings.Contains(err.Error(), "token_digest") {
		t.Fatalf("a short key was accepted: %v", err)
	}
}

// accountNamed is the account of that name, which the test needs.
func accountNamed(t *testing.T, st *store.Store, name string) store.Account {
	t.Helper()
	acc, err := st.AccountByName(context.Background(), name)
	if err != nil {
		t.Fatalf("account %q: %v", name, err)
	}
	return acc
}

// startServe runs `apitokens serve` with args in the test. It returns what
// serve prints, line by line, and stop, which ends serve as a signal would
// and fails the test unless serve returns cleanly within its shutdown time.
// A test that ends without calling stop has it called at its end.
func startServe(t *testing.T, args ...string) (lines *bufio.Scanner, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), w, io.Discard)
		w.Close()
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			go io.Copy(io.Discard, out)
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve returned %v after shutdown", err)
				}
			case <-time.After(25 * time.Second):
				t.Error("serve did not shut down")
			}
		})
	}
	t.Cleanup(stop)
	return bufio.NewScanner(out), stop
}

func TestServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	lines, stop := startServe(t, "--db", db, "--addr", "127.0.0.1:0", "--demo")
	if !lines.Scan() {
		t.Fatal("serve printed nothing")
	}
	first := lines.Text()
	url := first[strings.Index(first, "http://"):]
	if !lines.Scan() || !strings.Contains(lines.Text(), store.DemoAccount.AdminEmail) {
		t.Fatalf("serve did not print the demo sign-in: %q", lines.Text())
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/login" {
		t.Fatalf("GET %s ended at %s with %d, want the sign-in page", url, res.Request.URL.Path, res.StatusCode)
	}

	// The README's API example: a token from the command line, beside the
	// running server, then a call with it.
	out2, err := cli(t, "", "token", "create", "--db", db, "--account", store.DemoAccount.AccountName,
		"--name", "curl example", "--module", store.ModuleAccessManagement)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ ID, Token string }
	if err := json.Unmarshal([]byte(out2), &tok); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(url, "/settings/api-tokens")+"/public/v1/accounts/api-tokens?limit=5", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Meta struct{ Pagination struct{ Total int } } `json:"$meta"`
		Data []struct{ ID string }
	}
	err = json.NewDecoder(res.Body).Decode(&page)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || page.Meta.Pagination.Total != 14 || len(page.Data) != 5 || page.Data[0].ID != tok.ID {
		t.Fatalf("API call = %d, %+v, %v; want the 13 demo tokens and the new one first", res.StatusCode, page, err)
	}
	stop()
	st := openTestStore(t, db)
	acc := accountNamed(t, st, store.DemoAccount.AccountName)
	if got, err := st.TokenByID(context.Background(), acc.ID, tok.ID); err != nil || got.LastAccessAt.IsZero() {
		t.Fatalf("the API call's last access was not written by shutdown: %+v, %v", got.LastAccessAt, err)
	}
}

// parsesTo reports whether secret is well formed and names the token id.
func parsesTo(secret, id string) bool {
	got, err := store.ParseSecret(secret)
	return err == nil && got == id
}

// TestTuneGC: serving sets the collector's percent and memory limit, unless
// the environment names its own.
func TestTuneGC(t *testing.T) {
	restore := func(percent int, limit int64) {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
	defer restore(debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64))
	t.Run("Defaults", func(t *testing.T) {
		t.Setenv("GOGC", "")
		t.Setenv("GOMEMLIMIT", "")
		tuneGC()
		if got := debug.SetGCPercent(100); got != serveGCPercent {
			t.Errorf("GC percent %d, want %d", got, serveGCPercent)
		}
		if got := debug.SetMemoryLimit(-1); got != serveMemoryLimit {
			t.Errorf("memory limit %d, want %d", got, serveMemoryLimit)
		}
	})
	t.Run("FromTheEnvironment", func(t *testing.T) {
		t.Setenv("GOGC", "150")
		t.Setenv("GOMEMLIMIT", "1GiB")
		restore(150, 1<<30) // as the runtime read them at start
		tuneGC()
		if got := debug.SetGCPercent(100); got != 150 {
			t.Errorf("GC percent %d, want the environment's 150", got)
		}
		if got := debug.SetMemoryLimit(-1); got != 1<<30 {
			t.Errorf("memory limit %d, want the environment's", got)
		}
	})
}
