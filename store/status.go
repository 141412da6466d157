package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// tokenChange is a change of a token's status: enabling, disabling or
// deleting it. One token or many, a change is made the same way, by
// changeTokens.
type tokenChange struct {
	status  TokenStatus
	action  string         // what the audit trail records
	already BulkSkipReason // for a token that has the status already
}

var (
	enableToken  = tokenChange{StatusActive, AuditEnabled, SkipAlreadyActive}
	disableToken = tokenChange{StatusDisabled, AuditDisabled, SkipAlreadyDisabled}
	deleteToken  = tokenChange{StatusDeleted, AuditDeleted, SkipDeleted}
)

// changeTo is the change that gives a token status.
func changeTo(status TokenStatus) (tokenChange, bool) {
	for _, c := range []tokenChange{enableToken, disableToken, deleteToken} {
		if c.status == status {
			return c, true
		}
	}
	return tokenChange{}, false
}

// statusChange is the change that sets status, if it is one a person may
// set: deleting is not a status one sets but a change of its own.
func statusChange(status TokenStatus) (tokenChange, bool) {
	if status == StatusDeleted {
		return tokenChange{}, false
	}
	return changeTo(status)
}

// SetTokenStatus enables or disables a token. Setting the status a token
// already has changes nothing and is not an error; changed reports whether
// anything was written. A token past its expiry date is ErrTokenExpired,
// returned with the token as it is.
func (s *Store) SetTokenStatus(ctx context.Context, accountID, id string, status TokenStatus, by Actor) (t Token, changed bool, err error) {
	change, ok := statusChange(status)
	if !ok {
		return Token{}, false, fmt.Errorf("SetTokenStatus: %q is not a status one can set; use DeleteToken", status)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		changed, err = s.changeToken(ctx, tx, accountID, id, change, by)
		return err
	})
	if err != nil && !errors.Is(err, ErrTokenExpired) {
		return Token{}, false, err
	}
	t, terr := s.TokenByID(ctx, accountID, id)
	return t, changed, errors.Join(err, terr)
}

// DeleteToken deletes a token for good: its secret material is wiped at once,
// so the secret never authenticates again, and the row stays as a tombstone
// that is never listed or shown but keeps the token's history. It returns the
// token as it was. A token already deleted is ErrNotFound.
func (s *Store) DeleteToken(ctx context.Context, accountID, id string, by Actor) (Token, error) {
	var t Token
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		// Read in the same transaction, so that it is the token as it was
		// just before it went.
		t, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` `+tokenJoins+` WHERE `+liveToken, id, accountID))
		if err != nil {
			return err
		}
		// Read just now, live and of this account: nothing to sort out.
		return s.applyChange(ctx, tx, accountID, []string{id}, deleteToken, by, "")
	})
	return t, err
}

// changeToken makes a change to one token, in tx, the way a bulk action
// makes it to many. A token that is missing, deleted or another account's
// is ErrNotFound, and one past its expiry date ErrTokenExpired; one that
// has the status already is left as it is, and changed is false.
func (s *Store) changeToken(ctx context.Context, tx *sql.Tx, accountID, id string, change tokenChange, by Actor) (changed bool, err error) {
	done, skipped, err := s.changeTokens(ctx, tx, accountID, []string{id}, change, by, "")
	switch {
	case err != nil:
		return false, err
	case len(done) == 1:
		return true, nil
	case skipped[0].Reason == SkipNotFound || skipped[0].Reason == SkipDeleted:
		return false, ErrNotFound
	case skipped[0].Reason == SkipExpired:
		return false, ErrTokenExpired
	}
	return false, nil
}

// changeTokens makes a change to the tokens of the account among ids, in
// tx, each with an audit event that carries detail, and says which it
// skipped and why.
func (s *Store) changeTokens(ctx context.Context, tx *sql.Tx, accountID string, ids []string, change tokenChange,
	by Actor, detail string) (changed []string, skipped []BulkSkip, err error) {
	// The IDs go as one JSON array, so that every batch is the same
	// statement text, prepared once.
	rows, err := s.txQuery(ctx, tx, `SELECT id, status, expires_at FROM tokens
		WHERE account_id = ? AND id`+s.d.inStrings(), accountID, jsonIDs(ids))
	if err != nil {
		return nil, nil, err
	}
	found := make(map[string]Token, len(ids))
	for rows.Next() {
		var t Token
		var expires sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Status, &expires); err != nil {
			rows.Close()
			return nil, nil, err
		}
		t.ExpiresAt = millis(expires)
		found[t.ID] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	now := s.Now()
	for _, id := range ids {
		switch t, ok := found[id]; {
		case !ok:
			skipped = append(skipped, BulkSkip{id, SkipNotFound})
		case t.Status == StatusDeleted:
			skipped = append(skipped, BulkSkip{id, SkipDeleted})
		case change != deleteToken && t.pastExpiry(now):
			// Enabling or disabling it would leave the API refusing it
			// all the same: it is renewed instead (Token.Actions).
			skipped = append(skipped, BulkSkip{id, SkipExpired})
		case t.Status == change.status:
			skipped = append(skipped, BulkSkip{id, change.already})
		default:
			changed = append(changed, id)
		}
	}
	if len(changed) == 0 {
		return nil, skipped, nil
	}
	if err := s.applyChange(ctx, tx, accountID, changed, change, by, detail); err != nil {
		return nil, nil, err
	}
	return changed, skipped, nil
}

// applyChange is the one write of a change: it sets the status of the
// tokens, which must be live tokens of the account (a delete leaves
// tombstones), and records an audit event for each. Single and bulk
// changes all write through it.
func (s *Store) applyChange(ctx context.Context, tx *sql.Tx, accountID string, ids []string, change tokenChange,
	by Actor, detail string) error {
	now := s.now()
	set, args := `status = ?, updated_at = ?, updated_by = ?`, []any{change.status, now, by.ID}
	if change.status == StatusActive {
		// Enabled again, the token has a new period to be used in before
		// the account's policy on unused tokens disables it.
		set, args = set+`, active_since = ?`, append(args, now)
	}
	if change.status == StatusDeleted {
		// The tombstone: no secret material, current or previous, so
		// neither secret authenticates again, and who deleted it when.
		set = `status = 'deleted', secret_digest = NULL, secret_ciphertext = NULL, secret_key_id = NULL,
			previous_digest = NULL, previous_ciphertext = NULL, previous_key_id = NULL, previous_until = NULL,
			logo = NULL, deleted_at = ?, deleted_by = ?, updated_at = ?, updated_by = ?`
		args = []any{now, by.ID, now, by.ID}
	}
	if err := s.txExec(ctx, tx, `UPDATE tokens SET `+set+`
		WHERE id`+s.d.inStrings(), append(args, jsonIDs(ids))...); err != nil {
		return err
	}
	entry := auditEntry{accountID: accountID, by: by, action: change.action, detail: detail}
	return s.recordAudit(ctx, tx, entry, tokensAt(now, ids...))
}

// txQuery and txExec run a statement of a change in tx. Tests see each,
// as they see the list's reads, to check its query plan.
func (s *Store) txQuery(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if s.hooks.query != nil {
		s.hooks.query(query, args)
	}
	return tx.QueryContext(ctx, query, args...)
}

func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	if s.hooks.query != nil {
		s.hooks.query(query, args)
	}
	_, err := tx.ExecContext(ctx, query, args...)
	return err
}
