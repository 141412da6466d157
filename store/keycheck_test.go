package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
)

// flipped is b with one bit changed, as a mistyped or damaged key is.
func flipped(b []byte) []byte {
	out := append([]byte(nil), b...)
	out[7] ^= 0x10
	return out
}

// TestOpenChecksKeys: a database opened with other keys than those its
// secrets were made with is refused at once, naming the wrong key, instead
// of failing at the first secret shown or checked.
func TestOpenChecksKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, secret := f.createToken(t, "Sealed")
	if err := f.s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		keys       Keys
		digest     bool
		encryption bool
		message    string
	}{
		{"ErrEncryptionKey", Keys{Digest: f.keys.Digest, Encryption: flipped(f.keys.Encryption)}, false, true,
			"the token encryption key is not the one this database's secrets were made with"},
		{"ErrDigestKey", Keys{Digest: flipped(f.keys.Digest), Encryption: f.keys.Encryption}, true, false,
			"the token digest key is not the one"},
		{"ErrBothKeys", randomKeys(t), true, true, "the token digest key and the encryption key are not the ones"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(f.path, tc.keys)
			if s != nil {
				s.Close()
			}
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Digest != tc.digest || ke.Encryption != tc.encryption || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("err = %v, want %q", err, tc.message)
			}
		})
	}
	t.Run("ErrOnATokenOfAnOlderDatabase", func(t *testing.T) {
		// A database from before the key check has its keys checked on a
		// token's secret when the check is first sealed.
		db, err := sql.Open("sqlite", f.path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Exec(`DELETE FROM key_check`)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		var ke *KeyError
		if s, err := Open(f.path, Keys{Digest: f.keys.Digest, Encryption: flipped(f.keys.Encryption)}); !errors.As(err, &ke) || !ke.Encryption {
			if s != nil {
				s.Close()
			}
			t.Fatalf("err = %v, want the encryption key named", err)
		}
		if s, err := Open(f.path, Keys{Digest: flipped(f.keys.Digest), Encryption: f.keys.Encryption}); !errors.As(err, &ke) || !ke.Digest {
			if s != nil {
				s.Close()
			}
			t.Fatalf("err = %v, want the digest key named", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		s, err := Open(f.path, f.keys)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.TokenBySecret(ctx, secret); err != nil {
			t.Fatal(err)
		}
	})
}
