package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"unicode/utf8"
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
	return s.txExec(ctx, tx, `INSERT INTO audit_events (token_id, account_id, at, actor_id, action, detail, changes, ip, user_agent, reason)
		SELECT value ->> 0, ?, CAST(value ->> 1 AS BIGINT), ?, ?, ?, ?, ?, ?, ? FROM `+s.d.jsonValues(),
		e.accountID, e.by.ID, e.action, e.detail, changes, e.by.IP, cleanUserAgent(e.by.UserAgent), strings.TrimSpace(e.by.Reason), string(b))
}

// MaxUserAgent is how many characters of a browser's name (its User-Agent)
// the audit trail keeps: enough to tell browser, version and system apart,
// and a client cannot fill the database through a header.
const MaxUserAgent = 256

// cleanUserAgent is what the audit trail keeps of a User-Agent header: valid
// UTF-8 without control characters, cut to MaxUserAgent characters.
func cleanUserAgent(ua string) string {
	ua = strings.ToValidUTF8(ua, "")
	ua = strings.Map(func(r rune) rune {
		// What a name may not hold: control characters and bidi marks.
		if refusedInName(r) {
			return -1
		}
		return r
	}, ua)
	if utf8.RuneCountInString(ua) > MaxUserAgent {
		ua = string([]rune(ua)[:MaxUserAgent])
	}
	return strings.TrimSpace(ua)
}
