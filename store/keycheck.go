package store

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"errors"
	"strings"
)

// keyCheckValue is sealed under the token keys in key_check; keyCheckID is
// bound to it as a token's ID is to its secret.
const (
	keyCheckValue = "apitokens key check"
	keyCheckID    = "key-check"
)

// KeyError says which of the token keys the database's secrets were not
// made with.
type KeyError struct {
	Digest, Encryption bool
}

func (e *KeyError) Error() string {
	var wrong []string
	if e.Digest {
		wrong = append(wrong, "digest key")
	}
	if e.Encryption {
		wrong = append(wrong, "encryption key")
	}
	if len(wrong) == 1 {
		return "the token " + wrong[0] + " is not the one this database's secrets were made with"
	}
	return "the token " + strings.Join(wrong, " and the ") + " are not the ones this database's secrets were made with"
}

// checkKeys refuses keys that do not open the value sealed in key_check.
// The first time a database is opened, the value is sealed; a database
// that has tokens already has its keys checked on one of them first.
func (s *Store) checkKeys(ctx context.Context) error {
	var n int
	if err := s.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM key_check`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if err := s.checkKeysOnToken(ctx); err != nil {
			return err
		}
		if _, err := s.write.ExecContext(ctx, `INSERT INTO key_check (id, digest, ciphertext, key_id) VALUES (1, ?, ?, ?) ON CONFLICT DO NOTHING`,
			s.secrets.digest(keyCheckValue), s.secrets.seal(keyCheckID, keyCheckValue), s.secrets.keyID); err != nil {
			return err
		}
	}
	var digest, sealed []byte
	var keyID string
	if err := s.write.QueryRowContext(ctx, `SELECT digest, ciphertext, key_id FROM key_check`).Scan(&digest, &sealed, &keyID); err != nil {
		return err
	}
	return s.secrets.check(keyCheckID, keyID, keyCheckValue, digest, sealed)
}

// checkKeysOnToken checks the keys on the secret of one live token, if
// there is one.
func (s *Store) checkKeysOnToken(ctx context.Context) error {
	var id, keyID string
	var digest, sealed []byte
	err := s.write.QueryRowContext(ctx, `SELECT id, secret_key_id, secret_digest, secret_ciphertext FROM tokens
		WHERE status != 'deleted' AND secret_ciphertext IS NOT NULL LIMIT 1`).Scan(&id, &keyID, &digest, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	secret, err := s.secrets.open(id, keyID, sealed)
	if err != nil {
		// Without the secret its digest cannot be checked either.
		return &KeyError{Encryption: true}
	}
	return s.secrets.check(id, keyID, secret, digest, sealed)
}

// resealKeyCheck seals the key check under the current keys, in the
// transaction that moves the secrets to them.
func (s *Store) resealKeyCheck(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE key_check SET digest = ?, ciphertext = ?, key_id = ?`,
		s.secrets.digest(keyCheckValue), s.secrets.seal(keyCheckID, keyCheckValue), s.secrets.keyID)
	return err
}

// check reports whether the keys (the previous ones, for what they sealed)
// make digest and sealed of value.
func (b *secretBox) check(id, keyID, value string, digest, sealed []byte) error {
	box := b
	if keyID != b.keyID && b.previous != nil && keyID == b.previous.keyID {
		box = b.previous
	}
	var e KeyError
	if plain, err := box.open(id, keyID, sealed); err != nil || plain != value {
		e.Encryption = true
	}
	if !hmac.Equal(box.digest(value), digest) {
		e.Digest = true
	}
	if e.Digest || e.Encryption {
		return &e
	}
	return nil
}
