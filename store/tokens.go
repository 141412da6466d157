package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// tokenColumns is what every token query selects; scanToken reads it.
const tokenColumns = `t.id, t.account_id, t.name, t.description, t.status,
	t.created_at, t.created_by, COALESCE(cu.name, ct.name, ''),
	t.updated_at, t.updated_by, COALESCE(uu.name, ut.name, ''),
	t.last_access_at, t.expires_at, t.logo IS NOT NULL, t.calls_7d, t.previous_until, t.allowed_addresses`

// tokenJoins names who created and last changed a token: a user, or a token
// when the change came through the API.
const tokenJoins = `FROM tokens t
	LEFT JOIN users cu ON cu.id = t.created_by
	LEFT JOIN tokens ct ON ct.id = t.created_by
	LEFT JOIN users uu ON uu.id = t.updated_by
	LEFT JOIN tokens ut ON ut.id = t.updated_by`

// scanToken reads tokenColumns, and then extra columns into extra.
func scanToken(row interface{ Scan(...any) error }, extra ...any) (Token, error) {
	var t Token
	var created, updated, lastAccess, expires, previousUntil sql.NullInt64
	var allowed string
	err := row.Scan(append([]any{&t.ID, &t.AccountID, &t.Name, &t.Description, &t.Status,
		&created, &t.CreatedBy.ID, &t.CreatedBy.Name,
		&updated, &t.UpdatedBy.ID, &t.UpdatedBy.Name,
		&lastAccess, &expires, &t.HasLogo, &t.Calls7d, &previousUntil, &allowed}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrNotFound
	}
	t.CreatedAt, t.UpdatedAt = millis(created), millis(updated)
	t.UpdatedBy = withSystemName(t.UpdatedBy)
	t.LastAccessAt, t.ExpiresAt = millis(lastAccess), millis(expires)
	t.PreviousUntil = millis(previousUntil)
	t.AllowedAddresses = allowedFromStored(allowed)
	return t, err
}

// oneTokenColumns read a single token whole, in one query: its columns,
// its account's name, its modules as JSON ([[id, key, name], …]) and its
// account's version.
// withPage adds what only its page shows (pageColumns), which an API call's
// look-up of its secret need not read.
func oneTokenColumns(d dialect, withPage bool) string {
	cols := tokenColumns
	if withPage {
		cols += `, ` + pageColumns
	}
	return cols + `, a.name,
	(SELECT ` + d.jsonArrays(`m.id, m.key, m.name`) + `
		FROM token_modules tm JOIN modules m ON m.id = tm.module_id WHERE tm.token_id = t.id), av.version`
}

// pageColumns are what a token's page shows beside tokenColumns: when it
// was rotated and its previous secret last used, and the latest call
// refused with it.
const pageColumns = `t.rotated_at, t.previous_last_at, t.last_refused_at, t.last_refused_ip, t.last_refused_agent`

// oneTokenQueries are the statements that read a single token whole, made
// once for the store's engine: reading a token is every API call's first
// step.
type oneTokenQueries struct {
	bySecret   string // its argument: the secret's digest
	byPrevious string // its argument: the digest of a secret rotated away
	byID       string // its arguments: the token's ID and account; with pageColumns
}

func newOneTokenQueries(d dialect) oneTokenQueries {
	sel := `SELECT ` + oneTokenColumns(d, false) + ` ` + oneTokenJoins
	return oneTokenQueries{
		bySecret:   sel + ` WHERE t.secret_digest = ?`,
		byPrevious: sel + ` WHERE t.previous_digest = ?`,
		byID:       `SELECT ` + oneTokenColumns(d, true) + ` ` + oneTokenJoins + ` WHERE ` + liveToken,
	}
}

// oneTokenJoins are tokenJoins and the token's account and its version,
// for oneTokenColumns.
const oneTokenJoins = tokenJoins + `
	JOIN accounts a ON a.id = t.account_id
	JOIN account_versions av ON av.account_id = t.account_id`

// scanOneToken reads oneTokenColumns, with pageColumns or not, and the
// account's version into version.
func scanOneToken(row *sql.Row, withPage bool, version *int64) (Token, error) {
	var modules string
	var accountName string
	var rotated, previousLast, refusedAt sql.NullInt64
	var refusedIP, refusedAgent sql.NullString
	extra := []any{&accountName, &modules, version}
	if withPage {
		extra = append([]any{&rotated, &previousLast, &refusedAt, &refusedIP, &refusedAgent}, extra...)
	}
	t, err := scanToken(row, extra...)
	if err != nil {
		return Token{}, err
	}
	t.AccountName = accountName
	t.RotatedAt, t.PreviousLastAt = millis(rotated), millis(previousLast)
	t.LastRefused = Caller{At: millis(refusedAt), Address: refusedIP.String, UserAgent: refusedAgent.String}
	var pairs [][3]string
	if err := json.Unmarshal([]byte(modules), &pairs); err != nil {
		return Token{}, fmt.Errorf("modules of %s: %w", t.ID, err)
	}
	for _, p := range pairs {
		t.Modules = append(t.Modules, Module{ID: p[0], Key: p[1], Name: p[2]})
	}
	slices.SortFunc(t.Modules, func(a, b Module) int { return strings.Compare(a.Name, b.Name) })
	return t, nil
}

// CreateToken creates an active token and returns it with its secret. The
// secret is returned this once; only its digest and a ciphertext are stored.
func (s *Store) CreateToken(ctx context.Context, n NewToken, by Actor) (Token, string, error) {
	if err := n.Validate(); err != nil {
		return Token{}, "", err
	}
	if err := CheckExpiry(n.ExpiresAt, s.Now()); err != nil {
		return Token{}, "", err
	}
	if err := checkStoredLogo(n.Logo); err != nil {
		return Token{}, "", err
	}
	if err := checkGrantable(n.Grantable, n.ModuleIDs, nil); err != nil {
		return Token{}, "", err
	}
	var id, secret string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.claimDraft(ctx, tx, n.Draft); err != nil {
			return err
		}
		if err := checkModules(ctx, tx, n.AccountID, n.ModuleIDs); err != nil {
			return err
		}
		var err error
		if id, err = newID(ctx, tx, tokenPrefix, "tokens"); err != nil {
			return err
		}
		secret = newSecret(id)
		var logo any
		if len(n.Logo) > 0 {
			logo = n.Logo
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, account_id, name, description, status,
			secret_digest, secret_ciphertext, secret_key_id, expires_at, logo, allowed_addresses,
			created_at, created_by, updated_at, updated_by)
			VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, n.AccountID, n.Name, n.Description,
			s.secrets.digest(secret), s.secrets.seal(id, secret), s.secrets.keyID, nullMillis(n.ExpiresAt), logo,
			storedAddresses(n.AllowedAddresses), now, by.ID, now, by.ID); err != nil {
			return err
		}
		if err := insertTokenModules(ctx, tx, id, UniqueIDs(n.ModuleIDs)); err != nil {
			return err
		}
		if n.Draft != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO token_drafts (draft, token_id, created_at) VALUES (?, ?, ?)`,
				n.Draft, id, now); err != nil {
				return err
			}
		}
		return s.recordAudit(ctx, tx, auditEntry{accountID: n.AccountID, by: by, action: AuditCreated}, tokensAt(now, id))
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
	ids = UniqueIDs(ids)
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

// checkGrantable fails with a ValidationError when ids has a module that is
// neither grantable nor among held, the modules the token has already. A
// nil grantable allows any.
func checkGrantable(grantable []Module, ids, held []string) error {
	if grantable == nil {
		return nil
	}
	var missing []string
	for _, id := range UniqueIDs(ids) {
		if !slices.Contains(held, id) && !slices.ContainsFunc(grantable, func(m Module) bool { return m.ID == id }) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &ValidationError{Fields: map[string]string{"modules": fmt.Sprintf(
		"An API token may grant only the modules it has itself; it does not have %s.", strings.Join(missing, ", "))}}
}

// liveToken is the condition, on tokens as t, of the token with an ID (the
// first argument) in an account (the second) that is not deleted: a
// tombstone, and another account's token, are never found.
const liveToken = `t.id = ? AND t.account_id = ? AND t.status != 'deleted'`

// TokenByID returns a token of the account with its modules. A deleted token,
// and a token of another account, are ErrNotFound. A token read at the
// account's version still current is taken from memory.
func (s *Store) TokenByID(ctx context.Context, accountID, id string) (Token, error) {
	v, err := s.accountVersion(ctx, accountID)
	if err != nil {
		return Token{}, err
	}
	pages := keptIn(&s.tokenPages, accountID, v, maxKeptRows)
	if t, ok := pages.get(id); ok {
		return t.clone(), nil
	}
	var read int64 // the version the token was read at, v or later
	t, err := scanOneToken(s.read.QueryRowContext(ctx, s.oneToken.byID, id, accountID), true, &read)
	if err == nil {
		pages.put(id, t.clone())
	}
	return t, err
}

// tokensByIDs loads tokens of the account with their modules, in the
// order of ids. Those kept at the account's version are taken from memory
// (the list's pages, read again and again), the others read, and kept when
// keep is set. Modules come from the bits of each token and the account's
// modules.
func (s *Store) tokensByIDs(ctx context.Context, accountID string, ids []string, keep bool) ([]Token, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	v, err := s.accountVersion(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var rows *keptMap[keptRow]
	if keep {
		rows = keptIn(&s.rows, accountID, v, maxKeptRows)
	}
	found := make(map[string]keptRow, len(ids))
	var missing []string
	for _, id := range ids {
		if r, ok := rows.getIn(id); ok {
			found[id] = r
		} else {
			missing = append(missing, id)
		}
	}
	if err := s.readTokenRows(ctx, missing, func(r keptRow) {
		found[r.t.ID] = r
		if rows != nil {
			rows.put(r.t.ID, r)
		}
	}); err != nil {
		return nil, err
	}
	modules, err := s.accountModules(ctx, accountID)
	if err != nil {
		return nil, err
	}
	tokens := make([]Token, 0, len(ids))
	for _, id := range ids {
		// A token deleted between the two reads is left out.
		r, ok := found[id]
		if !ok || r.t.Status == StatusDeleted {
			continue
		}
		t := r.t.clone()
		if t.Modules, ok = modulesOfBits(modules, r.bits); !ok {
			// A module added since the modules were read.
			if modules, err = s.readModules(ctx, accountID); err != nil {
				return nil, err
			}
			t.Modules, _ = modulesOfBits(modules, r.bits)
		}
		tokens = append(tokens, t)
	}
	return tokens, nil
}

// readTokenRows reads tokens by ID, with the bits of their modules, and
// gives each to fn.
func (s *Store) readTokenRows(ctx context.Context, ids []string, fn func(keptRow)) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := s.listQuery(ctx, `SELECT `+tokenColumns+`, t.module_bits `+tokenJoins+`
		WHERE t.id`+s.d.inStrings(), jsonIDs(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r keptRow
		if r.t, err = scanToken(rows, &r.bits); err != nil {
			return err
		}
		fn(r)
	}
	return rows.Err()
}

// insertTokenModules scopes a token to the modules with the given IDs.
func insertTokenModules(ctx context.Context, tx *sql.Tx, tokenID string, moduleIDs []string) error {
	for _, m := range moduleIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO token_modules (token_id, module_id) VALUES (?, ?)`, tokenID, m); err != nil {
			return err
		}
	}
	return nil
}

// tokenModuleIDs returns the IDs of a token's modules.
func tokenModuleIDs(ctx context.Context, tx *sql.Tx, tokenID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT module_id FROM token_modules WHERE token_id = ? ORDER BY module_id`, tokenID)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

// tokenModules returns the names of a token's modules, sorted.
func tokenModules(ctx context.Context, tx *sql.Tx, tokenID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.name FROM token_modules tm JOIN modules m ON m.id = tm.module_id
		WHERE tm.token_id = ? ORDER BY m.name`, tokenID)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

// moduleNames returns the names of the modules with the given IDs, sorted.
func moduleNames(ctx context.Context, tx *sql.Tx, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM modules WHERE id IN (`+placeholders(len(ids))+`) ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}
