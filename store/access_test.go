package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTokenBySecretReasons(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	active, activeSecret := f.createToken(t, "active")
	disabled, disabledSecret := f.createToken(t, "disabled")
	if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, disabled.ID, StatusDisabled, f.actor); err != nil {
		t.Fatal(err)
	}
	deleted, deletedSecret := f.createToken(t, "deleted")
	if _, err := f.s.DeleteToken(ctx, f.account.ID, deleted.ID, f.actor); err != nil {
		t.Fatal(err)
	}
	expiring, expiringSecret, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "expiring",
		ExpiresAt: f.clock.Now().Add(time.Minute)}, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Minute)
	// A well-formed secret that names a live token but was never issued.
	forged := newSecret(active.ID)

	cases := []struct {
		name, secret, tokenID, reason string
	}{
		{"Malformed", "apitk_garbage", "", RejectMalformed},
		{"BadChecksum", activeSecret[:len(activeSecret)-1] + flip(activeSecret[len(activeSecret)-1]), "", RejectMalformed},
		{"NeverIssued", forged, active.ID, RejectUnknown},
		{"Deleted", deletedSecret, deleted.ID, RejectUnknown},
		{"Disabled", disabledSecret, disabled.ID, RejectDisabled},
		{"Expired", expiringSecret, expiring.ID, RejectExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.TokenBySecret(ctx, tc.secret)
			var rej *SecretRejected
			if !errors.As(err, &rej) || !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want a SecretRejected that is ErrNotFound", err)
			}
			if rej.Reason != tc.reason || rej.TokenID != tc.tokenID {
				t.Fatalf("rejected %+v, want reason %q for %q", rej, tc.reason, tc.tokenID)
			}
			if msg := err.Error(); strings.Contains(msg, tc.secret) {
				t.Fatalf("the error names the secret: %s", msg)
			}
		})
	}
	t.Run("Active", func(t *testing.T) {
		got, err := f.s.TokenBySecret(ctx, activeSecret)
		if err != nil || got.ID != active.ID {
			t.Fatalf("TokenBySecret = %s, %v", got.ID, err)
		}
	})
	t.Run("ActiveWithScope", func(t *testing.T) {
		scoped, secret := f.createToken(t, "scoped", f.modules[0], f.modules[2])
		got, err := f.s.TokenBySecret(ctx, secret)
		if err != nil || got.ID != scoped.ID || len(got.Modules) != 2 ||
			got.Modules[0] != f.modules[0] || got.Modules[1] != f.modules[2] {
			t.Fatalf("TokenBySecret = %+v, %v; want its two modules", got, err)
		}
	})
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func TestRecordLastAccess(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, _ := f.createToken(t, "used")
	gone, _ := f.createToken(t, "gone")
	if _, err := f.s.DeleteToken(ctx, f.account.ID, gone.ID, f.actor); err != nil {
		t.Fatal(err)
	}
	t0 := f.clock.Now().Add(time.Minute).Truncate(time.Millisecond)
	lastAccess := func(t *testing.T) time.Time {
		t.Helper()
		got, err := f.s.TokenByID(ctx, f.account.ID, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.LastAccessAt
	}
	t.Run("OK", func(t *testing.T) {
		if err := f.s.RecordUsage(ctx, lastCalls(map[string]time.Time{tok.ID: t0})); err != nil {
			t.Fatal(err)
		}
		if got := lastAccess(t); !got.Equal(t0) {
			t.Fatalf("last access %v, want %v", got, t0)
		}
	})
	t.Run("NeverBackwards", func(t *testing.T) {
		if err := f.s.RecordUsage(ctx, lastCalls(map[string]time.Time{tok.ID: t0.Add(-time.Hour)})); err != nil {
			t.Fatal(err)
		}
		if got := lastAccess(t); !got.Equal(t0) {
			t.Fatalf("last access moved back to %v", got)
		}
	})
	t.Run("DeletedAndUnknownLeftAlone", func(t *testing.T) {
		// One batch mixes a live token, a tombstone and an unknown ID: the
		// tombstone's trigger must not fail the whole batch.
		err := f.s.RecordUsage(ctx, lastCalls(map[string]time.Time{
			tok.ID: t0.Add(time.Minute), gone.ID: t0, "TKN-0000-0000": t0,
		}))
		if err != nil {
			t.Fatalf("batch with a deleted token: %v", err)
		}
		if got := lastAccess(t); !got.Equal(t0.Add(time.Minute)) {
			t.Fatalf("last access %v, want %v", got, t0.Add(time.Minute))
		}
	})
	t.Run("UpdatedUnchanged", func(t *testing.T) {
		got := f.tokenByID(t, f.account.ID, tok.ID)
		if !got.UpdatedAt.Equal(tok.UpdatedAt) || got.UpdatedBy.ID != tok.UpdatedBy.ID {
			t.Fatalf("recording access changed 'updated': %v by %s", got.UpdatedAt, got.UpdatedBy.ID)
		}
		events := f.auditEvents(t, f.account.ID, tok.ID)
		if len(events) != 1 {
			t.Fatalf("recording access wrote audit events: %+v", events)
		}
	})
}

// lastCalls is a batch of usage that holds only when each token was last
// called.
func lastCalls(at map[string]time.Time) UsageBatch {
	b := UsageBatch{Last: map[string]Caller{}}
	for id, t := range at {
		b.Last[id] = Caller{At: t}
	}
	return b
}
