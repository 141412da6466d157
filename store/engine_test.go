package store

import (
	"strings"
	"testing"

	"apitokens/store/storetest"
)

// The suite runs twice, once on each engine (storetest.RunBothEngines).

// sqliteOnly are the tests about SQLite itself (its files, pragmas, query
// plans, statement cache and migrations from earlier schemas), which the
// PostgreSQL run leaves out.
var sqliteOnly = []string{
	"TestOpen", "TestOpenRefusesUnwritable", "TestStatementCache", "TestQueryPlans",
	"TestQueryPlansCatchAFullScan", "TestRQLSamePlanAsPage", "TestAuditTrailPlans",
	"TestListMigrationBackfills", "TestAccountNamesMigration", "TestOpenChecksKeys",
}

// runBothEngines runs the tests on SQLite, then on PostgreSQL.
func runBothEngines(m *testing.M) int {
	// Tests named for PostgreSQL choose it themselves, in the first run.
	return storetest.RunBothEngines(m, "^("+strings.Join(sqliteOnly, "|")+")$|^TestPostgres")
}

// newTestDSN is a database of the test's own on the engine under test.
func newTestDSN(t testing.TB) string { return storetest.DSN(t) }
