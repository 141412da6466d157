package store

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOpen(t *testing.T) {
	t.Run("MigrationsApplyOnce", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "m.db")
		keys := randomKeys(t)
		for range 2 {
			s, err := Open(path, keys)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := s.read.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			entries, err := migrations.ReadDir("migrations")
			if err != nil {
				t.Fatal(err)
			}
			if n != len(entries) {
				t.Fatalf("schema_migrations has %d rows, want %d", n, len(entries))
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("Pragmas", func(t *testing.T) {
		f := newFixture(t)
		var mode string
		var sync, fk int
		for pragma, into := range map[string]any{"journal_mode": &mode, "synchronous": &sync, "foreign_keys": &fk} {
			if err := f.s.write.QueryRow(`PRAGMA ` + pragma).Scan(into); err != nil {
				t.Fatal(err)
			}
		}
		if mode != "wal" || sync != 2 || fk != 1 {
			t.Fatalf("journal_mode=%s synchronous=%d foreign_keys=%d, want wal 2 1", mode, sync, fk)
		}
	})
	t.Run("PathIsTakenLiterally", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "odd #1 100%41?.db")
		s, err := Open(path, randomKeys(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatalf("no database at the given path: %v", err)
		}
		if info.Size() == 0 || info.Mode().Perm() != 0o600 {
			t.Fatalf("database at the given path: %d bytes, mode %v", info.Size(), info.Mode().Perm())
		}
	})
	t.Run("ErrShortKeys", func(t *testing.T) {
		_, err := Open(filepath.Join(t.TempDir(), "k.db"), Keys{Digest: []byte("short"), Encryption: make([]byte, KeySize)})
		if err == nil {
			t.Fatal("Open accepted a 5-byte digest key")
		}
	})
}
