package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	var role Role
	err := s.read.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ? AND account_id = ?`,
		o.CreatedBy, o.AccountID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && role != RoleAdmin) {
		return res, ErrNotFound
	}
	if err != nil {
		return res, err
	}
	mods, err := s.Modules(ctx, o.AccountID)
	if err != nil {
		return res, err
	}
	hasAccess := false
	for _, m := range mods {
		hasAccess = hasAccess || m.Key == ModuleAccessManagement
	}
	if !hasAccess {
		return res, &ValidationError{Fields: map[string]string{"modules": "The account has no enabled Access management module."}}
	}
	ids, err := s.freeTokenIDs(ctx, o.Count)
	if err != nil {
		return res, err
	}

	// Random IDs and digests land all over their indexes: with SQLite's
	// default 2 MB page cache, a large transaction spills pages to the WAL
	// again and again. A bigger cache for the seed's duration avoids that.
	var cacheSize int64
	if err := s.write.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cacheSize); err != nil {
		return res, err
	}
	if _, err := s.write.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
		return res, err
	}
	defer s.write.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = %d`, cacheSize))

	now := s.now()
	minute := int64(time.Minute / time.Millisecond)
	oldest := now - int64(o.Count)*minute
	for start := 0; start < o.Count; start += seedBatch {
		end := min(start+seedBatch, o.Count)
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			ins, err := prepareAll(ctx, tx,
				`INSERT INTO tokens (id, account_id, name, description, status,
				secret_digest, secret_ciphertext, secret_key_id, expires_at,
				created_at, created_by, updated_at, updated_by, last_access_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				`INSERT INTO token_modules (token_id, module_id) VALUES (?, ?)`,
				`INSERT INTO audit_events (token_id, account_id, at, actor_id, action, ip) VALUES (?, ?, ?, ?, ?, 'seed')`)
			if err != nil {
				return err
			}
			defer func() {
				for _, st := range ins {
					st.Close()
				}
			}()
			insToken, insModule, insEvent := ins[0], ins[1], ins[2]
			for i := start; i < end; i++ {
				id := ids[i]
				secret := newSecret(id)
				created := oldest + int64(i)*minute
				name := fmt.Sprintf("%s %d", seedNames[i%len(seedNames)], i+1)
				description := ""
				if i%4 == 0 {
					description = "Generated for load tests."
				}
				status := StatusActive
				if i%10 == 9 || i == 1 {
					status = StatusDisabled
				}
				// Spread modules over the account's, one to three each;
				// the two returned tokens get them all.
				tokenMods := make([]Module, 0, len(mods))
				for k := range 1 + i%3 {
					tokenMods = append(tokenMods, mods[(i+k)%len(mods)])
				}
				switch i {
				case 0:
					name, tokenMods = "Load test API client", mods
					res.Active = SeededToken{ID: id, Secret: secret}
				case 1:
					name, tokenMods = "Load test disabled client", mods
					res.Disabled = SeededToken{ID: id, Secret: secret}
				}
				var lastAccess, expires sql.NullInt64
				if i%3 != 0 {
					lastAccess = sql.NullInt64{Int64: created + (now-created)/int64(2+i%5), Valid: true}
				}
				if i%25 == 7 {
					expires = sql.NullInt64{Int64: now + 90*24*60*minute, Valid: true}
				}
				updated := created
				if status == StatusDisabled {
					updated = created + minute/2
				}
				if _, err := insToken.ExecContext(ctx, id, o.AccountID, name, description, status,
					s.secrets.digest(secret), s.secrets.seal(id, secret), s.secrets.keyID, expires,
					created, o.CreatedBy, updated, o.CreatedBy, lastAccess); err != nil {
					return err
				}
				for _, m := range tokenMods {
					if _, err := insModule.ExecContext(ctx, id, m.ID); err != nil {
						return err
					}
				}
				if _, err := insEvent.ExecContext(ctx, id, o.AccountID, created, o.CreatedBy, AuditCreated); err != nil {
					return err
				}
				if status == StatusDisabled {
					if _, err := insEvent.ExecContext(ctx, id, o.AccountID, updated, o.CreatedBy, AuditDisabled); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return SeedResult{}, fmt.Errorf("seed tokens %d to %d: %w", start+1, end, err)
		}
		res.Created = end
	}
	return res, nil
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

// prepareAll prepares each statement on tx; on failure it closes those
// already prepared.
func prepareAll(ctx context.Context, tx *sql.Tx, queries ...string) ([]*sql.Stmt, error) {
	stmts := make([]*sql.Stmt, 0, len(queries))
	for _, q := range queries {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			for _, p := range stmts {
				p.Close()
			}
			return nil, err
		}
		stmts = append(stmts, st)
	}
	return stmts, nil
}
