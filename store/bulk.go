package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// BulkSkipReason says why a bulk action left a token as it was.
type BulkSkipReason string

// Reasons a bulk action skips a token. Another account's token is not
// found, exactly like one that never existed.
const (
	SkipNotFound        BulkSkipReason = "not found"
	SkipDeleted         BulkSkipReason = "already deleted"
	SkipAlreadyActive   BulkSkipReason = "already active"
	SkipAlreadyDisabled BulkSkipReason = "already disabled"
)

// BulkSkip is a token a bulk action did not change, and why.
type BulkSkip struct {
	ID     string
	Reason BulkSkipReason
}

// BulkResult is what a bulk action did, token by token, in the order the
// IDs were given (each once).
type BulkResult struct {
	Changed []string
	Skipped []BulkSkip
}

// bulkBatchSize is how many tokens one write transaction of a bulk action
// changes. Other writers wait for at most one batch, a few milliseconds
// (BenchmarkBulkDeleteTokens measures it), instead of the whole action.
// Tests make it smaller.
var bulkBatchSize = 250

// bulkChange is one bulk action: the status it sets and how it records it.
type bulkChange struct {
	status  TokenStatus
	action  string
	already BulkSkipReason // for a token that has the status already
}

// BulkSetTokenStatus enables (StatusActive) or disables (StatusDisabled) up to
// MaxBulkTokens tokens of the account, each with its own audit event. Tokens
// that are missing, deleted or in the status already are skipped, with the
// reason. The work is committed in batches: on an error, the result holds
// the batches committed before it, and the tokens in neither list were not
// changed.
func (s *Store) BulkSetTokenStatus(ctx context.Context, accountID string, ids []string, status TokenStatus, by Actor) (BulkResult, error) {
	switch status {
	case StatusActive:
		return s.bulk(ctx, accountID, ids, bulkChange{status, AuditEnabled, SkipAlreadyActive}, by)
	case StatusDisabled:
		return s.bulk(ctx, accountID, ids, bulkChange{status, AuditDisabled, SkipAlreadyDisabled}, by)
	}
	return BulkResult{}, fmt.Errorf("BulkSetTokenStatus: %q is not a status one can set; use BulkDeleteTokens", status)
}

// BulkDeleteTokens deletes up to MaxBulkTokens tokens of the account for
// good, as DeleteToken does one, each with its own audit event. Missing and
// deleted tokens are skipped, with the reason. The work is committed in
// batches, as by BulkSetTokenStatus.
func (s *Store) BulkDeleteTokens(ctx context.Context, accountID string, ids []string, by Actor) (BulkResult, error) {
	return s.bulk(ctx, accountID, ids, bulkChange{StatusDeleted, AuditDeleted, SkipDeleted}, by)
}

func (s *Store) bulk(ctx context.Context, accountID string, ids []string, change bulkChange, by Actor) (BulkResult, error) {
	ids = dedupe(ids)
	switch {
	case len(ids) == 0:
		return BulkResult{}, &ValidationError{Fields: map[string]string{"selection": "Select at least one API token."}}
	case len(ids) > maxBulk:
		return BulkResult{}, &ValidationError{Fields: map[string]string{"selection": fmt.Sprintf(
			"Select at most %d API tokens at a time.", maxBulk)}}
	}
	var r BulkResult
	detail := fmt.Sprintf("bulk action on %d API tokens", len(ids))
	for start := 0; start < len(ids); start += bulkBatchSize {
		batch := ids[start:min(start+bulkBatchSize, len(ids))]
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			changed, skipped, err := s.bulkBatch(ctx, tx, accountID, batch, change, by, detail)
			if err == nil {
				r.Changed = append(r.Changed, changed...)
				r.Skipped = append(r.Skipped, skipped...)
			}
			return err
		})
		if err != nil {
			// A cancelled context may surface as the driver's interruption.
			if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
				err = fmt.Errorf("%w: %v", cerr, err)
			}
			return r, err
		}
	}
	return r, nil
}

// bulkBatch changes the tokens of one batch that may change, in one
// transaction, and says which it skipped.
func (s *Store) bulkBatch(ctx context.Context, tx *sql.Tx, accountID string, batch []string, change bulkChange,
	by Actor, detail string) (changed []string, skipped []BulkSkip, err error) {
	args := make([]any, 0, len(batch)+1)
	args = append(args, accountID)
	for _, id := range batch {
		args = append(args, id)
	}
	rows, err := s.bulkQuery(ctx, tx, `SELECT id, status FROM tokens
		WHERE account_id = ? AND id IN (`+placeholders(len(batch))+`)`, args...)
	if err != nil {
		return nil, nil, err
	}
	status := make(map[string]TokenStatus, len(batch))
	for rows.Next() {
		var id string
		var st TokenStatus
		if err := rows.Scan(&id, &st); err != nil {
			rows.Close()
			return nil, nil, err
		}
		status[id] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for _, id := range batch {
		switch st, ok := status[id]; {
		case !ok:
			skipped = append(skipped, BulkSkip{id, SkipNotFound})
		case st == StatusDeleted:
			skipped = append(skipped, BulkSkip{id, SkipDeleted})
		case st == change.status:
			skipped = append(skipped, BulkSkip{id, change.already})
		default:
			changed = append(changed, id)
		}
	}
	if len(changed) == 0 {
		return nil, skipped, nil
	}

	now := s.now()
	args = []any{now, by.UserID}
	for _, id := range changed {
		args = append(args, id)
	}
	set := `status = '` + string(change.status) + `', updated_at = ?, updated_by = ?`
	if change.status == StatusDeleted {
		args = append([]any{now, by.UserID}, args...)
		set = `status = 'deleted', secret_digest = NULL, secret_ciphertext = NULL, secret_key_id = NULL,
			logo = NULL, deleted_at = ?, deleted_by = ?, updated_at = ?, updated_by = ?`
	}
	if err := s.bulkExec(ctx, tx, `UPDATE tokens SET `+set+`
		WHERE id IN (`+placeholders(len(changed))+`)`, args...); err != nil {
		return nil, nil, err
	}
	// One audit event per token, in one statement.
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", len(changed)), ", ")
	args = args[:0]
	for _, id := range changed {
		args = append(args, id, accountID, now, by.UserID, change.action, detail, by.IP)
	}
	if err := s.bulkExec(ctx, tx, `INSERT INTO audit_events (token_id, account_id, at, actor_id, action, detail, ip)
		VALUES `+values, args...); err != nil {
		return nil, nil, err
	}
	return changed, skipped, nil
}

// bulkQuery and bulkExec run a bulk action's statements, which tests see as
// they see the list's.
func (s *Store) bulkQuery(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if s.listHooks.query != nil {
		s.listHooks.query(query, args)
	}
	return tx.QueryContext(ctx, query, args...)
}

func (s *Store) bulkExec(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	if s.listHooks.query != nil {
		s.listHooks.query(query, args)
	}
	_, err := tx.ExecContext(ctx, query, args...)
	return err
}
