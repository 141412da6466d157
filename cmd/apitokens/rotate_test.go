package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"apitokens/store"
)

func TestKeysRotate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rotate.db")
	if _, err := cli(t, "a long password\n", "user", "create", "--db", db, "--account", "Rotors", "--email", "r@example.com", "--name", "R", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, "", "token", "create", "--db", db, "--account", "Rotors", "--name", "Kept")
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ ID, Token string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(keyPath(db))

	out, err = cli(t, "", "keys", "rotate", "--db", db)
	if err != nil || !strings.Contains(out, "moved the secrets of 1 tokens") {
		t.Fatalf("keys rotate = %q, %v", out, err)
	}
	after, _ := os.ReadFile(keyPath(db))
	var kf keyFile
	if err := json.Unmarshal(after, &kf); err != nil || kf.PreviousTokenDigest != "" || string(before) == string(after) {
		t.Fatalf("key file after rotation: %s (%v)", after, err)
	}
	if fi, _ := os.Stat(keyPath(db)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	st := openTestStore(t, db)
	got, err := st.TokenBySecret(context.Background(), tok.Token)
	if err != nil || got.ID != tok.ID {
		t.Fatalf("the secret no longer authenticates under the new keys: %v", err)
	}
	acc := accountNamed(t, st, "Rotors")
	if shown, err := st.RevealSecret(context.Background(), acc.ID, tok.ID, store.UserActor("USR-0000-0000", "")); err != nil || shown != tok.Token {
		t.Fatalf("the secret can no longer be shown: %v", err)
	}

	t.Run("ResumesAnInterruptedRotation", func(t *testing.T) {
		// As if the process died after writing both keys: the file holds
		// new and previous keys, the database is still under the previous.
		var cur keyFile
		json.Unmarshal(after, &cur)
		fresh := newKeyFile()
		cur.PreviousTokenDigest, cur.PreviousTokenEncryption = cur.TokenDigest, cur.TokenEncryption
		cur.TokenDigest, cur.TokenEncryption = fresh.TokenDigest, fresh.TokenEncryption
		if err := writeKeyFile(keyPath(db), cur); err != nil {
			t.Fatal(err)
		}
		st.Close()
		out, err := cli(t, "", "keys", "rotate", "--db", db)
		if err != nil || !strings.Contains(out, "moved the secrets of 1 tokens") {
			t.Fatalf("keys rotate = %q, %v", out, err)
		}
		final, _ := os.ReadFile(keyPath(db))
		var kf keyFile
		json.Unmarshal(final, &kf)
		if kf.TokenDigest != fresh.TokenDigest || kf.PreviousTokenDigest != "" {
			t.Fatal("the interrupted rotation was not finished with the keys it had started")
		}
		st2 := openTestStore(t, db)
		if _, err := st2.TokenBySecret(context.Background(), tok.Token); err != nil {
			t.Fatalf("after the resumed rotation: %v", err)
		}
	})
}

// TestKeysRotateWithKeysFlag: keys rotate writes the key file --keys names,
// and leaves none beside the database.
func TestKeysRotateWithKeysFlag(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rotate.db")
	keys := filepath.Join(t.TempDir(), "shared.keys")
	if _, err := cli(t, "a long password\n", "user", "create", "--db", db, "--keys", keys, "--account", "Rotors", "--email", "r@example.com", "--name", "R", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, "", "token", "create", "--db", db, "--keys", keys, "--account", "Rotors", "--name", "Kept")
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ ID, Token string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(keys)
	out, err = cli(t, "", "keys", "rotate", "--db", db, "--keys", keys)
	if err != nil || !strings.Contains(out, "new keys in "+keys) {
		t.Fatalf("keys rotate = %q, %v", out, err)
	}
	after, _ := os.ReadFile(keys)
	if string(before) == string(after) {
		t.Fatal("the key file was not rotated")
	}
	if fi, err := os.Stat(keys); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, want mode 0600", err)
	}
	if _, err := os.Stat(keyPath(db)); err == nil {
		t.Fatal("a key file was made beside the database")
	}
	st, _, err := openStore(dbFlags{dsn: db, keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got, err := st.TokenBySecret(context.Background(), tok.Token); err != nil || got.ID != tok.ID {
		t.Fatalf("the secret no longer authenticates under the new keys: %v", err)
	}
}
