package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite implementation of the domain. Writes go through a single
// connection in immediate transactions, so they never fail on a lock upgrade;
// reads use a pool of read-only connections that WAL lets run beside them.
type Store struct {
	write   *sql.DB
	read    *sql.DB
	secrets *secretBox

	// Now is the store's clock; tests replace it.
	Now func() time.Time

	// hooks let tests see every query of the list and every statement
	// of a change of status and of the audit trail (to check its plan),
	// choose the list's plan (to check both plans give the same pages) and
	// time each batch of a bulk action.
	hooks struct {
		query func(query string, args []any)
		plan  func(*plan)
		batch func(tokens int, held time.Duration) // a bulk transaction, from BEGIN to COMMIT
	}
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date. A database it cannot write to is refused here, not at the
// first write.
func Open(path string, keys Keys) (*Store, error) {
	// SQLite reads no name, or :memory:, as a database of its own for each
	// connection: writes and reads would go to different ones.
	if strings.TrimSpace(path) == "" || path == ":memory:" {
		return nil, errors.New("a database file is required: give the path of one")
	}
	box, err := newSecretBox(keys)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	// The database holds digests and ciphertexts of secrets: only its owner
	// may read it. SQLite gives the WAL the same mode.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	pragmas := []string{
		"busy_timeout(5000)",
		"journal_mode(WAL)",
		"synchronous(FULL)",
		"foreign_keys(1)",
		// Statement journals (a statement whose triggers write) and sorts
		// stay in memory rather than in temporary files.
		"temp_store(2)",
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		for _, p := range append(pragmas, extra...) {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		// SQLite reads the name as a URI: keep %, ? and # in it literal.
		name := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
		return "file:" + name + "?" + q.Encode()
	}
	write := openDB(dsn())
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	s := &Store{write: write, secrets: box, Now: time.Now}
	if err := s.migrate(context.Background()); err != nil {
		write.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if err := s.checkWritable(context.Background()); err != nil {
		write.Close()
		return nil, fmt.Errorf("the database %s cannot be written (%w); check that its file and folder may be written by this user", path, err)
	}
	if err := s.checkKeys(context.Background()); err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Reads could map the file instead of reading pages into each
	// connection's cache, which makes a random look-up about three times
	// cheaper; but every mapped page counts in the process's resident
	// memory, and with 100,000 tokens that alone passed the 64 MiB budget.
	// Reads go through read(2), whose pages the kernel caches for everyone.
	read := openDB(dsn("query_only(1)"))
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	s.read = read
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// IsPostgres reports whether dsn names a PostgreSQL database (a postgres://
// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Ping checks that the database answers, for a readiness check; an error
// wraps ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// now returns the store's clock in milliseconds, the unit of every stored time.
func (s *Store) now() int64 { return s.Now().UnixMilli() }

// checkWritable writes a row and takes it back: a database that is up to
// date needs no write to open, so nothing else would find out before the
// first sign-in.
func (s *Store) checkWritable(ctx context.Context) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ('write check', 0)`)
	return err
}

// migrate applies, in order and each in its own transaction, the embedded
// migrations not yet recorded in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		if err := s.migrateOne(ctx, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// migrateOne applies the embedded migration name, in its own transaction,
// unless schema_migrations records it already.
func (s *Store) migrateOne(ctx context.Context, name string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil || n > 0 {
			return err
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, s.now())
		return err
	})
}

// inTx runs fn in an immediate write transaction, committing when it returns
// nil and rolling back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// millis converts a stored time; NULL and 0 become the zero time.
func millis(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// nullMillis is the stored form of t: NULL for the zero time.
func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// scanStrings reads one string a row, and closes the rows.
func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanInt reads one integer, 0 when there is no row, and closes the rows.
func scanInt(rows *sql.Rows) (int64, error) {
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// jsonIDs encodes IDs as a JSON array, for json_each(?): a list of any
// length is then one statement text, which stays prepared.
func jsonIDs(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, err := json.Marshal(ids)
	if err != nil {
		panic(err) // a slice of strings always marshals
	}
	return string(b)
}
