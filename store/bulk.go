package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
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

// A bulk action commits as it goes, so that other writers wait for one of
// its transactions, never for all of it. A token costs a dozen writes to
// pages all over the indexes (0.1 to 0.5 ms, growing with the account), so a
// token count cannot bound a transaction's time: a transaction takes tokens
// bulkChunk at a time until it has worked for bulkBudget, then commits. The
// commit (a write and an fsync of the log) then costs as much again or more;
// BenchmarkBulkDeleteTokens measures the whole. Tests change both.
var (
	bulkChunk  = 8
	bulkBudget = 2 * time.Millisecond
)

// MaxBulkTokens bounds how many tokens one bulk action, or one "select all
// matching", takes.
const MaxBulkTokens = 10_000

// maxBulk is MaxBulkTokens, which tests make smaller.
var maxBulk = MaxBulkTokens

// bulkChange is one bulk action: the status it sets and how it records it.
type bulkChange struct {
	status  TokenStatus
	action  string
	already BulkSkipReason // for a token that has the status already
}

// BulkSetTokenStatus enables (StatusActive) or disables (StatusDisabled) up to
// MaxBulkTokens tokens of the account, each with its own audit event. Tokens
// that are missing, deleted or in the status already are skipped, with the
// reason. The work is committed in short transactions: on an error, the
// result holds those committed before it, and the tokens in neither list
// were not changed.
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
// short transactions, as by BulkSetTokenStatus.
func (s *Store) BulkDeleteTokens(ctx context.Context, accountID string, ids []string, by Actor) (BulkResult, error) {
	return s.bulk(ctx, accountID, ids, bulkChange{StatusDeleted, AuditDeleted, SkipDeleted}, by)
}

func (s *Store) bulk(ctx context.Context, accountID string, ids []string, change bulkChange, by Actor) (BulkResult, error) {
	ids = UniqueIDs(ids)
	switch {
	case len(ids) == 0:
		return BulkResult{}, &ValidationError{Fields: map[string]string{"selection": "Select at least one API token."}}
	case len(ids) > maxBulk:
		return BulkResult{}, &ValidationError{Fields: map[string]string{"selection": fmt.Sprintf(
			"Select at most %d API tokens at a time.", maxBulk)}}
	}
	var r BulkResult
	detail := fmt.Sprintf("bulk action on %d API tokens", len(ids))
	for start := 0; start < len(ids); {
		var changed []string
		var skipped []BulkSkip
		var began time.Time
		end := start
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			began = time.Now()
			for end < len(ids) && (end == start || time.Since(began) < bulkBudget) {
				chunk := ids[end:min(end+bulkChunk, len(ids))]
				c, sk, err := s.changeChunk(ctx, tx, accountID, chunk, change, by, detail)
				if err != nil {
					return err
				}
				changed, skipped = append(changed, c...), append(skipped, sk...)
				end += len(chunk)
			}
			return nil
		})
		if s.listHooks.batch != nil && !began.IsZero() {
			s.listHooks.batch(end-start, time.Since(began))
		}
		if err != nil {
			// A cancelled context may surface as the driver's interruption.
			if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
				err = fmt.Errorf("%w: %v", cerr, err)
			}
			return r, err
		}
		r.Changed = append(r.Changed, changed...)
		r.Skipped = append(r.Skipped, skipped...)
		start = end
	}
	return r, nil
}

// changeChunk changes the tokens of a chunk that may change, in the
// transaction tx, and says which it skipped.
func (s *Store) changeChunk(ctx context.Context, tx *sql.Tx, accountID string, batch []string, change bulkChange,
	by Actor, detail string) (changed []string, skipped []BulkSkip, err error) {
	// The IDs go as one JSON array, so that every batch is the same
	// statement text, prepared once.
	rows, err := s.bulkQuery(ctx, tx, `SELECT id, status FROM tokens
		WHERE account_id = ? AND id IN (SELECT value FROM json_each(?))`, accountID, jsonIDs(batch))
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
	set, args := `status = ?, updated_at = ?, updated_by = ?`, []any{change.status, now, by.ID}
	if change.status == StatusDeleted {
		set = `status = 'deleted', secret_digest = NULL, secret_ciphertext = NULL, secret_key_id = NULL,
			logo = NULL, deleted_at = ?, deleted_by = ?, updated_at = ?, updated_by = ?`
		args = []any{now, by.ID, now, by.ID}
	}
	ids := jsonIDs(changed)
	if err := s.bulkExec(ctx, tx, `UPDATE tokens SET `+set+`
		WHERE id IN (SELECT value FROM json_each(?))`, append(args, ids)...); err != nil {
		return nil, nil, err
	}
	// One audit event per token, in one statement.
	if err := s.bulkExec(ctx, tx, `INSERT INTO audit_events (token_id, account_id, at, actor_id, action, detail, ip)
		SELECT value, ?, ?, ?, ?, ?, ? FROM json_each(?)`,
		accountID, now, by.ID, change.action, detail, by.IP, ids); err != nil {
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
