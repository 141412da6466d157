package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"apitokens/store/storetest"
)

func TestParseSecret(t *testing.T) {
	valid := newSecret("TKN-0123-4567")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := []struct {
		name   string
		secret string
		ok     bool
	}{
		{"OK", valid, true},
		{"ErrEmpty", "", false},
		{"ErrWrongPrefix", "ghp_" + valid[len(SecretPrefix):], false},
		{"ErrTypoInBody", flip(valid, len(SecretPrefix)+3), false},
		{"ErrTypoInChecksum", flip(valid, len(valid)-1), false},
		{"ErrTooShort", valid[:len(valid)-1], false},
		{"ErrTooLong", valid + "a", false},
		{"ErrNotBase62", valid[:20] + "-" + valid[21:], false},
		{"ErrIDNotDigits", valid[:7] + "x" + valid[8:], false},
		{"ErrNoSeparator", valid[:14] + "a" + valid[15:], false},
		{"ErrLookAlikePrefix", "аpitk_" + valid[len(SecretPrefix):], false}, // Cyrillic а
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := ParseSecret(tc.secret)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseSecret(%q) = %v, want ok=%v", tc.secret, err, tc.ok)
			}
			if tc.ok && id != "TKN-0123-4567" {
				t.Fatalf("ParseSecret names token %q, want TKN-0123-4567", id)
			}
		})
	}
	t.Run("Unique", func(t *testing.T) {
		seen := map[string]bool{}
		for range 1000 {
			s := newSecret("TKN-0123-4567")
			if seen[s] {
				t.Fatalf("secret %s issued twice", s)
			}
			seen[s] = true
		}
	})
}

func TestSecretBox(t *testing.T) {
	box, err := newSecretBox(randomKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	secret := newSecret("TKN-1111-2222")
	sealed := box.seal("TKN-1111-2222", secret)
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("sealed value contains the secret")
	}
	t.Run("OK", func(t *testing.T) {
		got, err := box.open("TKN-1111-2222", box.keyID, sealed)
		if err != nil || got != secret {
			t.Fatalf("open = %q, %v", got, err)
		}
	})
	t.Run("ErrOtherToken", func(t *testing.T) {
		if _, err := box.open("TKN-3333-4444", box.keyID, sealed); err == nil {
			t.Fatal("a ciphertext opened under another token's ID")
		}
	})
	t.Run("FreshNonce", func(t *testing.T) {
		if bytes.Equal(sealed, box.seal("TKN-1111-2222", secret)) {
			t.Fatal("sealing twice gave the same ciphertext")
		}
	})
}

