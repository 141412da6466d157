package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id, err := f.s.CreateSession(ctx, f.admin.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		u, err := f.s.SessionUser(ctx, id)
		if err != nil || u.ID != f.admin.ID || u.AccountName != "Test account" {
			t.Fatalf("SessionUser = %+v, %v", u, err)
		}
	})
	t.Run("OnlyADigestIsStored", func(t *testing.T) {
		n := f.queryInt(t, `SELECT COUNT(*) FROM sessions WHERE digest = ?`, []byte(id))
		stored := f.queryInt(t, `SELECT COUNT(*) FROM sessions WHERE digest = ?`, sessionDigest(id))
		if n != 0 || stored != 1 {
			t.Fatalf("raw ID rows %d, digest rows %d; want 0 and 1", n, stored)
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		if _, err := f.s.SessionUser(ctx, id+"x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SessionUser(unknown) = %v", err)
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		short, err := f.s.CreateSession(ctx, f.admin.ID, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Minute)
		if _, err := f.s.SessionUser(ctx, short); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SessionUser(expired) = %v", err)
		}
	})
	t.Run("ErrEnded", func(t *testing.T) {
		if err := f.s.EndSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SessionUser(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SessionUser(ended) = %v", err)
		}
		if err := f.s.EndSession(ctx, id); err != nil {
			t.Fatalf("ending twice = %v", err)
		}
	})
}

func TestConfirmPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id, err := f.s.CreateSession(ctx, f.admin.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	at, err := f.s.SessionConfirmedAt(ctx, id)
	if err != nil || !at.Equal(f.clock.Now()) {
		t.Fatalf("confirmed at sign-in: %v, %v", at, err)
	}
	f.clock.Add(20 * time.Minute)
	if err := f.s.ConfirmPassword(ctx, id, "wrong password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if at, err := f.s.SessionConfirmedAt(ctx, id); err != nil || at.Equal(f.clock.Now()) {
		t.Fatalf("a wrong password counted as a confirmation: %v, %v", at, err)
	}
	if err := f.s.ConfirmPassword(ctx, id, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if at, err := f.s.SessionConfirmedAt(ctx, id); err != nil || !at.Equal(f.clock.Now()) {
		t.Fatalf("confirmed at %v, %v; want now", at, err)
	}
	if err := f.s.ConfirmPassword(ctx, "no such session", "correct horse"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	t.Run("IdleEnds", func(t *testing.T) {
		id, err := f.s.CreateSession(ctx, f.admin.ID, 12*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// Used every 50 minutes, it lives on past the idle timeout…
		for range 3 {
			f.clock.Add(50 * time.Minute)
			if _, err := f.s.SessionUser(ctx, id); err != nil {
				t.Fatalf("a session in use ended: %v", err)
			}
		}
		// …and ends after an hour without use.
		f.clock.Add(SessionIdleTimeout)
		if _, err := f.s.SessionUser(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("idle session: %v, want ErrNotFound", err)
		}
	})
	t.Run("AbsoluteEnds", func(t *testing.T) {
		id, err := f.s.CreateSession(ctx, f.admin.ID, 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			f.clock.Add(29 * time.Minute)
			if _, err := f.s.SessionUser(ctx, id); err != nil {
				t.Fatalf("session ended early: %v", err)
			}
		}
		f.clock.Add(5 * time.Minute) // 2 h 1 min after sign-in, in use all along
		if _, err := f.s.SessionUser(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session past its absolute expiry: %v, want ErrNotFound", err)
		}
	})
}
