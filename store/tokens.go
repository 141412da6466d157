package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// tokenColumns is what every token query selects; scanToken reads it.
const tokenColumns = `t.id, t.account_id, t.name, t.description, t.status,
	t.created_at, t.created_by, COALESCE(cu.name, ''),
	t.updated_at, t.updated_by, COALESCE(uu.name, ''),
	t.last_access_at, t.expires_at`

const tokenJoins = `FROM tokens t
	LEFT JOIN users cu ON cu.id = t.created_by
	LEFT JOIN users uu ON uu.id = t.updated_by`

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created, updated, lastAccess, expires sql.NullInt64
	err := row.Scan(&t.ID, &t.AccountID, &t.Name, &t.Description, &t.Status,
		&created, &t.CreatedBy.ID, &t.CreatedBy.Name,
		&updated, &t.UpdatedBy.ID, &t.UpdatedBy.Name,
		&lastAccess, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrNotFound
	}
	t.CreatedAt, t.UpdatedAt = millis(created), millis(updated)
	t.LastAccessAt, t.ExpiresAt = millis(lastAccess), millis(expires)
	return t, err
}

// CreateToken creates an active token and returns it with its secret. The
// secret is returned this once; only its digest and a ciphertext are stored.
func (s *Store) CreateToken(ctx context.Context, n NewToken, by Actor) (Token, string, error) {
	if err := n.Validate(); err != nil {
		return Token{}, "", err
	}
	secret := newSecret()
	var id string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkModules(ctx, tx, n.AccountID, n.ModuleIDs); err != nil {
			return err
		}
		var err error
		if id, err = newID(ctx, tx, "TKN", "tokens"); err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, account_id, name, description, status,
			secret_digest, secret_ciphertext, secret_key_id, expires_at,
			created_at, created_by, updated_at, updated_by)
			VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, n.AccountID, n.Name, n.Description,
			s.secrets.digest(secret), s.secrets.seal(id, secret), s.secrets.keyID, nullMillis(n.ExpiresAt),
			now, by.UserID, now, by.UserID); err != nil {
			return err
		}
		for _, m := range dedupe(n.ModuleIDs) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO token_modules (token_id, module_id) VALUES (?, ?)`, id, m); err != nil {
				return err
			}
		}
		return audit(ctx, tx, id, n.AccountID, now, by, AuditCreated, "")
	})
	if err != nil {
		return Token{}, "", err
	}
	t, err := s.TokenByID(ctx, n.AccountID, id)
	return t, secret, err
}

// checkModules fails with a ValidationError unless every ID is an enabled
// module of the account.
func checkModules(ctx context.Context, tx *sql.Tx, accountID string, ids []string) error {
	ids = dedupe(ids)
	if len(ids) == 0 {
		return nil
	}
	args := []any{accountID}
	for _, id := range ids {
		args = append(args, id)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM modules
		WHERE account_id = ? AND enabled = 1 AND id IN (`+placeholders(len(ids))+`)`, args...).Scan(&n); err != nil {
		return err
	}
	if n != len(ids) {
		return &ValidationError{Fields: map[string]string{"modules": "Choose only modules enabled for this account."}}
	}
	return nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func audit(ctx context.Context, tx *sql.Tx, tokenID, accountID string, at int64, by Actor, action, detail string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (token_id, account_id, at, actor_id, action, detail, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tokenID, accountID, at, by.UserID, action, detail, by.IP)
	return err
}

// TokenByID returns a token of the account with its modules. A deleted token,
// and a token of another account, are ErrNotFound.
func (s *Store) TokenByID(ctx context.Context, accountID, id string) (Token, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` `+tokenJoins+`
		WHERE t.id = ? AND t.account_id = ? AND t.status != 'deleted'`, id, accountID))
	if err != nil {
		return Token{}, err
	}
	tokens := []Token{t}
	if err := s.loadModules(ctx, tokens); err != nil {
		return Token{}, err
	}
	return tokens[0], nil
}

