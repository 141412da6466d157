package store

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// The suite runs twice, once on each engine: TestMain sets testEngine and
// runs every test again on PostgreSQL, in a database made for the run.

// testEngine is the engine the tests run on now: "sqlite" or "postgres".
var testEngine = "sqlite"

// sqliteOnly are the tests about SQLite itself (its files, pragmas, query
// plans, statement cache and migrations from earlier schemas), which the
// PostgreSQL run leaves out; each has a counterpart there where one makes
// sense.
var sqliteOnly = []string{
	"TestOpen", "TestOpenRefusesUnwritable", "TestStatementCache", "TestQueryPlans",
	"TestQueryPlansCatchAFullScan", "TestRQLSamePlanAsPage", "TestAuditTrailPlans",
	"TestListMigrationBackfills", "TestAccountNamesMigration", "TestOpenChecksKeys",
}

// postgresURL is the server the PostgreSQL run uses, from
// APITOKENS_TEST_POSTGRES.
func postgresURL() string {
	if v := os.Getenv("APITOKENS_TEST_POSTGRES"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// testDatabase is the URL of the database made for the PostgreSQL run.
var testDatabase string

// runBothEngines runs the tests on SQLite, then on PostgreSQL in a fresh
// database that it drops afterwards. A server that does not answer fails
// the run, with how to start one.
func runBothEngines(m *testing.M) int {
	if code := m.Run(); code != 0 {
		return code
	}
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		return 0 // a fuzzing run fuzzes once, on SQLite
	}
	drop, err := makeTestDatabase()
	if err != nil {
		fmt.Fprintf(os.Stderr, "PostgreSQL tests: %v\nStart a PostgreSQL server (Debian: apt-get install postgresql; pg_ctlcluster 15 main start) with trust for 127.0.0.1, or set APITOKENS_TEST_POSTGRES to a URL of one.\n", err)
		return 1
	}
	defer drop()
	fmt.Println("=== the same tests on PostgreSQL")
	testEngine = "postgres"
	skip := "^(" + strings.Join(sqliteOnly, "|") + ")$"
	if old := flag.Lookup("test.skip").Value.String(); old != "" {
		skip = old + "|" + skip
	}
	flag.Set("test.skip", skip)
	return m.Run()
}

// makeTestDatabase creates a database for this run, with pg_trgm, and
// returns how to drop it.
func makeTestDatabase() (drop func(), err error) {
	admin, err := sql.Open("pgx", postgresURL())
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("no server answers at %s: %w", DisplayName(postgresURL()), err)
	}
	name := fmt.Sprintf("apitokens_test_%d", os.Getpid())
	admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		return nil, err
	}
	u, _ := url.Parse(postgresURL())
	u.Path = "/" + name
	testDatabase = u.String()
	db, err := sql.Open("pgx", testDatabase)
	if err == nil {
		_, err = db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm`)
		db.Close()
	}
	drop = func() {
		admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		admin.Close()
	}
	if err != nil {
		drop()
		return nil, err
	}
	return drop, nil
}

var schemas atomic.Int64

// newTestDSN is a database of the test's own on the engine under test: a
// file in its temporary folder on SQLite, a schema of the run's database
// on PostgreSQL.
func newTestDSN(t testing.TB) string {
	t.Helper()
	if testEngine == "sqlite" {
		return filepath.Join(t.TempDir(), "test.db")
	}
	schema := fmt.Sprintf("t%d", schemas.Add(1))
	db, err := sql.Open("pgx", testDatabase)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(testDatabase)
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}
