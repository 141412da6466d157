package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// RotateKeys moves every live token's secret material from the previous keys
// (Keys.Previous) to the current ones: each secret is decrypted, digested
// and sealed again. It runs in one transaction, so a crash leaves every
// token under the old keys or every token under the new; with both keys
// given, the store works either way, and RotateKeys can simply run again.
// It returns how many tokens were moved.
func (s *Store) RotateKeys(ctx context.Context) (int, error) {
	prev := s.secrets.previous
	if prev == nil {
		return 0, errors.New("rotate keys: no previous keys given")
	}
	// Rows are moved by the ID of their encryption key: a new digest key
	// with the old encryption key would move none of them and leave every
	// digest under a key that is about to go.
	if prev.keyID == s.secrets.keyID {
		return 0, errors.New("rotate keys: the encryption key must change together with the digest key")
	}
	moved := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// A token's previous secret, while it works, moves with its
		// current one: each is found and shown under the key that sealed it.
		rows, err := tx.QueryContext(ctx, `SELECT id, secret_ciphertext, secret_key_id,
				previous_ciphertext, COALESCE(previous_key_id, '') FROM tokens
			WHERE status != 'deleted' AND (secret_key_id != ? OR previous_key_id != ?)`, s.secrets.keyID, s.secrets.keyID)
		if err != nil {
			return err
		}
		type sealed struct {
			id, keyID, previousKeyID   string
			ciphertext, previousSealed []byte
		}
		var todo []sealed
		for rows.Next() {
			var r sealed
			if err := rows.Scan(&r.id, &r.ciphertext, &r.keyID, &r.previousSealed, &r.previousKeyID); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, r)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		update, err := tx.PrepareContext(ctx, `UPDATE tokens SET secret_digest = ?, secret_ciphertext = ?, secret_key_id = ?,
				previous_digest = ?, previous_ciphertext = ?, previous_key_id = ?
			WHERE id = ?`)
		if err != nil {
			return err
		}
		defer update.Close()
		for _, r := range todo {
			secret, err := s.secrets.open(r.id, r.keyID, r.ciphertext)
			if err != nil {
				return fmt.Errorf("rotate keys: token %s: %w", r.id, err)
			}
			previous := []any{nil, nil, nil}
			if r.previousSealed != nil {
				old, err := s.secrets.open(r.id, r.previousKeyID, r.previousSealed)
				if err != nil {
					return fmt.Errorf("rotate keys: previous secret of token %s: %w", r.id, err)
				}
				previous = []any{s.secrets.digest(old), s.secrets.seal(r.id, old), s.secrets.keyID}
			}
			args := append([]any{s.secrets.digest(secret), s.secrets.seal(r.id, secret), s.secrets.keyID}, previous...)
			if _, err := update.ExecContext(ctx, append(args, r.id)...); err != nil {
				return err
			}
		}
		moved = len(todo)
		return s.resealKeyCheck(ctx, tx)
	})
	return moved, err
}