func TestSecretNeverStoredInPlaintext(t *testing.T) {
	f := newFixture(t)
	var secrets []string
	for i := range 5 {
		_, secret := f.createToken(t, "token "+string(rune('A'+i)))
		secrets = append(secrets, secret)
	}
	check := func(where string, b []byte) {
		t.Helper()
		for _, s := range secrets {
			// The random part alone must not appear either, nor in hex,
			// as PostgreSQL shows bytes.
			random := s[len(SecretPrefix)+secretIDDigits+1:]
			if bytes.Contains(b, []byte(s)) || bytes.Contains(b, []byte(random[:20])) ||
				bytes.Contains(b, []byte(hex.EncodeToString([]byte(random[:20])))) {
				t.Fatalf("%s contains an issued secret", where)
			}
		}
	}
	if storetest.Engine == "postgres" {
		// Every row of every table of the store, as text.
		tables, err := scanStringsQuery(f.s, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
		if err != nil || len(tables) < 5 {
			t.Fatalf("tables %v, %v", tables, err)
		}
		for _, table := range tables {
			rows, err := scanStringsQuery(f.s, `SELECT CAST(x AS text) FROM `+table+` x`)
			if err != nil {
				t.Fatal(err)
			}
			check(table, []byte(strings.Join(rows, "\n")))
		}
		return
	}
	files, err := filepath.Glob(f.path + "*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("expected the database and its WAL, found %v", files)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		check(filepath.Base(file), b)
	}
}

func TestRevealSecret(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret := f.createToken(t, "Reveal me")
	got, err := f.s.RevealSecret(ctx, f.account.ID, tok.ID, f.actor)
	if err != nil || got != secret {
		t.Fatalf("RevealSecret = %q, %v; want the issued secret", got, err)
	}
	events := f.auditEvents(t, f.account.ID, tok.ID)
	if len(events) != 2 || events[0].Action != AuditRevealed {
		t.Fatalf("events %+v, want 'revealed' on top", events)
	}
	for _, e := range events {
		if strings.Contains(e.Detail, secret) {
			t.Fatal("the audit trail holds the secret")
		}
	}
	other := f.createAccount(t, "Other")
	if _, err := f.s.RevealSecret(ctx, other.ID, tok.ID, f.actor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another account: %v, want ErrNotFound", err)
	}
	if _, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.RevealSecret(ctx, f.account.ID, tok.ID, f.actor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted: %v, want ErrNotFound", err)
	}
}

func TestRotateKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret := f.createToken(t, "Survives rotation")
	gone, _ := f.createToken(t, "Deleted before")
	if _, err := f.s.DeleteToken(ctx, f.account.ID, gone.ID, f.actor); err != nil {
		t.Fatal(err)
	}
	// The keys change only on reopening, as at a restart.
	if err := f.s.Close(); err != nil {
		t.Fatal(err)
	}
	reopen := func(t *testing.T, k Keys) *Store {
		t.Helper()
		s, err := Open(f.path, k)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return s
	}
	works := func(t *testing.T, s *Store) {
		t.Helper()
		if got, err := s.TokenBySecret(ctx, secret); err != nil || got.ID != tok.ID {
			t.Fatalf("TokenBySecret = %v, %v", got.ID, err)
		}
		if got, err := s.RevealSecret(ctx, f.account.ID, tok.ID, f.actor); err != nil || got != secret {
			t.Fatalf("RevealSecret = %v", err)
		}
	}
	fresh := randomKeys(t)

	t.Run("ErrWrongPreviousKeys", func(t *testing.T) {
		wrong := fresh
		wrong.Previous = ptr(randomKeys(t))
		// Refused on opening: neither set of keys opens the key check.
		var ke *KeyError
		if s, err := Open(f.path, wrong); !errors.As(err, &ke) || !ke.Encryption {
			if s != nil {
				s.Close()
			}
			t.Fatalf("opening with keys that did not seal the secrets: %v", err)
		}
		works(t, reopen(t, f.keys)) // and nothing changed
	})
	t.Run("ErrDigestKeyAlone", func(t *testing.T) {
		digestOnly := Keys{Digest: fresh.Digest, Encryption: f.keys.Encryption, Previous: ptr(f.keys)}
		var ke *KeyError
		if s, err := Open(f.path, digestOnly); !errors.As(err, &ke) || !ke.Digest || ke.Encryption {
			if s != nil {
				s.RotateKeys(ctx)
				s.Close()
			}
			t.Fatalf("rotating the digest key alone, leaving every digest under the old key: %v", err)
		}
	})
	t.Run("MidRotationBothWork", func(t *testing.T) {
		both := fresh
		both.Previous = ptr(f.keys)
		works(t, reopen(t, both))
	})
	t.Run("Rotate", func(t *testing.T) {
		both := fresh
		both.Previous = ptr(f.keys)
		s := reopen(t, both)
		if n, err := s.RotateKeys(ctx); err != nil || n != 1 {
			t.Fatalf("RotateKeys = %d, %v; want 1 live token moved", n, err)
		}
		if n, err := s.RotateKeys(ctx); err != nil || n != 0 {
			t.Fatalf("second RotateKeys = %d, %v; want nothing left to move", n, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		works(t, reopen(t, fresh))
		var ke *KeyError
		if s, err := Open(f.path, f.keys); !errors.As(err, &ke) || !ke.Digest || !ke.Encryption {
			if s != nil {
				s.Close()
			}
			t.Fatalf("the old keys still open the database: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