// ListTokens returns a page of the account's tokens that are not deleted,
// newest first.
func (s *Store) ListTokens(ctx context.Context, accountID string, f TokenFilter) (TokenPage, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultPageSize
	}
	f.Limit = min(f.Limit, MaxPageSize)
	f.Offset = max(f.Offset, 0)
	page := TokenPage{Offset: f.Offset, Limit: f.Limit}
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens
		WHERE account_id = ? AND status != 'deleted'`, accountID).Scan(&page.Total); err != nil {
		return page, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+tokenColumns+` `+tokenJoins+`
		WHERE t.account_id = ? AND t.status != 'deleted'
		ORDER BY t.created_at DESC, t.id DESC LIMIT ? OFFSET ?`, accountID, f.Limit, f.Offset)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return page, err
		}
		page.Tokens = append(page.Tokens, t)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	return page, s.loadModules(ctx, page.Tokens)
}

// loadModules fills in the modules of tokens with one query.
func (s *Store) loadModules(ctx context.Context, tokens []Token) error {
	if len(tokens) == 0 {
		return nil
	}
	index := make(map[string]int, len(tokens))
	args := make([]any, len(tokens))
	for i, t := range tokens {
		index[t.ID] = i
		args[i] = t.ID
	}
	rows, err := s.read.QueryContext(ctx, `SELECT tm.token_id, m.id, m.name
		FROM token_modules tm JOIN modules m ON m.id = tm.module_id
		WHERE tm.token_id IN (`+placeholders(len(tokens))+`) ORDER BY m.name`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var tokenID string
		var m Module
		if err := rows.Scan(&tokenID, &m.ID, &m.Name); err != nil {
			return err
		}
		i := index[tokenID]
		tokens[i].Modules = append(tokens[i].Modules, m)
	}
	return rows.Err()
}

// SetTokenStatus enables or disables a token. Setting the status a token
// already has changes nothing and is not an error; changed reports whether
// anything was written.
func (s *Store) SetTokenStatus(ctx context.Context, accountID, id string, status TokenStatus, by Actor) (t Token, changed bool, err error) {
	var action string
	switch status {
	case StatusActive:
		action = AuditEnabled
	case StatusDisabled:
		action = AuditDisabled
	default:
		return Token{}, false, fmt.Errorf("SetTokenStatus: %q is not a status one can set; use DeleteToken", status)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var current TokenStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM tokens
			WHERE id = ? AND account_id = ? AND status != 'deleted'`, id, accountID).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil || current == status {
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET status = ?, updated_at = ?, updated_by = ? WHERE id = ?`,
			status, now, by.UserID, id); err != nil {
			return err
		}
		changed = true
		return audit(ctx, tx, id, accountID, now, by, action, "")
	})
	if err != nil {
		return Token{}, false, err
	}
	t, err = s.TokenByID(ctx, accountID, id)
	return t, changed, err
}

// DeleteToken deletes a token for good: its secret material is wiped at once,
// so the secret never authenticates again, and the row stays as a tombstone
// that is never listed or shown but keeps the token's history. It returns the
// token as it was. A token already deleted is ErrNotFound.
func (s *Store) DeleteToken(ctx context.Context, accountID, id string, by Actor) (Token, error) {
	var t Token
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` `+tokenJoins+`
			WHERE t.id = ? AND t.account_id = ? AND t.status != 'deleted'`, id, accountID))
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET status = 'deleted',
			secret_digest = NULL, secret_ciphertext = NULL, secret_key_id = NULL,
			deleted_at = ?, deleted_by = ?, updated_at = ?, updated_by = ?
			WHERE id = ?`, now, by.UserID, now, by.UserID, id); err != nil {
			return err
		}
		return audit(ctx, tx, id, accountID, now, by, AuditDeleted, "")
	})
	return t, err
}

// TokenBySecret returns the token a presented secret belongs to, if it may
// authenticate at now: malformed, unknown, disabled, deleted and expired
// secrets are all ErrNotFound (a malformed one without a database read).
func (s *Store) TokenBySecret(ctx context.Context, secret string) (Token, error) {
	if err := ParseSecret(secret); err != nil {
		return Token{}, ErrNotFound
	}
	t, err := scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` `+tokenJoins+`
		WHERE t.secret_digest = ?`, s.secrets.digest(secret)))
	if err != nil {
		return Token{}, err
	}
	if t.State(s.Now()) != StateActive {
		return Token{}, ErrNotFound
	}
	return t, nil
}

// AuditEvents returns the token's history, newest first. It includes the
// history of deleted tokens, which is kept.
func (s *Store) AuditEvents(ctx context.Context, accountID, tokenID string) ([]AuditEvent, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT e.id, e.token_id, e.at, e.actor_id, COALESCE(u.name, ''), e.action, e.detail, e.ip
		FROM audit_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.token_id = ? AND e.account_id = ? ORDER BY e.at DESC, e.id DESC`, tokenID, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &e.TokenID, &at, &e.Actor.ID, &e.Actor.Name, &e.Action, &e.Detail, &e.IP); err != nil {
			return nil, err
		}
		e.At = millis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
