package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// databaseBefore makes a database at path with the migrations before the
// one named first (such as "migrations/005"), as an older version left it,
// and returns it with a function that runs a statement on it, failing the
// test on an error.
func databaseBefore(t *testing.T, path, first string) (*sql.DB, func(query string, args ...any)) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := db.Exec(query, args...); err != nil {
			t.Fatalf("%v\n%s", err, query)
		}
	}
	exec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	for _, name := range names {
		if name >= first {
			break
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, 0)`, name)
	}
	return db, exec
}

// TestListMigrationBackfills opens a database made before the list's
// migration, with tokens in it, and checks that the counters, module bits
// and search index cover the tokens that were already there.
func TestListMigrationBackfills(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, exec := databaseBefore(t, path, "migrations/005")
	exec(`INSERT INTO accounts (id, name, created_at) VALUES ('ACC-0000-0001', 'Old', 1)`)
	exec(`INSERT INTO modules (id, account_id, name) VALUES ('MOD-0000-0001', 'ACC-0000-0001', 'Billing'),
		('MOD-0000-0002', 'ACC-0000-0001', 'Access management'), ('MOD-0000-0003', 'ACC-0000-0001', 'Access Management')`)
	// Secrets sealed under the keys the database is then opened with, which
	// checks its keys on them.
	keys := randomKeys(t)
	box, err := newSecretBox(keys)
	if err != nil {
		t.Fatal(err)
	}
	live := func(id, name, status string, created int) {
		t.Helper()
		secret := newSecret(id)
		exec(`INSERT INTO tokens (id, account_id, name, status, secret_digest, secret_ciphertext, secret_key_id,
			created_at, created_by, updated_at, updated_by) VALUES (?, 'ACC-0000-0001', ?, ?, ?, ?, ?, ?, 'USR-0000-0001', 1, 'USR-0000-0001')`,
			id, name, status, box.digest(secret), box.seal(id, secret), box.keyID, created)
	}
	live("TKN-0000-0011", "Legacy sync", "active", 3)
	live("TKN-0000-0012", "Other thing", "disabled", 2)
	exec(`INSERT INTO tokens (id, account_id, name, status, created_at, created_by, updated_at, updated_by, deleted_at, deleted_by)
		VALUES ('TKN-0000-0013', 'ACC-0000-0001', 'Gone sync', 'deleted', 1, 'USR-0000-0001', 1, 'USR-0000-0001', 1, 'USR-0000-0001')`)
	exec(`INSERT INTO token_modules (token_id, module_id) VALUES ('TKN-0000-0011', 'MOD-0000-0001'),
		('TKN-0000-0012', 'MOD-0000-0002'), ('TKN-0000-0013', 'MOD-0000-0001')`)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	list := func(f TokenFilter) ([]string, int) {
		t.Helper()
		page, err := s.ListTokens(ctx, "ACC-0000-0001", f)
		if err != nil {
			t.Fatal(err)
		}
		return ids(page.Tokens), page.Total
	}
	cases := []struct {
		name  string
		f     TokenFilter
		want  []string
		total int
	}{
		{"All", TokenFilter{}, []string{"TKN-0000-0011", "TKN-0000-0012"}, 2},
		{"Disabled", TokenFilter{Status: StateDisabled}, []string{"TKN-0000-0012"}, 1},
		{"Search", TokenFilter{Query: "sync"}, []string{"TKN-0000-0011"}, 1},
		{"Module", TokenFilter{ModuleID: "MOD-0000-0001"}, []string{"TKN-0000-0011"}, 1},
		{"ModuleAndStatus", TokenFilter{ModuleID: "MOD-0000-0002", Status: StateDisabled}, []string{"TKN-0000-0012"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, total := list(tc.f); !slices.Equal(got, tc.want) || total != tc.total {
				t.Fatalf("%v of %d, want %v of %d", got, total, tc.want, tc.total)
			}
		})
	}
	t.Run("ModulesGetKeys", func(t *testing.T) {
		mods, err := s.Modules(ctx, "ACC-0000-0001")
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, m := range mods {
			keys = append(keys, m.Key)
		}
		// A name that only looks like a default module's gains no scope.
		want := []string{"mod-0000-0003", ModuleAccessManagement, "billing"} // by name: "Access Management" sorts first
		if !slices.Equal(keys, want) {
			t.Fatalf("module keys %q, want %q", keys, want)
		}
	})
	t.Run("NewTokensCountOnTop", func(t *testing.T) {
		if _, _, err := s.CreateToken(ctx, NewToken{AccountID: "ACC-0000-0001", Name: "New sync",
			ModuleIDs: []string{"MOD-0000-0001"}}, UserActor("USR-0000-0001", "")); err != nil {
			t.Fatal(err)
		}
		if _, total := list(TokenFilter{}); total != 3 {
			t.Fatalf("total %d after a new token, want 3", total)
		}
		if _, total := list(TokenFilter{Query: "sync", ModuleID: "MOD-0000-0001"}); total != 2 {
			t.Fatalf("%d tokens with sync in Billing, want 2", total)
		}
	})
}

// TestAccountNamesMigration opens a database made before account names were
// unique regardless of case, with three accounts of one name in different
// cases: the oldest keeps it, the others get their ID after it, so nothing
// is lost and the operator can tell them apart; from then on the names are
// unique regardless of case.
func TestAccountNamesMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, exec := databaseBefore(t, path, "migrations/009")
	account := `INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)`
	exec(account, "ACC-0000-0003", "BETA CORP", 1)
	exec(account, "ACC-0000-0001", "beta corp", 2)
	exec(account, "ACC-0000-0002", "Beta Corp", 1)
	exec(account, "ACC-0000-0004", "Gamma", 1)
	exec(`INSERT INTO users (id, account_id, email, name, role, password_hash, created_at)
		VALUES ('USR-0000-0001', 'ACC-0000-0001', 'b@beta.test', 'B', 'admin', 'x', 1)`)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path, randomKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for name, id := range map[string]string{
		"Beta Corp": "ACC-0000-0002", "BETA CORP (ACC-0000-0003)": "ACC-0000-0003",
		"beta corp (ACC-0000-0001)": "ACC-0000-0001", "Gamma": "ACC-0000-0004",
	} {
		if acc, err := s.AccountByName(ctx, name); err != nil || acc.ID != id {
			t.Errorf("AccountByName(%q) = %s, %v; want %s", name, acc.ID, err, id)
		}
	}
	if u, err := s.UserByEmail(ctx, "b@beta.test"); err != nil || u.AccountID != "ACC-0000-0001" {
		t.Errorf("the renamed account's user: %+v, %v", u, err)
	}
	if _, err := s.CreateAccount(ctx, "gamma"); !errors.Is(err, ErrConflict) {
		t.Errorf("CreateAccount(gamma) = %v, want ErrConflict", err)
	}
}

// TestMigrationsOnce opens one new database from several stores at once,
// as instances started together do: each migration is applied once, and
// every store opens.
func TestMigrationsOnce(t *testing.T) {
	dsn := newTestDSN(t)
	keys := randomKeys(t)
	stores := make([]*Store, 4)
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(dsn, keys) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	applied, err := scanStringsQuery(stores[0], `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	dir := "migrations"
	if stores[0].d.postgres {
		dir = "migrations/postgres"
	}
	want, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	if !slices.Equal(applied, want) {
		t.Fatalf("schema_migrations holds %v, want each of %v once", applied, want)
	}
}

// TestSchemaTooNew opens a database that a newer release has migrated
// further: it is refused, saying so, and left as it was.
func TestSchemaTooNew(t *testing.T) {
	f := newFixture(t)
	f.exec(t, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, 0)`, "migrations/999_from_the_future.sql")
	tok, _ := f.createToken(t, "Kept")
	_, err := Open(f.path, f.keys)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "999_from_the_future.sql") {
		t.Fatalf("Open = %v, want ErrSchemaTooNew naming the migration", err)
	}
	if got := f.tokenByID(t, f.account.ID, tok.ID); got.Name != "Kept" {
		t.Fatalf("the token is %+v after the refusal", got)
	}
}
