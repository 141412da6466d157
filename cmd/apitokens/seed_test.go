package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func TestSeed(t *testing.T) {
	db := filepath.Join(t.TempDir(), "seed.db")
	if _, err := cli(t, "a long password\n", "user", "create", "--db", db, "--account", "Globex",
		"--email", "hank@globex.test", "--name", "Hank S", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		out, err := cli(t, "", "seed", "--db", db, "--account", "Globex", "--tokens", "60")
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Created          int
			Active, Disabled struct{ ID, Token string }
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if res.Created != 60 || !parsesTo(res.Active.Token, res.Active.ID) || !parsesTo(res.Disabled.Token, res.Disabled.ID) {
			t.Fatalf("seed printed %+v", res)
		}
		st := openTestStore(t, db)
		got, err := st.TokenBySecret(context.Background(), res.Active.Token)
		if err != nil || got.ID != res.Active.ID || got.CreatedBy.Name != "Hank S" {
			t.Fatalf("the active secret authenticates as %+v, %v", got, err)
		}
		if _, err := st.TokenBySecret(context.Background(), res.Disabled.Token); err == nil {
			t.Fatal("the disabled secret authenticates")
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ErrUnknownAccount", []string{"seed", "--db", db, "--account", "Nobody", "--tokens", "5"}, "no account"},
		{"ErrNoCount", []string{"seed", "--db", db, "--account", "Globex"}, "--tokens"},
		{"ErrTooFew", []string{"seed", "--db", db, "--account", "Globex", "--tokens", "1"}, "between 2 and"},
		{"ErrUnknownCreator", []string{"seed", "--db", db, "--account", "Globex", "--tokens", "5", "--by", "x@globex.test"}, "no such administrator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := cli(t, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestServeProfiles(t *testing.T) {
	t.Run("ErrNotLoopback", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "p.db")
		for _, addr := range []string{"0.0.0.0:0", ":6060", "192.0.2.1:6060", "example.com:6060"} {
			_, err := cli(t, "", "serve", "--db", db, "--addr", "127.0.0.1:0", "--pprof", addr)
			if err == nil || !strings.Contains(err.Error(), "loopback") {
				t.Fatalf("--pprof %s: err = %v, want a refusal", addr, err)
			}
		}
	})
	t.Run("OK", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "p.db")
		lines, _ := startServe(t, "--db", db, "--addr", "127.0.0.1:0", "--pprof", "127.0.0.1:0")
		urls := map[string]string{}
		for len(urls) < 2 && lines.Scan() {
			if i := strings.Index(lines.Text(), "http://"); i >= 0 {
				urls[strings.Fields(lines.Text())[0]] = lines.Text()[i:]
			}
		}
		app := strings.TrimSuffix(urls["apitokens"], "/settings/api-tokens")
		if app == "" || urls["pprof"] == "" {
			t.Fatalf("serve printed %v, want the app's and pprof's addresses", urls)
		}
		get := func(url string) int {
			res, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		if code := get(urls["pprof"] + "heap"); code != http.StatusOK {
			t.Fatalf("GET %sheap: %d", urls["pprof"], code)
		}
		// The profiles are not on the application's address.
		if code := get(app + "/debug/pprof/heap"); code != http.StatusNotFound {
			t.Fatalf("GET %s/debug/pprof/heap: %d, want 404", app, code)
		}
	})
}
