package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"apitokens/store"
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

// serveLogs starts serve with args, stops it once it listens, and returns
// what it logged, which is where its warnings go.
func serveLogs(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), w, &logs)
		w.Close()
	}()
	started := bufio.NewScanner(out).Scan()
	cancel()
	go io.Copy(io.Discard, out)
	if err := <-done; err != nil || !started {
		t.Fatalf("serve: %v", err)
	}
	return logs.String()
}

// TestKeyFileReadableByOthers: serve says so when the key file may be read
// by anyone but its owner.
func TestKeyFileReadableByOthers(t *testing.T) {
	db := newKeyedDB(t)
	if err := os.Chmod(keyPath(db), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := serveLogs(t, "--db", db)
	if want := "may be read by others (mode 0644)"; !strings.Contains(logs, want) {
		t.Fatalf("serve logged no warning %q:\n%s", want, logs)
	}
}

// TestKeysFlag: --keys (or APITOKENS_KEYS) names the key file, which is used
// instead of one beside the database, as several instances sharing keys need.
func TestKeysFlag(t *testing.T) {
	db := filepath.Join(t.TempDir(), "flag.db")
	keys := filepath.Join(t.TempDir(), "shared", "apitokens.keys")
	t.Run("CreatesTheFile", func(t *testing.T) {
		if _, err := cli(t, "a long password\n", "user", "create", "--db", db, "--keys", keys,
			"--account", "Shared", "--email", "s@shared.test", "--name", "S", "--role", "admin"); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(keys)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v, want it created with mode 0600", err)
		}
		if _, err := os.Stat(keyPath(db)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("a key file was made beside the database as well: %v", err)
		}
	})
	t.Run("UsesTheFile", func(t *testing.T) {
		if _, err := cli(t, "", "token", "create", "--db", db, "--keys", keys, "--account", "Shared", "--name", "By flag"); err != nil {
			t.Fatal(err)
		}
		t.Setenv("APITOKENS_KEYS", keys)
		if _, err := cli(t, "", "token", "create", "--db", db, "--account", "Shared", "--name", "By environment"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrWithoutTheFile", func(t *testing.T) {
		// The database's secrets were made with the keys in --keys: fresh
		// ones beside the database do not open them.
		_, err := cli(t, "", "token", "create", "--db", db, "--account", "Shared", "--name", "x")
		if err == nil || !strings.Contains(err.Error(), "check token_digest in "+keyPath(db)) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrWrongKeyInTheFile", func(t *testing.T) {
		kf, err := readKeyFile(keys)
		if err != nil {
			t.Fatal(err)
		}
		good := kf.TokenEncryption
		kf.TokenEncryption = flipKey(t, good)
		if err := writeKeyFile(keys, kf); err != nil {
			t.Fatal(err)
		}
		defer func() {
			kf.TokenEncryption = good
			writeKeyFile(keys, kf)
		}()
		_, err = cli(t, "", "token", "create", "--db", db, "--keys", keys, "--account", "Shared", "--name", "x")
		if want := "check token_encryption in " + keys; err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to say %q", err, want)
		}
	})
	t.Run("EnvironmentOverridesTheFile", func(t *testing.T) {
		kf, err := readKeyFile(keys)
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("APITOKENS_DIGEST_KEY", flipKey(t, kf.TokenDigest))
		_, err = cli(t, "", "token", "create", "--db", db, "--keys", keys, "--account", "Shared", "--name", "x")
		if err == nil || !strings.Contains(err.Error(), "check APITOKENS_DIGEST_KEY") {
			t.Fatalf("err = %v, want the digest key from the environment used and named", err)
		}
	})
	t.Run("WarnsWhenReadableByOthers", func(t *testing.T) {
		if err := os.Chmod(keys, 0o640); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(keys, 0o600)
		logs := serveLogs(t, "--db", db, "--keys", keys)
		if want := "the key file " + keys + " may be read by others (mode 0640)"; !strings.Contains(logs, want) {
			t.Fatalf("serve logged no warning %q:\n%s", want, logs)
		}
	})
	t.Run("ErrKeysIsTheDatabase", func(t *testing.T) {
		_, err := cli(t, "", "token", "create", "--db", db, "--keys", db, "--account", "Shared", "--name", "x")
		if err == nil || !strings.Contains(err.Error(), "--keys must not name the database file") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestPostgresNeedsKeys: a PostgreSQL database has no key file beside it,
// so every command on one stops before opening it unless told the keys,
// and never shows the URL's password.
func TestPostgresNeedsKeys(t *testing.T) {
	const pg = "postgres://u:secret@127.0.0.1:1/x"
	for _, name := range []string{"APITOKENS_KEYS", "APITOKENS_SESSION_AUTH_KEY", "APITOKENS_SESSION_ENCRYPTION_KEY", "APITOKENS_DIGEST_KEY", "APITOKENS_ENCRYPTION_KEY"} {
		t.Setenv(name, "")
	}
	commands := []struct {
		name string
		args []string
	}{
		{"Serve", []string{"serve", "--db", pg, "--addr", "127.0.0.1:0"}},
		{"UserCreate", []string{"user", "create", "--db", pg, "--account", "A", "--email", "a@a.test", "--name", "A"}},
		{"TokenCreate", []string{"token", "create", "--db", pg, "--account", "A", "--name", "x"}},
		{"Seed", []string{"seed", "--db", pg, "--account", "A", "--tokens", "1"}},
		{"KeysRotate", []string{"keys", "rotate", "--db", pg}},
	}
	for _, c := range commands {
		t.Run("Err"+c.name, func(t *testing.T) {
			_, err := cli(t, "", c.args...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range []string{"--keys PATH", "APITOKENS_KEYS", "APITOKENS_DIGEST_KEY", "every instance"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want it to say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("err = %v shows the URL's password", err)
			}
			if _, err := os.Stat("postgres:"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a file was made from the URL: %v", err)
			}
		})
	}
	t.Run("KeysFile", func(t *testing.T) {
		keys := filepath.Join(t.TempDir(), "pg.keys")
		k, err := loadKeys(dbFlags{dsn: pg, keys: keys})
		if err != nil || k.file != keys {
			t.Fatalf("loadKeys = %q, %v", k.file, err)
		}
		if info, err := os.Stat(keys); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v, want it created with mode 0600", err)
		}
	})
	t.Run("EnvironmentKeys", func(t *testing.T) {
		for _, name := range []string{"APITOKENS_SESSION_AUTH_KEY", "APITOKENS_SESSION_ENCRYPTION_KEY", "APITOKENS_DIGEST_KEY", "APITOKENS_ENCRYPTION_KEY"} {
			t.Setenv(name, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=") // 32 bytes
		}
		if k, err := loadKeys(dbFlags{dsn: pg}); err != nil || k.file != "" {
			t.Fatalf("loadKeys = %q, %v; want the keys from the environment alone", k.file, err)
		}
	})
	t.Run("WrongKeysHidesThePassword", func(t *testing.T) {
		// The store's own message speaks of secrets: look for the password
		// as the URL holds it.
		err := wrongKeys(pg, "", &store.KeyError{Digest: true})
		if msg := err.Error(); strings.Contains(msg, ":secret@") || !strings.Contains(msg, "127.0.0.1:1") || !strings.Contains(msg, "check APITOKENS_DIGEST_KEY") {
			t.Fatalf("err = %v", err)
		}
	})
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
