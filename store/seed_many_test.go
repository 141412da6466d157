package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

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
	if _, err := f.s.write.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
		tb.Fatal(err)
	}
	defer f.s.write.ExecContext(ctx, `PRAGMA cache_size = -2000`)
	ids := make([]string, 0, n)
	for start := 0; start < n; start += 10_000 {
		tx, err := f.s.write.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		insert, err := tx.PrepareContext(ctx, `INSERT INTO tokens (id, account_id, name, description, status,
			secret_digest, secret_ciphertext, secret_key_id, expires_at, created_at, created_by, updated_at, updated_by, last_access_at)
			VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			tb.Fatal(err)
		}
		module, _ := tx.PrepareContext(ctx, `INSERT INTO token_modules (token_id, module_id) VALUES (?, ?)`)
		event, _ := tx.PrepareContext(ctx, `INSERT INTO audit_events (token_id, account_id, at, actor_id, action, ip)
			VALUES (?, ?, ?, ?, 'created', '192.0.2.1')`)
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
			if _, err := insert.ExecContext(ctx, id, f.account.ID, name, status,
				f.s.secrets.digest(secret), f.s.secrets.seal(id, secret), f.s.secrets.keyID,
				expires, created, by, created, by, lastAccess); err != nil {
				tb.Fatal(err)
			}
			for m := range 1 + r.IntN(2) {
				if _, err := module.ExecContext(ctx, id, f.modules[(i+m)%len(f.modules)].ID); err != nil {
					tb.Fatal(err)
				}
			}
			if _, err := event.ExecContext(ctx, id, f.account.ID, created, by); err != nil {
				tb.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	// Fold the seed's log into the database now, so that the first writes
	// measured after it do not pay for that.
	if _, err := f.s.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		tb.Fatal(err)
	}
	return ids
}
