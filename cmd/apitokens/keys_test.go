package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flipKey changes one bit of a base64-encoded key, as damage or a typo does.
func flipKey(t *testing.T, b64 string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	b[5] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

// newKeyedDB makes a database with an account, an administrator and a
// token, and its key file.
func newKeyedDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "keyed.db")
	if _, err := cli(t, "a long password\n", "user", "create", "--db", db, "--account", "Keyed", "--email", "k@keyed.test", "--name", "K", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "", "token", "create", "--db", db, "--account", "Keyed", "--name", "Sealed"); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestWrongKeysRefused: keys that did not seal the database's secrets are
// refused at start, naming the key and where it came from.
func TestWrongKeysRefused(t *testing.T) {
	t.Run("ErrKeyFile", func(t *testing.T) {
		db := newKeyedDB(t)
		kf, err := readKeyFile(keyPath(db))
		if err != nil {
			t.Fatal(err)
		}
		kf.TokenEncryption = flipKey(t, kf.TokenEncryption)
		if err := writeKeyFile(keyPath(db), kf); err != nil {
			t.Fatal(err)
		}
		_, err = cli(t, "", "token", "create", "--db", db, "--account", "Keyed", "--name", "Under a wrong key")
		want := "the token encryption key is not the one this database's secrets were made with; check token_encryption in " + keyPath(db)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want %q", err, want)
		}
	})
	t.Run("ErrEnvironment", func(t *testing.T) {
		db := newKeyedDB(t)
		kf, err := readKeyFile(keyPath(db))
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("APITOKENS_SESSION_AUTH_KEY", kf.SessionAuth)
		t.Setenv("APITOKENS_SESSION_ENCRYPTION_KEY", kf.SessionEncryption)
		t.Setenv("APITOKENS_DIGEST_KEY", flipKey(t, kf.TokenDigest))
		t.Setenv("APITOKENS_ENCRYPTION_KEY", kf.TokenEncryption)
		_, err = cli(t, "", "token", "create", "--db", db, "--account", "Keyed", "--name", "Under a wrong key")
		if err == nil || !strings.Contains(err.Error(), "the token digest key is not the one") || !strings.Contains(err.Error(), "check APITOKENS_DIGEST_KEY") {
			t.Fatalf("err = %v, want the digest key in the environment named", err)
		}
	})
}

// TestKeyFileReadableByOthers: serve says so when the key file may be read
// by anyone but its owner.
func TestKeyFileReadableByOthers(t *testing.T) {
	db := newKeyedDB(t)
	if err := os.Chmod(keyPath(db), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, strings.NewReader(""), w, &logs)
		w.Close()
	}()
	started := bufio.NewScanner(out).Scan()
	cancel()
	go io.Copy(io.Discard, out)
	if err := <-done; err != nil || !started {
		t.Fatalf("serve: %v", err)
	}
	if want := "may be read by others (mode 0644)"; !strings.Contains(logs.String(), want) {
		t.Fatalf("serve logged no warning %q:\n%s", want, logs.String())
	}
}

// TestDBNamedLikeKeyFile: a database path that is its own key file's path
// is refused, and the key file left as it was.
func TestDBNamedLikeKeyFile(t *testing.T) {
	db := newKeyedDB(t)
	before, err := os.ReadFile(keyPath(db))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cli(t, "a long password\n", "user", "create", "--db", keyPath(db), "--account", "X", "--email", "x@x.test", "--name", "X")
	if err == nil || !strings.Contains(err.Error(), "--db must not end in .keys") {
		t.Fatalf("err = %v", err)
	}
	after, err := os.ReadFile(keyPath(db))
	if err != nil || !bytes.Equal(before, after) || !json.Valid(after) {
		t.Fatalf("the key file changed: %v", err)
	}
}
