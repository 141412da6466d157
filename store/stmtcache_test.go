package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
)

// cachedCount is how many statements the write connection keeps prepared.
func cachedCount(t *testing.T, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.Raw(func(dc any) error {
		n = len(dc.(*cachingConn).stmts)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	t.Run("ReusedByText", func(t *testing.T) {
		f := newFixture(t)
		before := cachedCount(t, f.s.write)
		for i := range 5 {
			var n int
			if err := f.s.write.QueryRowContext(ctx, `SELECT COUNT(*) + ? FROM modules`, i).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != len(f.modules)+i {
				t.Fatalf("run %d: %d, want %d", i, n, len(f.modules)+i)
			}
		}
		if got := cachedCount(t, f.s.write); got != before+1 {
			t.Fatalf("%d statements cached after 5 runs of one query, want %d", got, before+1)
		}
	})
	t.Run("SameTextWhileRowsOpen", func(t *testing.T) {
		f := newFixture(t)
		const q = `SELECT id, name FROM modules WHERE account_id = ? ORDER BY name`
		err := f.s.inTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, q, f.account.ID)
			if err != nil {
				return err
			}
			defer rows.Close()
			var names []string
			for rows.Next() {
				var id, name string
				if err := rows.Scan(&id, &name); err != nil {
					return err
				}
				// The same text again, on the same connection, while
				// the outer rows are open: it must not reset them.
				var first string
				if err := tx.QueryRowContext(ctx, q, f.account.ID).Scan(new(string), &first); err != nil {
					return err
				}
				if first != f.modules[0].Name {
					return fmt.Errorf("inner query read %q, want %q", first, f.modules[0].Name)
				}
				names = append(names, name)
			}
			if len(names) != len(f.modules) {
				return fmt.Errorf("outer query read %v, want %d modules", names, len(f.modules))
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrorLeavesConnectionUsable", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.s.write.ExecContext(ctx, `INSERT INTO nowhere VALUES (1)`); err == nil {
			t.Fatal("insert into a missing table succeeded")
		}
		if _, err := f.s.write.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at) VALUES (?, ?, 0)`,
			f.account.ID, "Duplicate ID"); err == nil {
			t.Fatal("duplicate primary key accepted")
		}
		if _, err := f.s.CreateAccount(ctx, "After errors"); err != nil {
			t.Fatalf("connection unusable after errors: %v", err)
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		f := newFixture(t)
		for i := range maxCachedStmts + 20 {
			var n int
			if err := f.s.write.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d`, i)).Scan(&n); err != nil || n != i {
				t.Fatalf("SELECT %d = %d, %v", i, n, err)
			}
		}
		if got := cachedCount(t, f.s.write); got != maxCachedStmts {
			t.Fatalf("%d statements cached, want the bound %d", got, maxCachedStmts)
		}
	})
	t.Run("LeastRecentlyUsedMakesRoom", func(t *testing.T) {
		f := newFixture(t)
		const hot = `SELECT COUNT(*) FROM accounts WHERE id = ?`
		run := func(q string, args ...any) {
			t.Helper()
			if err := f.s.write.QueryRowContext(ctx, q, args...).Scan(new(int)); err != nil {
				t.Fatal(err)
			}
		}
		// A hot statement used between many others stays; the others
		// take turns in the rest of the cache.
		for i := range 3 * maxCachedStmts {
			run(hot, f.account.ID)
			run(fmt.Sprintf(`SELECT %d`, i))
		}
		conn, err := f.s.write.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		err = conn.Raw(func(dc any) error {
			cc := dc.(*cachingConn)
			if _, ok := cc.stmts[hot]; !ok || len(cc.stmts) != maxCachedStmts {
				t.Errorf("hot statement cached: %v; %d cached, want %d", ok, len(cc.stmts), maxCachedStmts)
			}
			if _, ok := cc.stmts[fmt.Sprintf(`SELECT %d`, 3*maxCachedStmts-1)]; !ok {
				t.Error("the newest statement is not cached")
			}
			if _, ok := cc.stmts[`SELECT 0`]; ok {
				t.Error("the oldest statement is still cached")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
