package store

import (
	"context"
	"errors"
	"slices"
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

// TestKeptSessionsFollowEveryInstance: a session used on one instance, and
// kept there in memory, ends there at the next request once another
// instance signed it out, and when its time is up; a change to its user
// shows at once.
func TestKeptSessionsFollowEveryInstance(t *testing.T) {
	f := newFixture(t)
	other := f.secondInstance(t)
	ctx := context.Background()
	begin := func(t *testing.T, ttl time.Duration) string {
		t.Helper()
		id, err := f.s.CreateSession(ctx, f.admin.ID, ttl)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the first use keeps it, the second is answered from memory
			if _, err := f.s.SessionUser(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	t.Run("SignedOutElsewhere", func(t *testing.T) {
		id := begin(t, time.Hour)
		if err := other.EndSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SessionUser(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after signing out on the other instance: %v, want ErrNotFound", err)
		}
	})
	t.Run("RemovedAsExpiredElsewhere", func(t *testing.T) {
		id := begin(t, time.Hour)
		// The other instance's sign-in removes every expired session; a
		// session is removed only once past its expiry, so end this one
		// the way an operator would, and sign in on the other instance.
		if _, err := other.write.ExecContext(ctx, `DELETE FROM sessions WHERE digest = ?`, sessionDigest(id)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SessionUser(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after its row was removed: %v, want ErrNotFound", err)
		}
	})
	t.Run("ExpiresWhileInUse", func(t *testing.T) {
		id := begin(t, 2*time.Minute)
		// Marked used at 1 min 1 s, it is answered from memory for the
		// minute after: its expiry, at 2 min, falls in that minute.
		for _, d := range []time.Duration{61 * time.Second, 58 * time.Second} {
			f.clock.Add(d)
			if _, err := f.s.SessionUser(ctx, id); err != nil {
				t.Fatalf("ended early: %v", err)
			}
		}
		f.clock.Add(1500 * time.Millisecond) // 2 min 0.5 s after sign-in
		if _, err := f.s.SessionUser(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("past its expiry: %v, want ErrNotFound", err)
		}
	})
	t.Run("UserChangedElsewhere", func(t *testing.T) {
		id := begin(t, time.Hour)
		if err := other.SetHiddenColumns(ctx, f.admin.ID, []string{"modules"}); err != nil {
			t.Fatal(err)
		}
		u, err := f.s.SessionUser(ctx, id)
		if err != nil || !slices.Equal(u.HiddenColumns, []string{"modules"}) {
			t.Fatalf("after hiding a column on the other instance: %v, %v", u.HiddenColumns, err)
		}
		if err := other.SetHiddenColumns(ctx, f.admin.ID, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("StillMarkedUsed", func(t *testing.T) {
		id := begin(t, 12*time.Hour)
		f.clock.Add(sessionTouchEvery + time.Second)
		if _, err := f.s.SessionUser(ctx, id); err != nil {
			t.Fatal(err)
		}
		var lastSeen int64
		if err := f.s.read.QueryRowContext(ctx, `SELECT last_seen_at FROM sessions WHERE digest = ?`, sessionDigest(id)).Scan(&lastSeen); err != nil {
			t.Fatal(err)
		}
		if want := f.clock.Now().UnixMilli(); lastSeen != want {
			t.Errorf("last_seen_at %d after a use a minute on, want %d", lastSeen, want)
		}
		// Used every 50 seconds, mostly from memory, it is still marked
		// used and outlives the idle timeout…
		for range 90 {
			f.clock.Add(50 * time.Second)
			if _, err := f.s.SessionUser(ctx, id); err != nil {
				t.Fatalf("a session in use ended: %v", err)
			}
		}
		// …and an hour without use ends it.
		f.clock.Add(SessionIdleTimeout)
		if _, err := f.s.SessionUser(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("idle session: %v, want ErrNotFound", err)
		}
	})
	t.Run("CallerChangesNothingKept", func(t *testing.T) {
		if err := f.s.SetHiddenColumns(ctx, f.admin.ID, []string{"modules"}); err != nil {
			t.Fatal(err)
		}
		id := begin(t, time.Hour)
		u, err := f.s.SessionUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		u.HiddenColumns[0] = "changed"
		if u, _ := f.s.SessionUser(ctx, id); !slices.Equal(u.HiddenColumns, []string{"modules"}) {
			t.Errorf("kept session changed through a caller's copy: %v", u.HiddenColumns)
		}
	})
}
