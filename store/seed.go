package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SeedOptions says what SeedTokens adds to an account.
type SeedOptions struct {
	AccountID string
	// CreatedBy is the administrator of the account recorded as creator.
	CreatedBy string
	// Count is how many tokens to add, the two returned ones included.
	Count int
}

// SeededToken is a token SeedTokens made, with its secret.
type SeededToken struct {
	ID     string
	Secret string
}

// SeedResult is what SeedTokens made.
type SeedResult struct {
	Created int
	// Active is an active token with every module of the account, "Access
	// management" included, so it may call the API.
	Active SeededToken
	// Disabled is a disabled token with the same modules, which the API
	// must refuse.
	Disabled SeededToken
}

// MaxSeedTokens bounds one SeedTokens call.
const MaxSeedTokens = 1_000_000

// seedBatch is how many tokens go into one transaction: large enough that
// commits (each an fsync) are few, small enough that readers of a live
// database are not held up for long. Tests lower it.
var seedBatch = 10_000

// seedNames are the names of seeded tokens, numbered; each covers a tenth of
// them, so a search for one word finds a predictable share.
var seedNames = []string{
	"Storefront sync", "ERP integration", "Billing export", "CI pipeline", "Partner portal",
	"Analytics feed", "Support tooling", "Procurement bot", "User provisioning", "Staging smoke tests",
}

// SeedTokens adds many generated tokens to an account in a few large
// transactions, for benchmarks and for trying the pages at scale. The rows
// are what CreateToken would make: a fresh secret's digest and ciphertext,
// one to three modules, a creator and a 'created' audit event (and a
// 'disabled' one for the tenth that are disabled). Creation dates go back one
// minute per token; the two returned tokens are the oldest, so the newest
// tokens can be deleted without touching them.
func (s *Store) SeedTokens(ctx context.Context, o SeedOptions) (SeedResult, error) {
	var res SeedResult
	if o.Count < 2 || o.Count > MaxSeedTokens {
		return res, &ValidationError{Fields: map[string]string{"count": fmt.Sprintf("Seed between 2 and %d tokens.", MaxSeedTokens)}}
	}
	mods, err := s.seedModules(ctx, o)
	if err != nil {
		return res, err
	}
	ids, err := s.freeTokenIDs(ctx, o.Count)
	if err != nil {
		return res, err
	}
	restore, err := s.growCache(ctx)
	if err != nil {
		return res, err
	}
	defer restore()

	now := s.now()
	oldest := now - int64(o.Count)*minuteMillis
	for start := 0; start < o.Count; start += seedBatch {
		end := min(start+seedBatch, o.Count)
		rows := make([]seedRow, 0, end-start)
		for i := start; i < end; i++ {
			rows = append(rows, newSeedRow(i, ids[i], mods, oldest, now))
		}
		if err := s.inTx(ctx, func(tx *sql.Tx) error { return s.insertSeedRows(ctx, tx, o, rows) }); err != nil {
			return SeedResult{}, fmt.Errorf("seed tokens %d to %d: %w", start+1, end, err)
		}
		for i, r := range rows {
			switch start + i {
			case 0:
				res.Active = SeededToken{ID: r.id, Secret: r.secret}
			case 1:
				res.Disabled = SeededToken{ID: r.id, Secret: r.secret}
			}
		}
		res.Created = end
	}
	if s.d.postgres {
		// PostgreSQL plans from statistics, which its autovacuum would
		// gather only a while after so many rows: the first pages read
		// after a seed would be planned blind.
		if _, err := s.write.ExecContext(ctx, `ANALYZE tokens, token_modules, audit_events`); err != nil {
			return res, err
		}
	}
	return res, nil
}

// minuteMillis is a minute in the unit of stored times.
const minuteMillis = int64(time.Minute / time.Millisecond)

// seedModules returns the account's modules for the seed, once it has
// checked that the creator is an administrator of the account (ErrNotFound
// otherwise) and that the returned active token can call the API.
func (s *Store) seedModules(ctx context.Context, o SeedOptions) ([]Module, error) {
	var role Role
	err := s.read.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ? AND account_id = ?`,
		o.CreatedBy, o.AccountID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && role != RoleAdmin) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	mods, err := s.Modules(ctx, o.AccountID)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(mods, func(m Module) bool { return m.Key == ModuleAccessManagement }) {
		return nil, &ValidationError{Fields: map[string]string{"modules": "The account has no enabled Access management module."}}
	}
	return mods, nil
}

// growCache gives the write connection a larger page cache until restore is
// called. Random IDs and digests land all over their indexes: with SQLite's
// default 2 MB cache, a large transaction spills pages to the WAL again and
// again.
func (s *Store) growCache(ctx context.Context) (restore func(), err error) {
	if s.d.postgres {
		// PostgreSQL's cache is the server's.
		return func() {}, nil
	}
	var cacheSize int64
	if err := s.write.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cacheSize); err != nil {
		return nil, err
	}
	if _, err := s.write.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
		return nil, err
	}
	return func() {
		s.write.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = %d`, cacheSize))
	}, nil
}

