package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// RevealSecret returns a token's secret so that it can be shown again, and
// records that it was shown (never what was shown) in the audit trail. A
// deleted token is ErrNotFound: its secret is gone for good.
func (s *Store) RevealSecret(ctx context.Context, accountID, id string, by Actor) (string, error) {
	var secret string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var sealed []byte
		var keyID string
		err := tx.QueryRowContext(ctx, `SELECT t.secret_ciphertext, t.secret_key_id FROM tokens t WHERE `+liveToken,
			id, accountID).Scan(&sealed, &keyID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if secret, err = s.secrets.open(id, keyID, sealed); err != nil {
			return fmt.Errorf("reveal %s: %w", id, err)
		}
		return s.recordAudit(ctx, tx, auditEntry{accountID: accountID, by: by, action: AuditRevealed}, tokensAt(s.now(), id))
	})
	return secret, err
}
