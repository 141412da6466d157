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
		var err error
		if secret, err = s.openSecret(ctx, tx, accountID, id); err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, auditEntry{accountID: accountID, by: by, action: AuditRevealed}, tokensAt(s.now(), id))
	})
	return secret, err
}

// NewSecret returns the secret of a token just created, for the summary
// that follows its creation: that showing is part of the creation, which the
// audit trail records already. Every later showing goes through
// RevealSecret. A deleted token is ErrNotFound.
func (s *Store) NewSecret(ctx context.Context, accountID, id string) (string, error) {
	return s.openSecret(ctx, s.read, accountID, id)
}

// queryRower is a transaction or the pool of read connections.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) openSecret(ctx context.Context, q queryRower, accountID, id string) (string, error) {
	var sealed []byte
	var keyID string
	err := q.QueryRowContext(ctx, `SELECT t.secret_ciphertext, t.secret_key_id FROM tokens t WHERE `+liveToken,
		id, accountID).Scan(&sealed, &keyID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	secret, err := s.secrets.open(id, keyID, sealed)
	if err != nil {
		return "", fmt.Errorf("reveal %s: %w", id, err)
	}
	return secret, nil
}
