package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
)

// The schema's migrations, numbered .sql files of each engine, applied in
// order by migrate.
//
//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// migrate applies, in order and each in its own transaction, the embedded
// migrations of the engine not yet recorded in schema_migrations. On
// PostgreSQL each holds a lock of the database's, so that instances started
// together apply each migration once. A database that records a migration
// newer than any this program has is refused: its schema may hold what
// this program would break.
func (s *Store) migrate(ctx context.Context) error {
	dir := "migrations"
	if s.d.postgres {
		dir = "migrations/postgres"
	}
	names, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	err = s.inMigrationTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			name       TEXT PRIMARY KEY,
			applied_at BIGINT NOT NULL
		)`)
		return err
	})
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := s.migrateOne(ctx, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return s.checkSchemaKnown(ctx, names[len(names)-1])
}

// migrationLock is the key of the PostgreSQL advisory lock that migrations
// hold: any number, the same in every instance.
const migrationLock = 7_262_011_115

// inMigrationTx runs fn in a write transaction that, on PostgreSQL, first
// waits for the migration lock. There it reads what was committed up to
// each statement, not a snapshot from before the wait, so that it sees the
// migration that the lock's last holder applied.
func (s *Store) inMigrationTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if !s.d.postgres {
		return s.inTx(ctx, fn)
	}
	return s.tryTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
			return err
		}
		return fn(tx)
	})
}

// migrateOne applies the embedded migration name, in its own transaction,
// unless schema_migrations records it already.
func (s *Store) migrateOne(ctx context.Context, name string) error {
	return s.inMigrationTx(ctx, func(tx *sql.Tx) error {
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

// checkSchemaKnown refuses a database that records a migration later than
// last, the newest this program has.
func (s *Store) checkSchemaKnown(ctx context.Context, last string) error {
	rows, err := s.write.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return err
	}
	applied, err := scanStrings(rows)
	if err != nil {
		return err
	}
	newest := path.Base(last)
	for _, name := range applied {
		if name != "write check" && path.Base(name) > newest {
			return fmt.Errorf("%w: the database has migration %s, newer than any this program knows (the newest is %s); run the newer release of apitokens that made it",
				ErrSchemaTooNew, path.Base(name), newest)
		}
	}
	return nil
}
