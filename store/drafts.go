package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// DraftAdded is the answer to a second Add of a draft that has added its
// token already, within DraftLife.
type DraftAdded struct{ TokenID string }

func (e *DraftAdded) Error() string { return "this Add has added " + e.TokenID + " already" }

// DraftLife is how long a draft's token is remembered: longer than a
// person takes to send Add again after a slow answer.
const DraftLife = 10 * time.Minute

// claimDraft fails with DraftAdded when the draft has added a token
// within DraftLife, and forgets drafts older than that. Two Adds of one
// draft at once are two transactions that each look for it: on SQLite one
// waits for the other, on PostgreSQL one is run again, and finds it.
func (s *Store) claimDraft(ctx context.Context, tx *sql.Tx, draft string) error {
	if draft == "" {
		return nil
	}
	since := s.now() - DraftLife.Milliseconds()
	if _, err := tx.ExecContext(ctx, `DELETE FROM token_drafts WHERE created_at < ?`, since); err != nil {
		return err
	}
	var tokenID string
	err := tx.QueryRowContext(ctx, `SELECT token_id FROM token_drafts WHERE draft = ?`, draft).Scan(&tokenID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return &DraftAdded{TokenID: tokenID}
}
