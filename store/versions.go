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

// accountVersion reads the account's version: one row by its key, unless
// the request read it already (WithVersionMemo). On PostgreSQL one read
// answers all the requests asking at the same time (versionReads).
func (s *Store) accountVersion(ctx context.Context, accountID string) (int64, error) {
	memo := memoOf(ctx)
	if v, ok := memo.get(accountID); ok {
		return v, nil
	}
	read := func(ctx context.Context) (int64, error) {
		var v int64
		err := s.read.QueryRowContext(ctx, `SELECT version FROM account_versions WHERE account_id = ?`, accountID).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrNotFound
		}
		return v, err
	}
	var v int64
	var err error
	if s.d.postgres {
		v, err = s.versionReads.read(ctx, accountID, read)
	} else {
		// SQLite's read costs a few microseconds, less than waiting for
		// another request's: shared, the API answered 5% fewer calls a
		// second for the same CPU.
		v, err = read(ctx)
	}
	if err == nil {
		memo.set(accountID, v)
	}
	return v, err
}

// stillAt reports whether the account's version is still v: whether what
// was kept at v may be used. An account gone has no version, and nothing
// kept of it may be used.
func (s *Store) stillAt(ctx context.Context, accountID string, v int64) (bool, error) {
	now, err := s.accountVersion(ctx, accountID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && now == v, err
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

// keptMap holds what is kept, by key, for at most max keys: when full it
// starts again empty, which costs each key one read again.
type keptMap[V any] struct {
	mu  sync.RWMutex
	m   map[string]V
	max int
}

func newKeptMap[V any](max int) *keptMap[V] { return &keptMap[V]{max: max} }

func (k *keptMap[V]) get(key string) (V, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	v, ok := k.m[key]
	return v, ok
}

// getIn is get on a map that may be nil: nothing is kept in it.
func (k *keptMap[V]) getIn(key string) (V, bool) {
	if k == nil {
		var zero V
		return zero, false
	}
	return k.get(key)
}

func (k *keptMap[V]) put(key string, v V) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) >= k.max {
		k.m = make(map[string]V)
	}
	k.m[key] = v
}

// keptAt is something read at a version of its account.
type keptAt[T any] struct {
	version int64
	value   T
}

// keptByAccount keeps a value per account, with the version of the
// account it was read at.
type keptByAccount[T any] struct{ keptMap[keptAt[T]] }

// at returns what is kept of the account, when it was read at version v.
func (k *keptByAccount[T]) at(accountID string, v int64) (T, bool) {
	kept, ok := k.get(accountID)
	if !ok || kept.version != v {
		var zero T
		return zero, false
	}
	return kept.value, true
}

// keep keeps value, read at version v, for the account.
func (k *keptByAccount[T]) keep(accountID string, v int64, value T) {
	k.put(accountID, keptAt[T]{v, value})
}

// keptRead returns what k keeps of the account at the account's version,
// or else what read gives, and keeps that at the version: read sees the
// account as it was at that version or later, never earlier, so what is
// kept is never older than its version says. An account without a version
// does not exist, and has nothing: the zero value.
func keptRead[T any](ctx context.Context, s *Store, k *keptByAccount[T], accountID string, read func() (T, error)) (T, error) {
	var zero T
	v, err := s.accountVersion(ctx, accountID)
	if errors.Is(err, ErrNotFound) {
		return zero, nil
	}
	if err != nil {
		return zero, err
	}
	if value, ok := k.at(accountID, v); ok {
		return value, nil
	}
	value, err := read()
	if err == nil {
		k.keep(accountID, v, value)
	}
	return value, err
}

// keptIn is the map k keeps of the account at version v, made empty when
// there is none.
func keptIn[V any](k *keptByAccount[*keptMap[V]], accountID string, v int64, max int) *keptMap[V] {
	m, ok := k.at(accountID, v)
	if !ok {
		m = newKeptMap[V](max)
		k.keep(accountID, v, m)
	}
	return m
}

// What is kept, at most: about 1 KB a token or row, a few MB in all.
const (
	maxKeptSecrets     = 10_000 // tokens found by a secret
	maxKeptSessions    = 10_000 // sessions found by their ID
	maxKeptAccounts    = 10_000 // accounts whose modules, users, counters are kept
	maxKeptRowAccounts = 64     // accounts whose list rows, pages and walks are kept
	maxKeptRows        = 250    // rows, or pages, of one account
	maxKeptWalks       = 64     // walks of one account
)

// keptToken is a token as read at its account's version.
type keptToken struct {
	t       Token
	version int64
}

// clone is the token with slices of its own, so that a caller that changes
// them changes nothing kept.
func (t Token) clone() Token {
	t.Modules = slices.Clone(t.Modules)
	t.AllowedAddresses = slices.Clone(t.AllowedAddresses)
	return t
}

// moduleBit is a module and its bit in tokens.module_bits.
type moduleBit struct {
	Module
	enabled bool
	bit     uint
}

// accountModules returns all of the account's modules, enabled or not, by
// name, each with its bit, kept at the account's version.
func (s *Store) accountModules(ctx context.Context, accountID string) ([]moduleBit, error) {
	return keptRead(ctx, s, &s.modules, accountID, func() ([]moduleBit, error) { return s.readModules(ctx, accountID) })
}

// readModules reads all of the account's modules.
func (s *Store) readModules(ctx context.Context, accountID string) ([]moduleBit, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, key, name, enabled, bit FROM modules
		WHERE account_id = ? ORDER BY name, id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var modules []moduleBit
	for rows.Next() {
		var m moduleBit
		if err := rows.Scan(&m.ID, &m.Key, &m.Name, &m.enabled, &m.bit); err != nil {
			return nil, err
		}
		modules = append(modules, m)
	}
	return modules, rows.Err()
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

// usersOf returns the account's users, by name, kept at the account's
// version.
func (s *Store) usersOf(ctx context.Context, accountID string) ([]User, error) {
	users, err := keptRead(ctx, s, &s.users, accountID, func() ([]User, error) {
		rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+`
			FROM users u JOIN accounts a ON a.id = u.account_id
			WHERE u.account_id = ? ORDER BY u.name, u.id`, accountID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var users []User
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return nil, err
			}
			users = append(users, u)
		}
		return users, rows.Err()
	})
	return slices.Clone(users), err
}

// keptRow is a token of the list as read, with the bits of its modules.
type keptRow struct {
	t    Token
	bits int64
}
