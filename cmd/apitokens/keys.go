package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"apitokens/store"
)

// keyFile holds the server's secret keys, base64-encoded. It lives beside the
// database, never in it, with mode 0600.
type keyFile struct {
	SessionAuth       string `json:"session_auth"`
	SessionEncryption string `json:"session_encryption"`
	TokenDigest       string `json:"token_digest"`
	TokenEncryption   string `json:"token_encryption"`
}

// serverKeys are the decoded keys.
type serverKeys struct {
	sessionAuth, sessionEncryption []byte
	tokens                         store.Keys
}

// keyPath is where the key file of a database lives: data/apitokens.db has
// data/apitokens.keys.
func keyPath(dbPath string) string {
	return strings.TrimSuffix(dbPath, filepath.Ext(dbPath)) + ".keys"
}

// loadKeys reads the keys from the environment (APITOKENS_SESSION_AUTH_KEY,
// APITOKENS_SESSION_ENCRYPTION_KEY, APITOKENS_DIGEST_KEY,
// APITOKENS_ENCRYPTION_KEY), falling back to the key file beside the
// database, which is created with fresh random keys on first run.
func loadKeys(dbPath string) (serverKeys, error) {
	env := keyFile{
		SessionAuth:       os.Getenv("APITOKENS_SESSION_AUTH_KEY"),
		SessionEncryption: os.Getenv("APITOKENS_SESSION_ENCRYPTION_KEY"),
		TokenDigest:       os.Getenv("APITOKENS_DIGEST_KEY"),
		TokenEncryption:   os.Getenv("APITOKENS_ENCRYPTION_KEY"),
	}
	kf := env
	if env.SessionAuth == "" || env.SessionEncryption == "" || env.TokenDigest == "" || env.TokenEncryption == "" {
		file, err := readOrCreateKeyFile(keyPath(dbPath))
		if err != nil {
			return serverKeys{}, err
		}
		kf = file
		for _, f := range []struct {
			dst *string
			v   string
		}{
			{&kf.SessionAuth, env.SessionAuth}, {&kf.SessionEncryption, env.SessionEncryption},
			{&kf.TokenDigest, env.TokenDigest}, {&kf.TokenEncryption, env.TokenEncryption},
		} {
			if f.v != "" {
				*f.dst = f.v
			}
		}
	}
	var k serverKeys
	for _, f := range []struct {
		name string
		v    string
		dst  *[]byte
	}{
		{"session_auth", kf.SessionAuth, &k.sessionAuth},
		{"session_encryption", kf.SessionEncryption, &k.sessionEncryption},
		{"token_digest", kf.TokenDigest, &k.tokens.Digest},
		{"token_encryption", kf.TokenEncryption, &k.tokens.Encryption},
	} {
		b, err := base64.StdEncoding.DecodeString(f.v)
		if err != nil || len(b) != store.KeySize {
			return serverKeys{}, fmt.Errorf("key %s must be %d bytes in base64", f.name, store.KeySize)
		}
		*f.dst = b
	}
	return k, nil
}

func readOrCreateKeyFile(path string) (keyFile, error) {
	var kf keyFile
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyFile(path)
	}
	if err != nil {
		return kf, err
	}
	if err := json.Unmarshal(b, &kf); err != nil {
		return kf, fmt.Errorf("key file %s: %w", path, err)
	}
	return kf, nil
}

func createKeyFile(path string) (keyFile, error) {
	fresh := func() string {
		b := make([]byte, store.KeySize)
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	kf := keyFile{SessionAuth: fresh(), SessionEncryption: fresh(), TokenDigest: fresh(), TokenEncryption: fresh()}
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
