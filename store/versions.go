package store

import (
	"cmp"
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

// accountVersion reads the account's version: one row by its key, unless
// the request read it already (WithVersionMemo).
func (s *Store) accountVersion(ctx context.Context, accountID string) (int64, error) {
	memo := memoOf(ctx)
	if v, ok := memo.get(accountID); ok {
		return v, nil
	}
	var v int64
	err := s.read.QueryRowContext(ctx, `SELECT version FROM account_versions WHERE account_id = ?`, accountID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err == nil {
		memo.set(accountID, v)
	}
	return v, err
}

// versionMemo is the version of an account that a request read, so that
// its later reads use what is kept at that version without reading it
// again: the request sees the account as it was when the version was read.
// A write made through the store in the request forgets it, so that the
// request then reads its own write.
type versionMemo struct {
	mu        sync.Mutex
	accountID string
	version   int64
}

type versionMemoKey struct{}

// WithVersionMemo returns a context in which the store reads an account's
// version once: a request's, from its start to its answer.
func WithVersionMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, versionMemoKey{}, &versionMemo{})
}

// memoOf is the context's memo; nil, which remembers nothing, without one.
func memoOf(ctx context.Context) *versionMemo {
	m, _ := ctx.Value(versionMemoKey{}).(*versionMemo)
	return m
}

func (m *versionMemo) get(accountID string) (int64, bool) {
	if m == nil {
		return 0, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version, m.accountID == accountID && accountID != ""
}

func (m *versionMemo) set(accountID string, v int64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.accountID, m.version = accountID, v
	m.mu.Unlock()
}

// forget drops the version: the request has written.
func (m *versionMemo) forget() { m.set("", 0) }

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

// keptByAccount keeps a value per account, each at the version of the
// account it was read at, for at most max accounts (maxKeptAccounts when
// 0): when full it starts again empty.
type keptByAccount[T any] struct {
	mu       sync.RWMutex
	accounts map[string]keptAt[T]
	max      int
}

// keptAt is a value read at a version of its account.
type keptAt[T any] struct {
	version int64
	value   T
}

// maxKeptAccounts bounds how many accounts each keptByAccount holds.
const maxKeptAccounts = 10_000

// get returns what is kept of the account when it was read at version v.
func (k *keptByAccount[T]) get(accountID string, v int64) (T, bool) {
	k.mu.RLock()
	kept, ok := k.accounts[accountID]
	k.mu.RUnlock()
	if !ok || kept.version != v {
		var zero T
		return zero, false
	}
	return kept.value, true
}

// put keeps value, read at version v, unless something read at a later
// version is kept already.
func (k *keptByAccount[T]) put(accountID string, v int64, value T) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.accounts == nil || len(k.accounts) >= cmp.Or(k.max, maxKeptAccounts) {
		k.accounts = make(map[string]keptAt[T])
	}
	if kept, ok := k.accounts[accountID]; !ok || kept.version <= v {
		k.accounts[accountID] = keptAt[T]{v, value}
	}
}

// forget drops what is kept, so that the next use reads.
func (k *keptByAccount[T]) forget() {
	k.mu.Lock()
	k.accounts = nil
	k.mu.Unlock()
}

// moduleBit is a module and its bit in tokens.module_bits.
type moduleBit struct {
	Module
	enabled bool
	bit     uint
}

// accountModules returns all of the account's modules, enabled or not, by
// name, each with its bit: those kept at version v, or else read now with
// the version they are at (and kept at it). A v of -1 always reads.
func (s *Store) accountModules(ctx context.Context, accountID string, v int64) ([]moduleBit, error) {
	if modules, ok := s.modules.get(accountID, v); ok {
		return modules, nil
	}
	// The version and the modules in one statement, so that they agree.
	rows, err := s.read.QueryContext(ctx, `SELECT v.version, m.id, m.key, m.name, m.enabled, m.bit
		FROM account_versions v LEFT JOIN modules m ON m.account_id = v.account_id
		WHERE v.account_id = ? ORDER BY m.name, m.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var modules []moduleBit
	for rows.Next() {
		var id, key, name sql.NullString
		var enabled sql.NullBool
		var bit sql.NullInt64
		if err := rows.Scan(&v, &id, &key, &name, &enabled, &bit); err != nil {
			return nil, err
		}
		if id.Valid { // none, for an account without modules
			modules = append(modules, moduleBit{Module{id.String, key.String, name.String}, enabled.Bool, uint(bit.Int64)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.modules.put(accountID, v, modules)
	return modules, nil
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

// usersOf returns the account's users, by name: those kept at the
// account's version, or else read now with the version (and kept at it).
func (s *Store) usersOf(ctx context.Context, accountID string) ([]User, error) {
	v, err := s.accountVersion(ctx, accountID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if users, ok := s.users.get(accountID, v); ok {
		return slices.Clone(users), nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+`, av.version
		FROM users u JOIN accounts a ON a.id = u.account_id JOIN account_versions av ON av.account_id = u.account_id
		WHERE u.account_id = ? ORDER BY u.name, u.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		u, err := scanUser(rows, &v)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(users) > 0 { // else the version was not read with them
		s.users.put(accountID, v, users)
	}
	return slices.Clone(users), nil
}

// Token rows kept for the list: at most maxKeptRows of an account, for at
// most maxKeptRowAccounts accounts, a few MB at most.
const (
	maxKeptRows        = 250
	maxKeptRowAccounts = 64
)

// keptRows are tokens of an account as read at one version, by ID, with
// the bits of their modules.
type keptRows struct {
	mu   sync.Mutex
	byID map[string]keptRow
}

type keptRow struct {
	t    Token
	bits int64
}

// row returns the token kept with the ID.
func (k *keptRows) row(id string) (keptRow, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.byID[id]
	return r, ok
}

// add keeps rows, unless there are too many already.
func (k *keptRows) add(rows map[string]keptRow) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.byID)+len(rows) > maxKeptRows {
		return
	}
	for id, r := range rows {
		k.byID[id] = r
	}
}

// maxKeptWalks bounds the walks kept of an account at a version.
const maxKeptWalks = 64

// keptWalks are the IDs that the list's walks gave, at a version of an
// account, by statement and arguments.
type keptWalks struct {
	mu  sync.Mutex
	ids map[string][]string
}

func (k *keptWalks) get(key string) ([]string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ids, ok := k.ids[key]
	return ids, ok
}

// add keeps ids; when too many are kept it starts again with these.
func (k *keptWalks) add(key string, ids []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.ids) >= maxKeptWalks {
		clear(k.ids)
	}
	k.ids[key] = ids
}
