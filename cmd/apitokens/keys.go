package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"apitokens/store"
)

// keyFile holds the server's secret keys, base64-encoded. It lives beside a
// SQLite database or where --keys says, never in the database, with mode
// 0600.
type keyFile struct {
	SessionAuth       string `json:"session_auth"`
	SessionEncryption string `json:"session_encryption"`
	TokenDigest       string `json:"token_digest"`
	TokenEncryption   string `json:"token_encryption"`
	// The token keys being rotated away from, while `keys rotate` runs.
	PreviousTokenDigest     string `json:"previous_token_digest,omitempty"`
	PreviousTokenEncryption string `json:"previous_token_encryption,omitempty"`
}

// serverKeys are the decoded keys.
type serverKeys struct {
	sessionAuth, sessionEncryption []byte
	tokens                         store.Keys
	// file is the key file the keys were read from, if any, for naming
	// where a wrong key came from.
	file string
	// warnings are what the server should say about how the keys are kept.
	warnings []string
}

// dbFlags name the database a command works on and the key file to it.
type dbFlags struct {
	dsn  string // --db: a SQLite file or a postgres:// URL
	keys string // --keys: the key file; empty for the one beside a SQLite file
}

// keyFilePath is the key file to use: --keys, else the one beside a SQLite
// database. A PostgreSQL database has none ("" here): a name made from its
// URL would differ between instances and could carry its password.
func (d dbFlags) keyFilePath() string {
	if d.keys != "" {
		return d.keys
	}
	if store.IsPostgres(d.dsn) {
		return ""
	}
	return keyPath(d.dsn)
}

// errNoKeys is why a command on a PostgreSQL database without keys stops:
// keys made up by one instance would lock the others out of the secrets.
var errNoKeys = usageError("--db names a PostgreSQL database, which has no key file beside it: " +
	"give the key file with --keys PATH (or APITOKENS_KEYS), or the keys in APITOKENS_SESSION_AUTH_KEY, " +
	"APITOKENS_SESSION_ENCRYPTION_KEY, APITOKENS_DIGEST_KEY and APITOKENS_ENCRYPTION_KEY; " +
	"every instance on that database must use the same keys")

// checkDB refuses what --db and --keys cannot mean, before a key file is
// created or the database opened, so that nothing is left behind.
func checkDB(d dbFlags) error {
	if strings.TrimSpace(d.dsn) == "" {
		return usageError("--db (or APITOKENS_DB) must name the database file, or a postgres:// URL")
	}
	if store.IsPostgres(d.dsn) {
		if d.keys == "" && !allKeysInEnvironment() {
			return errNoKeys
		}
		return nil
	}
	if filepath.Clean(keyPath(d.dsn)) == filepath.Clean(d.dsn) {
		return usageError("--db must not end in .keys: the key file beside the database has that name")
	}
	if d.keys != "" && filepath.Clean(d.keys) == filepath.Clean(d.dsn) {
		return usageError("--keys must not name the database file")
	}
	return nil
}

// keyPath is where the key file of a database lives: data/apitokens.db has
// data/apitokens.keys.
func keyPath(dbPath string) string {
	return strings.TrimSuffix(dbPath, filepath.Ext(dbPath)) + ".keys"
}

