package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Reasons a presented secret is rejected. They go to the server's log, never
// to the caller, who gets the same answer for each.
const (
	RejectMalformed = "malformed"
	RejectUnknown   = "unknown" // never issued, or deleted: its digest is wiped
	RejectDisabled  = "disabled"
	RejectExpired   = "expired"
)

// SecretRejected says why a presented secret did not authenticate. It
// unwraps to ErrNotFound, so a caller that need not tell the reasons apart
// compares with ErrNotFound alone. It never holds the secret.
type SecretRejected struct {
	TokenID string // the token the secret names; empty when malformed
	Reason  string // one of the Reject… constants
}

// Error names the token, when the secret named one, and the reason, for the
// server's log.
func (e *SecretRejected) Error() string {
	if e.TokenID == "" {
		return "token secret rejected: " + e.Reason
	}
	return fmt.Sprintf("token secret of %s rejected: %s", e.TokenID, e.Reason)
}

// Unwrap makes every rejection an ErrNotFound.
func (e *SecretRejected) Unwrap() error { return ErrNotFound }

// RecordTokenAccess stores when tokens were last used, all in one write
// transaction, so that a batch of API calls costs one commit instead of one
// per call. A time only ever moves last access forward, and deleted tokens
// are left alone: their tombstones are final.
func (s *Store) RecordTokenAccess(ctx context.Context, at map[string]time.Time) error {
	if len(at) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE tokens SET last_access_at = ?
			WHERE id = ? AND status != 'deleted' AND (last_access_at IS NULL OR last_access_at < ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for id, t := range at {
			ms := t.UnixMilli()
			if _, err := stmt.ExecContext(ctx, ms, id, ms); err != nil {
				return fmt.Errorf("record access of %s: %w", id, err)
			}
		}
		return nil
	})
}

// TokenBySecret returns the token a presented secret belongs to, if it may
// authenticate at now: malformed, unknown, disabled, deleted and expired
// secrets are all ErrNotFound (a malformed one without a database read),
// as a *SecretRejected that says which for the server's log.
func (s *Store) TokenBySecret(ctx context.Context, secret string) (Token, error) {
	id, err := ParseSecret(secret)
	if err != nil {
		return Token{}, &SecretRejected{Reason: RejectMalformed}
	}
	// One query brings the token with its account and modules: the
	// modules are its scope, which whoever authenticates it checks next.
	t, err := scanOneToken(s.read.QueryRowContext(ctx, s.oneToken.bySecret, s.secrets.digest(secret)))
	if prev := s.secrets.previous; errors.Is(err, ErrNotFound) && prev != nil {
		// Mid-rotation, a token not yet moved has its digest under the
		// previous key.
		t, err = scanOneToken(s.read.QueryRowContext(ctx, s.oneToken.bySecret, prev.digest(secret)))
	}
	if errors.Is(err, ErrNotFound) || (err == nil && t.ID != id) {
		return Token{}, &SecretRejected{TokenID: id, Reason: RejectUnknown}
	}
	if err != nil {
		return Token{}, err
	}
	switch t.State(s.Now()) {
	case StateActive:
		return t, nil
	case StateExpired:
		return Token{}, &SecretRejected{TokenID: id, Reason: RejectExpired}
	default:
		return Token{}, &SecretRejected{TokenID: id, Reason: RejectDisabled}
	}
}
