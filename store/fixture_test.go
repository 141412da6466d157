package store

import (
	"context"
	cryptorand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestMain makes password hashing cheap for the tests, runs them on both
// engines, and runs the crash test's writer when this binary is started as
// that.
func TestMain(m *testing.M) {
	PasswordCost = bcrypt.MinCost
	if os.Getenv(crashChildEnv) != "" {
		// This process is the writer that TestCrashSafety kills.
		crashChild()
		os.Exit(0)
	}
	os.Exit(runBothEngines(m))
}

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// randomKeys are fresh keys for a store.
func randomKeys(t testing.TB) Keys {
	t.Helper()
	k := Keys{Digest: make([]byte, KeySize), Encryption: make([]byte, KeySize)}
	cryptorand.Read(k.Digest)
	cryptorand.Read(k.Encryption)
	return k
}

// fixture is a store in a temporary directory, on a fake clock, with an
// account, its administrator (who acts, from a fixed address) and its
// default modules.
type fixture struct {
	s       *Store
	keys    Keys
	path    string
	clock   *clock
	account Account
	admin   User
	modules []Module
	actor   Actor
}

// newFixture makes a fixture, on a database of the engine under test,
// whose store closes when the test ends.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureOn(t, newTestDSN(t))
}

// newFixtureOn makes a fixture on the empty database path.
func newFixtureOn(t testing.TB, path string) *fixture {
	t.Helper()
	keys := randomKeys(t)
	s, err := Open(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s.Now = c.Now
	ctx := context.Background()
	acc, err := s.CreateAccount(ctx, "Test account")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := s.CreateUser(ctx, NewUser{AccountID: acc.ID, Email: "admin@test.example", Name: "Ada Admin", Role: RoleAdmin, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	mods, err := s.Modules(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, keys: keys, path: path, clock: c, account: acc, admin: admin, modules: mods,
		actor: UserActor(admin.ID, "192.0.2.1")}
}

// createToken creates a token of the account with the modules, and returns
// it with its secret; an error fails the test.
func (f *fixture) createToken(t testing.TB, name string, modules ...Module) (Token, string) {
	t.Helper()
	n := NewToken{AccountID: f.account.ID, Name: name}
	for _, m := range modules {
		n.ModuleIDs = append(n.ModuleIDs, m.ID)
	}
	tok, secret, err := f.s.CreateToken(context.Background(), n, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	return tok, secret
}

// list is ListTokens; an error fails the test.
func (f *fixture) list(t testing.TB, accountID string, fl TokenFilter) TokenPage {
	t.Helper()
	page, err := f.s.ListTokens(context.Background(), accountID, fl)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// auditEvents is AuditEvents; an error fails the test.
func (f *fixture) auditEvents(t testing.TB, accountID, tokenID string) []AuditEvent {
	t.Helper()
	events, err := f.s.AuditEvents(context.Background(), accountID, tokenID)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// tokenByID is TokenByID; an error fails the test.
func (f *fixture) tokenByID(t testing.TB, accountID, id string) Token {
	t.Helper()
	tok, err := f.s.TokenByID(context.Background(), accountID, id)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// createAccount is CreateAccount; an error fails the test.
func (f *fixture) createAccount(t testing.TB, name string) Account {
	t.Helper()
	acc, err := f.s.CreateAccount(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// queryInt returns the integer that query reads from the database; an
// error fails the test.
func (f *fixture) queryInt(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.s.read.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
	return n
}

// tokenIDPattern checks the form of a token ID apart from the store's own
// check.
func tokenIDPattern(id string) bool {
	if len(id) != 13 || !strings.HasPrefix(id, "TKN-") || id[8] != '-' {
		return false
	}
	for i, c := range id[4:] {
		if i != 4 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// exec writes to the database past the store, to set up what its methods
// cannot; an error fails the test.
func (f *fixture) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := f.s.write.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

// ids are the IDs of tokens, in order.
func ids(tokens []Token) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = t.ID
	}
	return out
}

// tokenModulesOf reads the IDs of a token's modules.
func tokenModulesOf(s *Store, id string) ([]string, error) {
	rows, err := s.read.Query(`SELECT module_id FROM token_modules WHERE token_id = ? ORDER BY module_id`, id)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

// actions returns the audit actions of a token, newest first.
func (f *fixture) actions(t *testing.T, accountID, id string) []string {
	t.Helper()
	events, err := f.s.AuditEvents(context.Background(), accountID, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Action)
		if e.Action != AuditCreated && (e.Actor.ID != f.admin.ID || e.IP != f.actor.IP) {
			t.Errorf("%s event of %s by %s from %s, want %s from %s", e.Action, id, e.Actor.ID, e.IP, f.admin.ID, f.actor.IP)
		}
	}
	return out
}

// scanStringsQuery reads one string a row with query.
func scanStringsQuery(s *Store, query string, args ...any) ([]string, error) {
	rows, err := s.read.Query(query, args...)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

// seedWords make names that repeat a lot, as real ones do ("Billing
// export", "Billing export 2"), so that searches and name ties are real.
var seedWords = [2][]string{
	{"Storefront", "ERP", "Billing", "CI", "Legacy", "Partner", "Analytics", "Support", "Staging", "Nightly", "Mobile", "Warehouse", "Payroll"},
	{"sync", "export", "import", "pipeline", "bot", "portal", "feed", "tooling", "tests", "backup", "gateway"},
}

// seedMany gives the fixture's account n tokens fast: big transactions of
// prepared inserts, bypassing CreateToken's per-token transaction but
// writing what it writes (digest and ciphertext of a real secret, modules,
// creator, the audit event), so that every row is one CreateToken could
// have made. The mix is fixed by a seeded generator: about a third never
// used, a tenth disabled, one in twenty with an expiry (half of them
// past), one or two modules, three creators, and created_at ties in pairs.
// It returns the IDs, oldest first.
func seedMany(tb testing.TB, f *fixture, n int) []string {
	tb.Helper()
	ctx := context.Background()
	second, err := f.s.CreateUser(ctx, NewUser{AccountID: f.account.ID, Email: fmt.Sprintf("seed%d@test.example", time.Now().UnixNano()),
		Name: "Sam Second", Role: RoleAdmin, Password: "correct horse"})
	if err != nil {
		tb.Fatal(err)
	}
	creators := []string{f.admin.ID, second.ID, "TKN-0000-0001"} // the last: made through the API
	// IDs must not collide with the tokens already there, of any account.
	existing, err := scanStringsQuery(f.s, `SELECT id FROM tokens`)
	if err != nil {
		tb.Fatal(err)
	}
	seen := make(map[string]bool, len(existing)+n)
	for _, id := range existing {
		seen[id] = true
	}
	r := rand.New(rand.NewPCG(uint64(n), uint64(len(existing))))
	now := f.clock.Now().UnixMilli()
	day := int64(24 * time.Hour / time.Millisecond)
	// A cache that holds the indexes keeps random IDs from thrashing it.
	restore, err := f.s.growCache(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer restore()
	ids := make([]string, 0, n)
	for start := 0; start < n; start += 10_000 {
		tx, err := f.s.write.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		// Rows go in hundreds per statement (insertRows), as the seed's do.
		var tokens, modules, events []any
		for i := start; i < min(n, start+10_000); i++ {
			var id string
			for id == "" || seen[id] {
				d := fmt.Sprintf("%08d", 2+r.IntN(99_999_998))
				id = "TKN-" + d[:4] + "-" + d[4:]
			}
			seen[id] = true
			ids = append(ids, id)
			secret := newSecret(id)
			name := fmt.Sprintf("%s %s %d", seedWords[0][r.IntN(len(seedWords[0]))], seedWords[1][r.IntN(len(seedWords[1]))], i%5000)
			status := StatusActive
			if r.IntN(10) == 0 {
				status = StatusDisabled
			}
			created := now - int64(n-i)/2*20*60_000
			var lastAccess, expires any
			if r.IntN(3) > 0 {
				lastAccess = now - r.Int64N(200*day)
			}
			if r.IntN(20) == 0 {
				expires = now + r.Int64N(200*day) - 100*day
			}
			by := creators[i%len(creators)]
			tokens = append(tokens, id, f.account.ID, name, status,
				f.s.secrets.digest(secret), f.s.secrets.seal(id, secret), f.s.secrets.keyID,
				expires, created, by, created, by, lastAccess)
			for m := range 1 + r.IntN(2) {
				modules = append(modules, id, f.modules[(i+m)%len(f.modules)].ID)
			}
			events = append(events, id, f.account.ID, created, by)
		}
		for _, insert := range []struct {
			head, values string
			args         []any
		}{
			{`INSERT INTO tokens (id, account_id, name, description, status, secret_digest, secret_ciphertext,
				secret_key_id, expires_at, created_at, created_by, updated_at, updated_by, last_access_at) VALUES `,
				`(?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tokens},
			{`INSERT INTO token_modules (token_id, module_id) VALUES `, `(?, ?)`, modules},
			{`INSERT INTO audit_events (token_id, account_id, at, actor_id, action, ip) VALUES `,
				`(?, ?, ?, ?, 'created', '192.0.2.1')`, events},
		} {
			if err := f.s.insertRows(ctx, tx, insert.head, insert.values, insert.args); err != nil {
				tb.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	// Fold the seed's log into the database now, so that the first writes
	// measured after it do not pay for that.
	if !f.s.d.postgres {
		if _, err := f.s.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}
