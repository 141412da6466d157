package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// auditEntry is what the audit trail records of a change: the same for
// every token the change is made to.
type auditEntry struct {
	accountID string
	by        Actor
	action    string // one of the Audit… constants
	detail    string
	changes   []FieldChange // what an update changed
}

// tokenAt is a token an audit entry is recorded for, and when.
type tokenAt struct {
	id string
	at int64
}

// tokensAt is each of ids, all at the time at.
func tokensAt(at int64, ids ...string) []tokenAt {
	out := make([]tokenAt, len(ids))
	for i, id := range ids {
		out[i] = tokenAt{id, at}
	}
	return out
}

// recordAudit records e in the audit trail of each of the tokens. Every
// change writes its audit events here, one token or thousands, in a single
// statement whose text never varies, so it stays prepared: the tokens go as
// one JSON array of [id, time] pairs.
func (s *Store) recordAudit(ctx context.Context, tx *sql.Tx, e auditEntry, tokens []tokenAt) error {
	if err := e.by.check(); err != nil {
		return err
	}
	var changes string
	if len(e.changes) > 0 {
		b, err := json.Marshal(e.changes)
		if err != nil {
			return err
		}
		changes = string(b)
	}
	pairs := make([][2]any, len(tokens))
	for i, t := range tokens {
		pairs[i] = [2]any{t.id, t.at}
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		return err
	}
	return s.txExec(ctx, tx, `INSERT INTO audit_events (token_id, account_id, at, actor_id, action, detail, changes, ip)
		SELECT value ->> 0, ?, value ->> 1, ?, ?, ?, ?, ? FROM json_each(?)`,
		e.accountID, e.by.ID, e.action, e.detail, changes, e.by.IP, string(b))
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
