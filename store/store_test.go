package store

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
			entries, err := fs.Glob(migrations, "migrations/*.sql")
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

// TestOpenRefusesUnwritable: a database the server cannot write to is
// refused when it is opened, with a message that says so, rather than at
// the first sign-in or the first token added.
func TestOpenRefusesUnwritable(t *testing.T) {
	t.Run("ErrNoPath", func(t *testing.T) {
		for _, path := range []string{"", "  ", ":memory:"} {
			if s, err := Open(path, randomKeys(t)); err == nil || !strings.Contains(err.Error(), "database file") {
				if s != nil {
					s.Close()
				}
				t.Fatalf("Open(%q) = %v, want a refusal", path, err)
			}
		}
	})
	t.Run("ErrReadOnlyFormat", func(t *testing.T) {
		// A database whose header says it was written by a later version
		// of SQLite can be read but not written: read-only for anyone,
		// root included.
		path := filepath.Join(t.TempDir(), "later.db")
		s, err := Open(path, randomKeys(t))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte{3}, 18); err != nil { // the file format write version
			t.Fatal(err)
		}
		f.Close()
		s, err = Open(path, randomKeys(t))
		if err == nil {
			s.Close()
			t.Fatal("a database that cannot be written was opened")
		}
		if !strings.Contains(err.Error(), "cannot be written") || !strings.Contains(err.Error(), path) {
			t.Fatalf("err = %v, want it to say the database at the path cannot be written", err)
		}
	})
}
