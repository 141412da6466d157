package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Store is the domain kept in a database, SQLite or PostgreSQL. On SQLite,
// writes go through a single connection in immediate transactions, so they
// never fail on a lock upgrade, and reads use a pool of read-only
// connections that WAL lets run beside them. On PostgreSQL one pool serves
// both, and a write transaction is serializable: it runs as if alone, as on
// SQLite, and is run again when another one beside it made that
// impossible.
type Store struct {
	write   *sql.DB
	read    *sql.DB
	secrets *secretBox
	d       dialect
	// oneToken are the statements that read one token, for the engine.
	oneToken oneTokenQueries
	// What is kept in memory of accounts, at a version of each
	// (versions.go).
	secretsFound keptMap[keptToken]                // tokens found by a secret's digest
	sessions     keptMap[keptSession]              // sessions found by their digest
	modules      keptByAccount[[]moduleBit]        // all of an account's modules
	users        keptByAccount[[]User]             // an account's users
	totals       keptByAccount[accountTotals]      // the counters by stored status
	policyRuns   keptByAccount[int64]              // the latest run of the unused-token policy
	rows         keptByAccount[*keptMap[keptRow]]  // the list's rows
	tokenPages   keptByAccount[*keptMap[Token]]    // TokenByID's, with what their pages show
	walks        keptByAccount[*keptMap[[]string]] // the list's walks
	// versionReads shares a read of an account's version among the
	// requests asking at once, on PostgreSQL (version_reads.go).
	versionReads versionReads

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
		// commit may fail a transaction as it would commit, as a clash
		// with another would.
		commit func() error
	}
}

// Open opens the database dsn names, a SQLite file (created if needed) or
// a postgres:// URL, and brings its schema up to date. A database it cannot
// write to is refused here, not at the first write.
func Open(dsn string, keys Keys) (*Store, error) {
	box, err := newSecretBox(keys)
	if err != nil {
		return nil, err
	}
	if IsPostgres(dsn) {
		return openPostgresStore(dsn, box)
	}
	return openSQLite(dsn, box)
}

// newStore is a store that writes through write, for the engine d, with
// nothing kept yet.
func newStore(write *sql.DB, box *secretBox, d dialect) *Store {
	s := &Store{write: write, secrets: box, Now: time.Now, d: d, oneToken: newOneTokenQueries(d)}
	s.secretsFound.max = maxKeptSecrets
	s.sessions.max = maxKeptSessions
	for _, max := range []*int{&s.modules.max, &s.users.max, &s.totals.max, &s.policyRuns.max} {
		*max = maxKeptAccounts
	}
	for _, max := range []*int{&s.rows.max, &s.tokenPages.max, &s.walks.max} {
		*max = maxKeptRowAccounts
	}
	return s
}

// openPostgresStore opens the PostgreSQL database at the URL dsn.
func openPostgresStore(dsn string, box *secretBox) (*Store, error) {
	db, err := openPostgres(dsn)
	if err != nil {
		return nil, err
	}
	s := newStore(db, box, dialect{postgres: true})
	s.read = db
	if err := s.setUp(context.Background(), DisplayName(dsn)); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteBusy reports whether err is SQLite's "database is locked".
func sqliteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// setUp brings the schema up to date and checks that the database may be
// written and fits the keys; name is the database's, for messages.
func (s *Store) setUp(ctx context.Context, name string) error {
	if err := s.migrate(ctx); err != nil {
		if s.d.postgres && unavailable(err) {
			return fmt.Errorf("%s cannot be reached (%w); check that the server runs and the URL names it", name, err)
		}
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	if err := s.checkWritable(ctx); err != nil {
		return fmt.Errorf("the database %s cannot be written (%w); check that its file and folder may be written by this user", name, err)
	}
	if err := s.checkKeys(ctx); err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	return nil
}

// openSQLite opens (creating if needed) the SQLite database at path.
func openSQLite(path string, box *secretBox) (*Store, error) {
	// SQLite reads no name, or :memory:, as a database of its own for each
	// connection: writes and reads would go to different ones.
	if strings.TrimSpace(path) == "" || path == ":memory:" {
		return nil, errors.New("a database file is required: give the path of one")
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
	s := newStore(write, box, dialect{})
	// Processes that open a new file at once (a server and a command
	// started together) find it locked while the first makes it a WAL
	// database; each tries again for a while.
	err := s.setUp(context.Background(), path)
	for deadline := time.Now().Add(10 * time.Second); sqliteBusy(err) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		err = s.setUp(context.Background(), path)
	}
	if err != nil {
		write.Close()
		return nil, err
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
	if s.read == s.write {
		return s.write.Close()
	}
	return errors.Join(s.read.Close(), s.write.Close())
}

// IsPostgres reports whether dsn names a PostgreSQL database (a postgres://
// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Shared reports whether several instances of the server may use the
// database at once (PostgreSQL), so that what they must agree on is kept
// in it, not in one process's memory.
func (s *Store) Shared() bool { return s.d.postgres }

// Ping checks that the database answers, for a readiness check; an error
// wraps ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	err := s.read.PingContext(ctx)
	if err != nil && !errors.Is(err, ErrUnavailable) {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
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

// inTx runs fn in a write transaction, committing when it returns nil and
// rolling back otherwise. On SQLite the transaction is immediate; on
// PostgreSQL it is serializable, and run again (a few times at most) when
// it failed only because another one ran beside it: fn must then do the
// same again from the start.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	var opts *sql.TxOptions
	if s.d.postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	}
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, opts, fn)
		if !s.d.postgres || !retryable(err) || attempt == maxTxAttempts {
			if s.d.postgres {
				return unavailableError(err)
			}
			return err
		}
		// Those it clashed with go first: a random pause, longer after
		// each clash, keeps them from clashing again in step.
		select {
		case <-time.After(time.Duration(rand.Int64N(int64(attempt) * int64(time.Millisecond)))):
		case <-ctx.Done():
			return err
		}
	}
}

// maxTxAttempts bounds the runs of one PostgreSQL transaction: enough for
// some dozens of writers of one account's counters at once.
const maxTxAttempts = 50

// tryTx runs fn once in a transaction begun with opts.
func (s *Store) tryTx(ctx context.Context, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	// What the request remembers of an account may be what it now changes.
	defer memoOf(ctx).forget()
	tx, err := s.write.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if s.hooks.commit != nil {
		if err := s.hooks.commit(); err != nil {
			tx.Rollback()
			return err
		}
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
