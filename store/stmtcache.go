package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// database/sql prepares the text given to DB.QueryContext or Tx.ExecContext
// afresh on every call and finalises it afterwards. With SQLite, that parse
// and plan costs more than running a small indexed look-up: a token by its
// secret, a session by its ID, a token by its ID. The queries of this package
// are a small, fixed set, so every connection keeps its statements prepared,
// keyed by their text, and only binds and steps them on each call. Callers
// write plain QueryContext and ExecContext; nothing else changes.

// maxCachedStmts bounds the statements one connection keeps. When it is
// full, the statement used least recently makes room: the list's filters
// make many texts, each used a while, and they must not crowd out for good
// the look-ups every request makes.
const maxCachedStmts = 128

// openDB opens dsn with modernc's SQLite driver, through connections that
// keep their statements prepared.
func openDB(dsn string) *sql.DB {
	return sql.OpenDB(&cachingConnector{dsn: dsn, driver: &sqlite.Driver{}})
}

type cachingConnector struct {
	dsn    string
	driver *sqlite.Driver
}

func (c *cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite driver connection lacks the context methods")
	}
	return &cachingConn{inner: inner, stmts: map[string]*cachedStmt{}}, nil
}

func (c *cachingConnector) Driver() driver.Driver { return c.driver }

// sqliteConn is what modernc's connection implements and the cache passes on.
type sqliteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is a connection with its statements kept prepared.
// database/sql uses a connection from one goroutine at a time, and closes
// rows under the connection's lock, so the cache needs no lock of its own.
type cachingConn struct {
	inner sqliteConn
	stmts map[string]*cachedStmt
	uses  uint64 // counts uses, to date each statement's last one
}

type cachedStmt struct {
	stmt driver.Stmt
	// busy is set while rows of the statement are open: a second use of
	// the same text meanwhile (a query inside a loop over rows, in one
	// transaction) is prepared apart rather than resetting the first.
	busy    bool
	lastUse uint64
}

type cachedStmtContext interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// take returns the statement for query, prepared, and marks it busy; ok is
// false when the query must run uncached.
func (c *cachingConn) take(ctx context.Context, query string) (cs *cachedStmt, ok bool) {
	c.uses++
	if cs, found := c.stmts[query]; found {
		if cs.busy {
			return nil, false
		}
		cs.busy, cs.lastUse = true, c.uses
		return cs, true
	}
	if len(c.stmts) >= maxCachedStmts && !c.evict() {
		return nil, false
	}
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		// Run it uncached, so the error comes from the query itself.
		return nil, false
	}
	if _, ok := st.(cachedStmtContext); !ok {
		st.Close()
		return nil, false
	}
	cs = &cachedStmt{stmt: st, busy: true, lastUse: c.uses}
	c.stmts[query] = cs
	return cs, true
}

// evict closes the statement used least recently, unless all are busy.
func (c *cachingConn) evict() bool {
	var oldest string
	var found *cachedStmt
	for q, cs := range c.stmts {
		if !cs.busy && (found == nil || cs.lastUse < found.lastUse) {
			oldest, found = q, cs
		}
	}
	if found == nil {
		return false
	}
	found.stmt.Close()
	delete(c.stmts, oldest)
	return true
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, ok := c.take(ctx, query)
	if !ok {
		return c.inner.ExecContext(ctx, query, args)
	}
	defer func() { cs.busy = false }()
	return cs.stmt.(cachedStmtContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, ok := c.take(ctx, query)
	if !ok {
		return c.inner.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(cachedStmtContext).QueryContext(ctx, args)
	if err != nil {
		cs.busy = false
		return nil, err
	}
	return &releasingRows{Rows: rows, stmt: cs}, nil
}

// releasingRows frees its statement for the next use when closed.
type releasingRows struct {
	driver.Rows
	stmt *cachedStmt
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if r.stmt != nil {
		r.stmt.busy = false
		r.stmt = nil
	}
	return err
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}

// Begin is the deprecated form of BeginTx, which database/sql prefers.
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error         { return c.inner.Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }
func (c *cachingConn) IsValid() bool                          { return c.inner.IsValid() }

func (c *cachingConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.stmt.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.inner.Close())...)
}
