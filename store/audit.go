package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

func audit(ctx context.Context, tx *sql.Tx, tokenID, accountID string, at int64, by Actor, action, detail string, changes []FieldChange) error {
	var encoded string
	if len(changes) > 0 {
		b, err := json.Marshal(changes)
		if err != nil {
			return err
		}
		encoded = string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (token_id, account_id, at, actor_id, action, detail, changes, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tokenID, accountID, at, by.ID, action, detail, encoded, by.IP)
	return err
}

// AuditEvents returns the token's history, newest first. It includes the
// history of deleted tokens, which is kept.
func (s *Store) AuditEvents(ctx context.Context, accountID, tokenID string) ([]AuditEvent, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT e.id, e.token_id, e.at, e.actor_id, COALESCE(u.name, tk.name, ''),
		e.action, e.detail, e.changes, e.ip
		FROM audit_events e
		LEFT JOIN users u ON u.id = e.actor_id
		LEFT JOIN tokens tk ON tk.id = e.actor_id
		WHERE e.token_id = ? AND e.account_id = ? ORDER BY e.at DESC, e.id DESC`, tokenID, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var at sql.NullInt64
		var changes string
		if err := rows.Scan(&e.ID, &e.TokenID, &at, &e.Actor.ID, &e.Actor.Name, &e.Action, &e.Detail, &changes, &e.IP); err != nil {
			return nil, err
		}
		e.At = millis(at)
		if changes != "" {
			if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
				return nil, fmt.Errorf("audit event %d: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
