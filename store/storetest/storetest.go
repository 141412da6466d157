// Package storetest makes databases for tests on either engine: a file in
// the test's temporary folder on SQLite, a schema of its own on PostgreSQL.
// RunBothEngines runs a package's tests on each in turn, so that one suite
// covers both. The load tests (cmd/apitokens-bench) make their PostgreSQL
// databases with MakeDatabase too.
package storetest

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	// The "pgx" driver, to make databases and schemas.
	_ "github.com/jackc/pgx/v5/stdlib"
)

// Engine is the engine the tests run on now: "sqlite" or "postgres".
var Engine = "sqlite"

// ServerURL is the PostgreSQL server the tests use:
// APITOKENS_TEST_POSTGRES, by default the local server as Debian's package
// sets it up with trust for 127.0.0.1.
func ServerURL() string {
	if v := os.Getenv("APITOKENS_TEST_POSTGRES"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// howToStart is said when no server answers: the PostgreSQL tests never
// skip.
const howToStart = "start a PostgreSQL server (Debian: apt-get install postgresql, then pg_ctlcluster 15 main start) " +
	"with trust authentication for 127.0.0.1, or set APITOKENS_TEST_POSTGRES to the URL of one"

var (
	database struct {
		once sync.Once
		url  string // the run's database
		drop func()
		err  error
	}
	schemas atomic.Int64
)

// RunBothEngines runs the tests on SQLite, then again on PostgreSQL, with
// skip (a pattern of test names, or "") left out of the second run: the
// tests of what SQLite alone does, and those that choose PostgreSQL
// themselves. The run's PostgreSQL database is dropped at the end.
func RunBothEngines(m *testing.M, skip string) int {
	code := m.Run()
	if code == 0 && !fuzzing() {
		fmt.Println("=== the same tests on PostgreSQL")
		Engine = "postgres"
		if skip != "" {
			if old := flag.Lookup("test.skip").Value.String(); old != "" {
				skip = old + "|" + skip
			}
			flag.Set("test.skip", skip)
		}
		if _, err := runDatabase(); err != nil {
			fmt.Fprintln(os.Stderr, "PostgreSQL:", err)
			code = 1
		} else {
			code = m.Run()
		}
	}
	dropDatabase()
	return code
}

// Run runs the tests once, on SQLite but for those that ask for
// PostgreSQL themselves (PostgresDSN), and drops the run's PostgreSQL
// database after.
func Run(m *testing.M) int {
	code := m.Run()
	dropDatabase()
	return code
}

// fuzzing reports whether this run fuzzes, which it does once, on SQLite.
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// DSN is a new empty database on the engine under test.
func DSN(t testing.TB) string {
	t.Helper()
	if Engine == "sqlite" {
		return filepath.Join(t.TempDir(), "test.db")
	}
	return PostgresDSN(t)
}

// PostgresDSN is a new empty PostgreSQL database, whatever the engine under
// test: a schema of the run's database, first on the search path (pg_trgm
// stays in public).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base, err := runDatabase()
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("t%d", schemas.Add(1))
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

// runDatabase is the URL of the database made, on first use, for this test
// binary's run, with pg_trgm.
func runDatabase() (string, error) {
	database.once.Do(func() {
		database.url, database.drop, database.err = MakeDatabase(context.Background(), ServerURL(),
			fmt.Sprintf("apitokens_test_%d", os.Getpid()))
		if database.err != nil {
			database.err = fmt.Errorf("%w: %s", database.err, howToStart)
		}
	})
	return database.url, database.err
}

func dropDatabase() {
	if database.drop != nil {
		database.drop()
	}
}

// MakeDatabase makes the database name, with pg_trgm, on the PostgreSQL
// server at serverURL (dropping one left there by a run that was killed),
// and returns its URL and how to drop it. The load tests make theirs so too.
func MakeDatabase(ctx context.Context, serverURL, name string) (dsn string, drop func(), err error) {
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("no server answers at %s (%w)", redacted(serverURL), err)
	}
	admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	drop = func() {
		admin.ExecContext(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		admin.Close()
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		drop()
		return "", nil, err
	}
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	if err == nil {
		_, err = db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm`)
		db.Close()
	}
	if err != nil {
		drop()
		return "", nil, err
	}
	return u.String(), drop, nil
}

func redacted(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the URL in APITOKENS_TEST_POSTGRES"
	}
	return u.Redacted()
}

// Link is a TCP connection to the PostgreSQL server that a test can cut,
// as a network fault or a server that went away would, and restore.
type Link struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

// Via returns dsn with its server reached through a new Link, closed when
// the test ends.
func Via(t testing.TB, dsn string) (string, *Link) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Link{ln: ln, target: u.Host, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); l.Cut() })
	go l.serve()
	u.Host = ln.Addr().String()
	return u.String(), l
}

func (l *Link) serve() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		go l.forward(c)
	}
}

func (l *Link) forward(c net.Conn) {
	l.mu.Lock()
	if l.cut {
		l.mu.Unlock()
		c.Close()
		return
	}
	l.mu.Unlock()
	s, err := net.Dial("tcp", l.target)
	if err != nil {
		c.Close()
		return
	}
	l.mu.Lock()
	if l.cut {
		l.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	l.conns[c], l.conns[s] = true, true
	l.mu.Unlock()
	go func() { io.Copy(s, c); s.Close(); c.Close() }()
	io.Copy(c, s)
	c.Close()
	s.Close()
}

// Cut closes every connection through the link and refuses new ones until
// Restore.
func (l *Link) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = true
	for c := range l.conns {
		c.Close()
		delete(l.conns, c)
	}
}

// Restore lets connections through again.
func (l *Link) Restore() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = false
}