// loadKeys reads the keys from the environment (APITOKENS_SESSION_AUTH_KEY,
// APITOKENS_SESSION_ENCRYPTION_KEY, APITOKENS_DIGEST_KEY,
// APITOKENS_ENCRYPTION_KEY), falling back to the key file, --keys or the one
// beside a SQLite database, which is created with fresh random keys on first
// run.
func loadKeys(d dbFlags) (serverKeys, error) {
	env := keyFile{
		SessionAuth:       os.Getenv("APITOKENS_SESSION_AUTH_KEY"),
		SessionEncryption: os.Getenv("APITOKENS_SESSION_ENCRYPTION_KEY"),
		TokenDigest:       os.Getenv("APITOKENS_DIGEST_KEY"),
		TokenEncryption:   os.Getenv("APITOKENS_ENCRYPTION_KEY"),

		PreviousTokenDigest:     os.Getenv("APITOKENS_PREVIOUS_DIGEST_KEY"),
		PreviousTokenEncryption: os.Getenv("APITOKENS_PREVIOUS_ENCRYPTION_KEY"),
	}
	kf := env
	var k serverKeys
	if !allKeysInEnvironment() {
		path := d.keyFilePath()
		if path == "" {
			return serverKeys{}, errNoKeys
		}
		file, err := readOrCreateKeyFile(path)
		if err != nil {
			return serverKeys{}, err
		}
		if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
			k.warnings = append(k.warnings, fmt.Sprintf("the key file %s may be read by others (mode %04o); only its owner should: chmod 600 %s",
				path, info.Mode().Perm(), path))
		}
		k.file = path
		kf = file
		for _, f := range []struct {
			dst *string
			v   string
		}{
			{&kf.SessionAuth, env.SessionAuth}, {&kf.SessionEncryption, env.SessionEncryption},
			{&kf.TokenDigest, env.TokenDigest}, {&kf.TokenEncryption, env.TokenEncryption},
			{&kf.PreviousTokenDigest, env.PreviousTokenDigest}, {&kf.PreviousTokenEncryption, env.PreviousTokenEncryption},
		} {
			if f.v != "" {
				*f.dst = f.v
			}
		}
	}
	var prev store.Keys
	fields := []keyField{
		{"session_auth", kf.SessionAuth, &k.sessionAuth},
		{"session_encryption", kf.SessionEncryption, &k.sessionEncryption},
		{"token_digest", kf.TokenDigest, &k.tokens.Digest},
		{"token_encryption", kf.TokenEncryption, &k.tokens.Encryption},
	}
	rotating := kf.PreviousTokenDigest != "" || kf.PreviousTokenEncryption != ""
	if rotating {
		fields = append(fields,
			keyField{"previous_token_digest", kf.PreviousTokenDigest, &prev.Digest},
			keyField{"previous_token_encryption", kf.PreviousTokenEncryption, &prev.Encryption})
	}
	for _, f := range fields {
		b, err := base64.StdEncoding.DecodeString(f.value)
		if err != nil || len(b) != store.KeySize {
			return serverKeys{}, fmt.Errorf("key %s must be %d bytes in base64", f.name, store.KeySize)
		}
		*f.dst = b
	}
	if rotating {
		k.tokens.Previous = &prev
	}
	return k, nil
}

// wrongKeys says which token keys do not fit the database, and where
// each was taken from: the environment, or the key file they were read from.
func wrongKeys(dsn, keyFile string, e *store.KeyError) error {
	source := func(env, field string) string {
		if os.Getenv(env) != "" || keyFile == "" {
			return env
		}
		return field + " in " + keyFile
	}
	var which []string
	if e.Digest {
		which = append(which, source("APITOKENS_DIGEST_KEY", "token_digest"))
	}
	if e.Encryption {
		which = append(which, source("APITOKENS_ENCRYPTION_KEY", "token_encryption"))
	}
	return fmt.Errorf("%s: %w; check %s", store.DisplayName(dsn), e, strings.Join(which, " and "))
}

// keyField is one key of the key file, base64-encoded, and where it goes.
type keyField struct {
	name  string
	value string
	dst   *[]byte
}

// keysFromEnvironment reports whether the token keys come from the
// environment rather than the key file.
func keysFromEnvironment() bool {
	return os.Getenv("APITOKENS_DIGEST_KEY") != "" || os.Getenv("APITOKENS_ENCRYPTION_KEY") != ""
}

// allKeysInEnvironment reports whether the environment holds all four keys,
// when no key file is needed at all.
func allKeysInEnvironment() bool {
	for _, name := range []string{"APITOKENS_SESSION_AUTH_KEY", "APITOKENS_SESSION_ENCRYPTION_KEY", "APITOKENS_DIGEST_KEY", "APITOKENS_ENCRYPTION_KEY"} {
		if os.Getenv(name) == "" {
			return false
		}
	}
	return true
}