// seedRow is one generated token.
type seedRow struct {
	id, secret            string
	name, description     string
	status                TokenStatus
	modules               []Module
	created, updated      int64
	lastAccess, expiresAt sql.NullInt64
}

// newSeedRow makes the i-th seeded token, created a minute after the one
// before it, from oldest on.
func newSeedRow(i int, id string, mods []Module, oldest, now int64) seedRow {
	r := seedRow{id: id, secret: newSecret(id), status: StatusActive,
		name: fmt.Sprintf("%s %d", seedNames[i%len(seedNames)], i+1), created: oldest + int64(i)*minuteMillis}
	if i%4 == 0 {
		r.description = "Generated for load tests."
	}
	if i%10 == 9 || i == 1 {
		r.status = StatusDisabled
	}
	// Spread modules over the account's, one to three each; the two
	// returned tokens get them all.
	for k := range 1 + i%3 {
		r.modules = append(r.modules, mods[(i+k)%len(mods)])
	}
	switch i {
	case 0:
		r.name, r.modules = "Load test API client", mods
	case 1:
		r.name, r.modules = "Load test disabled client", mods
	}
	if i%3 != 0 {
		r.lastAccess = sql.NullInt64{Int64: r.created + (now-r.created)/int64(2+i%5), Valid: true}
	}
	if i%25 == 7 {
		r.expiresAt = sql.NullInt64{Int64: now + 90*24*60*minuteMillis, Valid: true}
	}
	r.updated = r.created
	if r.status == StatusDisabled {
		r.updated = r.created + minuteMillis/2
	}
	return r
}

// insertSeedRows writes seeded tokens in tx, hundreds of rows a statement,
// and their audit events in two statements.
func (s *Store) insertSeedRows(ctx context.Context, tx *sql.Tx, o SeedOptions, rows []seedRow) error {
	var tokens, modules []any
	var created, disabled []tokenAt
	for _, r := range rows {
		tokens = append(tokens, r.id, o.AccountID, r.name, r.description, r.status,
			s.secrets.digest(r.secret), s.secrets.seal(r.id, r.secret), s.secrets.keyID, r.expiresAt,
			r.created, o.CreatedBy, r.updated, o.CreatedBy, r.lastAccess)
		for _, m := range r.modules {
			modules = append(modules, r.id, m.ID)
		}
		created = append(created, tokenAt{r.id, r.created})
		if r.status == StatusDisabled {
			disabled = append(disabled, tokenAt{r.id, r.updated})
		}
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO tokens (id, account_id, name, description, status,
		secret_digest, secret_ciphertext, secret_key_id, expires_at,
		created_at, created_by, updated_at, updated_by, last_access_at) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tokens); err != nil {
		return err
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO token_modules (token_id, module_id) VALUES `, `(?, ?)`, modules); err != nil {
		return err
	}
	seeder := Actor{Kind: ActorUser, ID: o.CreatedBy, IP: "seed"}
	if err := s.recordAudit(ctx, tx, auditEntry{accountID: o.AccountID, by: seeder, action: AuditCreated}, created); err != nil {
		return err
	}
	return s.recordAudit(ctx, tx, auditEntry{accountID: o.AccountID, by: seeder, action: AuditDisabled}, disabled)
}

// freeTokenIDs draws n distinct token IDs that no row has. Drawing them up
// front against the IDs in use spares a look-up per insert.
func (s *Store) freeTokenIDs(ctx context.Context, n int) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM tokens`)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		taken[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Keep the ID space mostly free, so that CreateToken's random draw
	// still finds a free ID at once.
	if len(taken)+n > idNumbers/10 {
		return nil, &ValidationError{Fields: map[string]string{"count": "Too many tokens for the ID space."}}
	}
	ids := make([]string, 0, n)
	for len(ids) < n {
		id, err := randomID(tokenPrefix)
		if err != nil {
			return nil, err
		}
		if !taken[id] {
			taken[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// rowsPerInsert is how many rows insertRows writes a statement. On
// PostgreSQL, hundreds: a round trip, and a run of its triggers, per row
// made a seed of 100,000 tokens take minutes. On SQLite, one: a statement
// kept prepared and run again costs less there than binding thousands of
// values at once (a seed of 100,000 took 27 s that way, 18 s this way).
func (s *Store) rowsPerInsert() int {
	if s.d.postgres {
		return 500
	}
	return 1
}

// insertRows runs head followed by values (the placeholders of one row),
// once for up to rowsPerInsert rows of args, as many times as args hold
// rows.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, head, values string, args []any) error {
	width := strings.Count(values, "?")
	statement := func(rows int) string { return head + strings.TrimSuffix(strings.Repeat(values+", ", rows), ", ") }
	// Every statement but the last is the same: written once.
	whole := statement(s.rowsPerInsert())
	for len(args) > 0 {
		n, query := min(len(args)/width, s.rowsPerInsert()), whole
		if n < s.rowsPerInsert() {
			query = statement(n)
		}
		if _, err := tx.ExecContext(ctx, query, args[:n*width]...); err != nil {
			return err
		}
		args = args[n*width:]
	}
	return nil
}
