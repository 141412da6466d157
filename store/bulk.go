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
	// SkipExpired: enabling or disabling a token past its expiry date
	// would change nothing the API sees; it is renewed by Edit.
	SkipExpired BulkSkipReason = "past its expiry date"
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
// BenchmarkBulkDelete measures the whole. Tests change both.
var (
	bulkChunk  = 8
	bulkBudget = 2 * time.Millisecond
)

// MaxBulkTokens bounds how many tokens one bulk action, or one "select all
// matching", takes.
const MaxBulkTokens = 10_000

// maxBulk is MaxBulkTokens, which tests make smaller.
var maxBulk = MaxBulkTokens

// BulkChangeTokens enables, disables or deletes (as DeleteToken does one)
// up to MaxBulkTokens tokens of the account, each with its own audit event.
// Tokens that are missing, deleted, in the status already or, for Enable and
// Disable, past their expiry date are skipped, with the reason. The work is
// committed in short transactions: on an error, the result holds those
// committed before it, and the tokens in neither list were not changed.
func (s *Store) BulkChangeTokens(ctx context.Context, accountID string, ids []string, a TokenAction, by Actor) (BulkResult, error) {
	change, ok := changeTo(a.Status())
	if !ok {
		return BulkResult{}, fmt.Errorf("BulkChangeTokens: no action %q", a)
	}
	return s.bulk(ctx, accountID, ids, change, by)
}

// bulk makes a change to each of ids, in transactions bounded by time, each
// token the way changeTokens makes it.
func (s *Store) bulk(ctx context.Context, accountID string, ids []string, change tokenChange, by Actor) (BulkResult, error) {
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
			// A transaction run again starts again from its first chunk.
			changed, skipped, end = nil, nil, start
			began = time.Now()
			for end < len(ids) && (end == start || time.Since(began) < bulkBudget) {
				chunk := ids[end:min(end+bulkChunk, len(ids))]
				c, sk, err := s.changeTokens(ctx, tx, accountID, chunk, change, by, detail)
				if err != nil {
					return err
				}
				changed, skipped = append(changed, c...), append(skipped, sk...)
				end += len(chunk)
			}
			return nil
		})
		if s.hooks.batch != nil && !began.IsZero() {
			s.hooks.batch(end-start, time.Since(began))
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