// rotateKeys gives the database new token keys: the new keys and the old go
// into the key file first, then every secret moves to the new keys in one
// transaction, then the old keys leave the file. Interrupted at any point,
// it can be run again and finishes the job. Sessions get new keys too, which
// signs everyone out. The server must be restarted afterwards.
func rotateKeys(ctx context.Context, args []string, stdout io.Writer) error {
	fs, db := newFlags("keys rotate")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkDB(*db); err != nil {
		return err
	}
	if keysFromEnvironment() {
		// Keys kept elsewhere are rotated there: the caller supplies the
		// new keys and the old ones as APITOKENS_PREVIOUS_*_KEY.
		if os.Getenv("APITOKENS_PREVIOUS_DIGEST_KEY") == "" || os.Getenv("APITOKENS_PREVIOUS_ENCRYPTION_KEY") == "" {
			return errors.New("keys rotate: the token keys come from the environment; set the new ones there, " +
				"and the old ones in APITOKENS_PREVIOUS_DIGEST_KEY and APITOKENS_PREVIOUS_ENCRYPTION_KEY")
		}
		n, err := moveSecrets(ctx, *db)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "moved the secrets of %d tokens to the new keys; remove the APITOKENS_PREVIOUS_* keys and restart the server\n", n)
		return nil
	}
	path := db.keyFilePath()
	kf, err := readKeyFile(path)
	if err != nil {
		return err
	}
	if kf.PreviousTokenDigest == "" {
		fresh := newKeyFile()
		kf = keyFile{
			SessionAuth: fresh.SessionAuth, SessionEncryption: fresh.SessionEncryption,
			TokenDigest: fresh.TokenDigest, TokenEncryption: fresh.TokenEncryption,
			PreviousTokenDigest: kf.TokenDigest, PreviousTokenEncryption: kf.TokenEncryption,
		}
		if err := writeKeyFile(path, kf); err != nil {
			return err
		}
	}
	n, err := moveSecrets(ctx, *db)
	if err != nil {
		return err
	}
	kf.PreviousTokenDigest, kf.PreviousTokenEncryption = "", ""
	if err := writeKeyFile(path, kf); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new keys in %s; moved the secrets of %d tokens; everyone is signed out; restart the server\n", path, n)
	return nil
}

// moveSecrets opens the database with the current and previous keys and
// moves every secret to the current ones.
func moveSecrets(ctx context.Context, db dbFlags) (int, error) {
	st, _, err := openStore(db)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.RotateKeys(ctx)
}

func readKeyFile(path string) (keyFile, error) {
	var kf keyFile
	b, err := os.ReadFile(path)
	if err != nil {
		return kf, err
	}
	if err := json.Unmarshal(b, &kf); err != nil {
		return kf, fmt.Errorf("key file %s: %w", path, err)
	}
	return kf, nil
}

// writeKeyFile replaces the key file whole: written to a temporary file,
// synced, then renamed over the old one, so a crash leaves one or the other.
func writeKeyFile(path string, kf keyFile) error {
	b, _ := json.MarshalIndent(kf, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

func readOrCreateKeyFile(path string) (keyFile, error) {
	kf, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyFile(path)
	}
	return kf, err
}

// newKeyFile returns fresh random keys.
func newKeyFile() keyFile {
	fresh := func() string {
		b := make([]byte, store.KeySize)
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	return keyFile{SessionAuth: fresh(), SessionEncryption: fresh(), TokenDigest: fresh(), TokenEncryption: fresh()}
}

func createKeyFile(path string) (keyFile, error) {
	kf := newKeyFile()
	b, _ := json.MarshalIndent(kf, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return kf, err
	}
	// Written whole to a temporary file, then linked into place: a
	// process starting at the same time sees either no file or a complete
	// one, and if two race, both end up with the winner's keys.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return kf, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return kf, err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return kf, err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return kf, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return readOrCreateKeyFile(path)
	} else if err != nil {
		return kf, err
	}
	return kf, nil
}
