package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AuditFilter picks events of an account's audit trail, newest first. The
// zero value is every event of the account.
type AuditFilter struct {
	TokenID string // the events of this token only
	// Object is a token's ID, or part of its name.
	Object  string
	ActorID string // a user's or a token's ID
	Action  string // one of AuditActions
	// From and To bound the time: at or after From, before To. The zero
	// time leaves that end open.
	From, To time.Time
	// Offset skips that many events; Limit is how many to return, at most
	// MaxAuditPage, 0 for every one.
	Offset, Limit int
}

// MaxAuditPage is the most events one page of the audit trail holds.
const MaxAuditPage = 100

// Validate checks what a person chose in the filter form.
func (f AuditFilter) Validate() error {
	var v ValidationError
	if f.Action != "" && !slices.Contains(AuditActions, f.Action) {
		v.add("event", "Choose an event from the list.")
	}
	if f.ActorID != "" && !isID(f.ActorID, userPrefix) && !isID(f.ActorID, tokenPrefix) {
		v.add("actor", "Choose an actor from the list.")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		v.add("to", "The end date must not be before the start date.")
	}
	if f.Offset < 0 || f.Limit < 0 || f.Limit > MaxAuditPage {
		v.add("page", "That page does not exist.")
	}
	return v.err()
}

// AuditPage is one page of an audit trail and how many events match in all.
type AuditPage struct {
	Events []AuditEvent
	Total  int
}

// auditSelect reads an event with the name of its token and of its actor
// (a user, or a token for a change made through the API).
const auditSelect = `SELECT e.id, e.token_id, o.name, o.status = 'deleted', e.at, e.actor_id, COALESCE(u.name, tk.name, ''),
		e.action, e.detail, e.changes, e.ip, e.user_agent, e.reason
	FROM audit_events e
	JOIN tokens o ON o.id = e.token_id
	LEFT JOIN users u ON u.id = e.actor_id
	LEFT JOIN tokens tk ON tk.id = e.actor_id`

// AuditTrail returns the account's audit events that match the filter,
// newest first, a page of them, with how many match in all. Every read is
// bounded by the account: another account's events never match.
func (s *Store) AuditTrail(ctx context.Context, accountID string, f AuditFilter) (AuditPage, error) {
	if err := f.Validate(); err != nil {
		return AuditPage{}, err
	}
	where, byName, args := auditWhere(s.d, accountID, f)
	// Every event's token is kept (a delete leaves a tombstone), so the
	// count joins the tokens only to match their names; without that, it
	// counts from an index alone.
	from := ` FROM audit_events e`
	if byName {
		from += ` JOIN tokens o ON o.id = e.token_id`
	}
	total, err := s.listCount(ctx, `SELECT COUNT(*)`+from+where, args...)
	if err != nil {
		return AuditPage{}, err
	}
	query := auditSelect + where + ` ORDER BY e.at DESC, e.id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := s.listQuery(ctx, query, args...)
	if err != nil {
		return AuditPage{}, err
	}
	events, err := scanAuditEvents(rows)
	return AuditPage{Events: events, Total: total}, err
}

// auditWhere is the WHERE clause of the filter, the account first, and
// whether it matches the tokens' names (o). One token's history is read
// along its own index, the account's term kept from the account's index;
// the account's trail along the account's.
func auditWhere(d dialect, accountID string, f AuditFilter) (where string, byName bool, args []any) {
	object := strings.TrimSpace(f.Object)
	tokenIDs := []string{}
	if f.TokenID != "" {
		tokenIDs = append(tokenIDs, f.TokenID)
	}
	if IsTokenID(strings.ToUpper(object)) {
		tokenIDs, object = append(tokenIDs, strings.ToUpper(object)), ""
	}
	conds := []string{indexed("e.account_id", len(tokenIDs) == 0) + " = ?"}
	args = []any{accountID}
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	for _, id := range tokenIDs {
		add("e.token_id = ?", id)
	}
	if object != "" {
		add(d.likeNocase(`o.name`), "%"+likeEscaper.Replace(object)+"%")
	}
	if f.ActorID != "" {
		add("e.actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		add("e.action = ?", f.Action)
	}
	if !f.From.IsZero() {
		add("e.at >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add("e.at < ?", f.To.UnixMilli())
	}
	return " WHERE " + strings.Join(conds, " AND "), object != "", args
}

// likeEscaper makes a search term match itself in a LIKE pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// AuditEvents returns the token's history, newest first. It includes the
// history of deleted tokens, which is kept.
func (s *Store) AuditEvents(ctx context.Context, accountID, tokenID string) ([]AuditEvent, error) {
	page, err := s.AuditTrail(ctx, accountID, AuditFilter{TokenID: tokenID})
	return page.Events, err
}

// AuditEventByID returns one event of the account's audit trail;
// ErrNotFound when the account has no such event.
func (s *Store) AuditEventByID(ctx context.Context, accountID string, id int64) (AuditEvent, error) {
	rows, err := s.listQuery(ctx, auditSelect+` WHERE e.id = ? AND e.account_id = ?`, id, accountID)
	if err != nil {
		return AuditEvent{}, err
	}
	events, err := scanAuditEvents(rows)
	if err != nil {
		return AuditEvent{}, err
	}
	if len(events) == 0 {
		return AuditEvent{}, ErrNotFound
	}
	return events[0], nil
}

// scanAuditEvents reads the rows of auditSelect, and closes them.
func scanAuditEvents(rows *sql.Rows) ([]AuditEvent, error) {
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var at sql.NullInt64
		var changes string
		if err := rows.Scan(&e.ID, &e.TokenID, &e.TokenName, &e.TokenDeleted, &at, &e.Actor.ID, &e.Actor.Name,
			&e.Action, &e.Detail, &changes, &e.IP, &e.UserAgent, &e.Reason); err != nil {
			return nil, err
		}
		e.At = millis(at)
		e.Actor = withSystemName(e.Actor)
		if changes != "" {
			if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
				return nil, fmt.Errorf("audit event %d: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
