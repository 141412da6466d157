package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
)

// What the store keeps in memory of an account is kept with the account's
// version when it was read (table account_versions). Every write to the
// account's tokens, modules and users raises the version in the same
// transaction, by triggers, whichever instance or process makes it; and
// what was kept is used only after a read of the version says it is still
// the same. So a change is seen by every instance at its next request, and
// a token disabled, deleted or rotated away never authenticates from
// memory. What depends on the clock (expiry, a previous secret's grace
// period) is checked against the clock on every use, as it is on a read.

// accountVersion reads the account's version: one row by its key.
func (s *Store) accountVersion(ctx context.Context, accountID string) (int64, error) {
	var v int64
	err := s.read.QueryRowContext(ctx, `SELECT version FROM account_versions WHERE account_id = ?`, accountID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return v, err
}

// maxKeptSecrets bounds how many tokens secretCache keeps: about 1 KB
// each. When it is full it starts again empty, which costs each token in
// use one read.
const maxKeptSecrets = 10_000

// secretCache keeps tokens found by the digest of a secret, each with its
// account's version when it was read.
type secretCache struct {
	mu     sync.RWMutex
	tokens map[string]keptToken
}

// keptToken is a token as read at its account's version.
type keptToken struct {
	t       Token
	version int64
}

func (c *secretCache) get(digest []byte) (keptToken, bool) {
	c.mu.RLock()
	k, ok := c.tokens[string(digest)]
	c.mu.RUnlock()
	return k, ok
}

func (c *secretCache) put(digest []byte, t Token, version int64) {
	c.mu.Lock()
	if c.tokens == nil || len(c.tokens) >= maxKeptSecrets {
		c.tokens = make(map[string]keptToken)
	}
	c.tokens[string(digest)] = keptToken{t: t, version: version}
	c.mu.Unlock()
}

// clone is the token with slices of its own, so that a caller that changes
// them changes nothing kept.
func (t Token) clone() Token {
	t.Modules = slices.Clone(t.Modules)
	t.AllowedAddresses = slices.Clone(t.AllowedAddresses)
	return t
}

// accountModules are all of an account's modules, enabled or not, by name,
// each with its bit in tokens.module_bits, at a version of the account.
type accountModules struct {
	version int64
	modules []moduleBit
}

// moduleBit is a module and its bit in tokens.module_bits.
type moduleBit struct {
	Module
	enabled bool
	bit     uint
}

// moduleCache keeps the modules of accounts.
type moduleCache struct {
	mu       sync.RWMutex
	accounts map[string]accountModules
}

// maxKeptAccounts bounds how many accounts' modules are kept.
const maxKeptAccounts = 10_000

// accountModules returns the account's modules as of version v: those
// kept, when they were read at v, or else read now (and then kept at the
// version read with them).
func (s *Store) accountModules(ctx context.Context, accountID string, v int64) ([]moduleBit, error) {
	s.modules.mu.RLock()
	kept, ok := s.modules.accounts[accountID]
	s.modules.mu.RUnlock()
	if ok && kept.version == v {
		return kept.modules, nil
	}
	// The version and the modules in one statement, so that they agree.
	rows, err := s.read.QueryContext(ctx, `SELECT v.version, m.id, m.key, m.name, m.enabled, m.bit
		FROM account_versions v LEFT JOIN modules m ON m.account_id = v.account_id
		WHERE v.account_id = ? ORDER BY m.name, m.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var read accountModules
	for rows.Next() {
		var id, key, name sql.NullString
		var enabled sql.NullBool
		var bit sql.NullInt64
		if err := rows.Scan(&read.version, &id, &key, &name, &enabled, &bit); err != nil {
			return nil, err
		}
		if id.Valid { // none, for an account without modules
			read.modules = append(read.modules, moduleBit{Module{id.String, key.String, name.String}, enabled.Bool, uint(bit.Int64)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.modules.mu.Lock()
	if s.modules.accounts == nil || len(s.modules.accounts) >= maxKeptAccounts {
		s.modules.accounts = make(map[string]accountModules)
	}
	if k, ok := s.modules.accounts[accountID]; !ok || k.version <= read.version {
		s.modules.accounts[accountID] = read
	}
	s.modules.mu.Unlock()
	return read.modules, nil
}

// modulesOfBits are the modules whose bits are set in bits, by name. ok is
// false when a bit is set that no module has: the modules were read before
// one was added.
func modulesOfBits(modules []moduleBit, bits int64) (out []Module, ok bool) {
	for _, m := range modules {
		if bits&(1<<m.bit) != 0 {
			out = append(out, m.Module)
			bits &^= 1 << m.bit
		}
	}
	return out, bits == 0
}
