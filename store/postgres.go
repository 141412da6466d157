package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// The store's statements are written once, in the SQL both engines share,
// with SQLite's ? placeholders. What PostgreSQL reads differently is said
// in two places: a dialect, asked where a statement is built (a
// case-insensitive comparison, a JSON list of IDs, the name search), and
// the connection below, which turns each statement's text into
// PostgreSQL's once, the first time it is seen.

// openPostgres opens the PostgreSQL database at the URL dsn: one pool for
// reads and writes, whose connections translate the statements.
func openPostgres(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message repeats the URL, password and all.
		return nil, errors.New("the PostgreSQL URL cannot be read: write it as postgres://user:password@host:5432/database")
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > 5*time.Second {
		// An unreachable server answers a request within seconds rather
		// than the minutes TCP gives up after.
		cfg.ConnectTimeout = 5 * time.Second
	}
	db := sql.OpenDB(&pgConnector{inner: stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// DisplayName is the database dsn names as messages may show it: a SQLite
// path as it is, a PostgreSQL URL without its password, which must stay out
// of terminals and logs.
func DisplayName(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	scheme := dsn[:strings.Index(dsn, "://")]
	u, err := url.Parse(dsn)
	// An @ that did not end the user part (a password with a ? or / in it,
	// not percent-encoded) leaves the password somewhere else in the URL.
	if err != nil || u.User == nil && strings.Contains(dsn, "@") {
		return scheme + "://…"
	}
	q := u.Query()
	for _, key := range []string{"password", "sslpassword"} {
		if q.Has(key) {
			q.Set(key, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

type pgConnector struct{ inner driver.Connector }

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, unavailableError(err)
	}
	inner, ok := conn.(pgDriverConn)
	if !ok {
		conn.Close()
		return nil, errors.New("pgx connection lacks the context methods")
	}
	return &pgConn{inner: inner}, nil
}

func (c *pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgDriverConn is what pgx's connection implements and pgConn passes on.
type pgDriverConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.NamedValueChecker
}

// pgConn is a pgx connection that reads the store's statements.
type pgConn struct{ inner pgDriverConn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	st, err := c.inner.Prepare(toPostgres(query))
	return st, unavailableError(err)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.inner.PrepareContext(ctx, toPostgres(query))
	return st, unavailableError(err)
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.inner.ExecContext(ctx, toPostgres(query), args)
	return r, unavailableError(err)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.inner.QueryContext(ctx, toPostgres(query), args)
	if err != nil {
		return nil, unavailableError(err)
	}
	return pgRows{r}, nil
}

// pgRows are a query's rows, whose reading names a connection lost
// halfway with ErrUnavailable too.
type pgRows struct{ driver.Rows }

func (r pgRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err == io.EOF {
		return err // the end of the rows, as database/sql expects it
	}
	return unavailableError(err)
}

// Begin is the deprecated form of BeginTx, which database/sql prefers.
func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.inner.BeginTx(ctx, opts)
	return tx, unavailableError(err)
}

func (c *pgConn) Ping(ctx context.Context) error         { return unavailableError(c.inner.Ping(ctx)) }
func (c *pgConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }

// CheckNamedValue passes each argument on, but a string PostgreSQL's text
// cannot hold: NUL or bytes that are not UTF-8, which it refuses as an
// error. The store keeps no such character (its text is checked, and
// control characters refused, before it is stored), so such an argument
// can only look up what is not there, an ID from an address or a name
// typed in a filter; with U+FFFD in their place it finds nothing, as it
// does on SQLite.
func (c *pgConn) CheckNamedValue(v *driver.NamedValue) error {
	if s, ok := v.Value.(string); ok && (strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)) {
		v.Value = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	}
	return c.inner.CheckNamedValue(v)
}

func (c *pgConn) Close() error { return c.inner.Close() }

// translated holds statement texts' PostgreSQL forms. The store's own
// texts are some hundreds, but an API client's filter makes texts of its
// own (a list of any length, conditions nested at will): past
// maxTranslated, a text is translated each time rather than remembered,
// which costs microseconds.
var (
	translated      sync.Map
	translatedCount atomic.Int64
)

const maxTranslated = 4096

// toPostgres is query as PostgreSQL reads it: each ? becomes $1, $2, … in
// order, and a unary plus goes. SQLite reads a unary plus as "use no index
// for this term", which steers its planner where it has no statistics;
// PostgreSQL plans from statistics, has no such hint, and refuses a unary
// plus on text. Quoted strings, quoted identifiers and comments are left
// as they are.
func toPostgres(query string) string {
	if v, ok := translated.Load(query); ok {
		return v.(string)
	}
	out := make([]byte, 0, len(query)+16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				end = len(query) - i - 2
			}
			out = append(out, query[i:i+end+2]...)
			i += end + 1
			continue
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			out = append(out, query[i:i+end]...)
			i += end - 1
			continue
		case c == '?':
			n++
			out = append(out, '$')
			out = strconv.AppendInt(out, int64(n), 10)
			continue
		case c == '+' && unaryAt(out):
			continue
		}
		out = append(out, c)
	}
	if translatedCount.Add(1) <= maxTranslated {
		translated.Store(query, string(out))
	}
	return string(out)
}

// unaryAt reports whether a plus written after sql would be unary: it
// follows no operand (a name, a number, a closing bracket, a placeholder,
// a quote) but an operator, a bracket, a comma or a keyword.
func unaryAt(sql []byte) bool {
	i := len(sql) - 1
	for i >= 0 && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n') {
		i--
	}
	if i < 0 {
		return true
	}
	end := i + 1
	for i >= 0 && (sql[i] == '_' || 'a' <= sql[i] && sql[i] <= 'z' || 'A' <= sql[i] && sql[i] <= 'Z' || '0' <= sql[i] && sql[i] <= '9') {
		i--
	}
	if word := string(sql[i+1 : end]); word != "" {
		return sqlKeywords[strings.ToUpper(word)]
	}
	switch sql[end-1] {
	case ')', '\'', '"', '$', '.':
		return false
	}
	return true
}

// sqlKeywords are the words after which an operand, not an operator,
// comes.
var sqlKeywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "WHERE": true, "ON": true, "BY": true, "SELECT": true,
	"WHEN": true, "THEN": true, "ELSE": true, "IN": true, "BETWEEN": true, "IS": true, "CASE": true,
	"DISTINCT": true, "SET": true, "RETURN": true, "LIKE": true, "AS": true,
}

// unavailableError is err wrapped in ErrUnavailable when it means the
// server could not be reached (database/sql still sees driver.ErrBadConn
// in it, and tries another connection), and err itself otherwise.
func unavailableError(err error) error {
	if err == nil || !unavailable(err) || errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// pgErrorCode is the SQLSTATE of err, "" when it is not PostgreSQL's.
func pgErrorCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// retryable reports whether a PostgreSQL transaction failed only because
// another ran beside it (a serialization failure or a deadlock), so that
// running it again can succeed.
func retryable(err error) bool {
	code := pgErrorCode(err)
	return code == "40001" || code == "40P01"
}

// unavailable reports whether err means the database could not be
// reached, rather than that a statement failed.
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	var (
		ce *pgconn.ConnectError
		ne net.Error
	)
	// A connection lost mid-statement ends in EOF, a network error or
	// pgx's "conn closed"; one that never was, in a connect error.
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: the server is
		// shutting down or starting.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}
