package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseGracePeriod(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"PT0S", 0}, {"PT1H", time.Hour}, {"PT24H", 24 * time.Hour}, {"P7D", 7 * 24 * time.Hour},
		{"P1D", 24 * time.Hour}, {"PT90M", 90 * time.Minute}, {"P1DT12H", 36 * time.Hour},
		{"PT1H30M15S", time.Hour + 30*time.Minute + 15*time.Second}, {"P0D", 0},
	} {
		got, err := ParseGracePeriod(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseGracePeriod(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if back, err := ParseGracePeriod(FormatGracePeriod(got)); err != nil || back != got {
			t.Errorf("FormatGracePeriod(%v) = %q, which reads back as %v, %v", got, FormatGracePeriod(got), back, err)
		}
	}
	for _, in := range []string{"", "P", "PT", "1H", "PT1", "PT-1H", "P8D", "PT169H", "P1W", "P1Y", "PT1.5H",
		"PT1H1H", "PT1M1H", "P1H", "PT1D", "pt1h", "P7DT1S", "PT99999999H", " PT1H",
		// Past what a time.Duration holds: once taken for 25 minutes, or
		// for less than none.
		"P213504D", "PT5124096H", "P106752D", "P9999999D"} {
		var v *ValidationError
		if _, err := ParseGracePeriod(in); !errors.As(err, &v) || v.Fields["gracePeriod"] == "" {
			t.Errorf("ParseGracePeriod(%q) = %v, want a ValidationError on gracePeriod", in, err)
		}
	}
	for d, want := range map[time.Duration]string{0: "PT0S", time.Hour: "PT1H", 24 * time.Hour: "PT24H", 36 * time.Hour: "PT36H",
		90 * time.Minute: "PT1H30M", 2 * 24 * time.Hour: "P2D", MaxGracePeriod: "P7D"} {
		if got := FormatGracePeriod(d); got != want {
			t.Errorf("FormatGracePeriod(%v) = %q, want %q", d, got, want)
		}
	}
}

// authenticates fails the test unless secret authenticates the token id,
// with the previous secret or not as previous says.
func (f *fixture) authenticates(t *testing.T, secret, id string, previous bool) {
	t.Helper()
	got, err := f.s.TokenBySecret(context.Background(), secret)
	if err != nil || got.ID != id || got.ViaPrevious != previous {
		t.Fatalf("TokenBySecret = %s (previous secret: %v), %v; want %s (previous secret: %v)", got.ID, got.ViaPrevious, err, id, previous)
	}
}

// refused fails the test unless secret is refused, for the reason.
func (f *fixture) refused(t *testing.T, secret, reason string) {
	t.Helper()
	var rejected *SecretRejected
	if _, err := f.s.TokenBySecret(context.Background(), secret); !errors.As(err, &rejected) || rejected.Reason != reason {
		t.Fatalf("TokenBySecret = %v, want it refused as %s", err, reason)
	}
}

func (f *fixture) rotate(t *testing.T, id string, grace time.Duration) (Token, string) {
	t.Helper()
	tok, secret, err := f.s.RotateSecret(context.Background(), f.account.ID, id, Rotation{Grace: grace}, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	return tok, secret
}

func TestRotateSecret(t *testing.T) {
	ctx := context.Background()

	t.Run("BothWorkUntilTheDeadline", func(t *testing.T) {
		f := newFixture(t)
		tok, old := f.createToken(t, "Rotated", f.modules[0])
		rotatedAt := f.clock.Now()
		got, secret := f.rotate(t, tok.ID, time.Hour)
		if secret == old || got.ID != tok.ID || got.Name != tok.Name || len(got.Modules) != 1 || got.Modules[0].ID != f.modules[0].ID {
			t.Fatalf("rotated token %+v with secret changed: %v; want the same token with a new secret", got, secret != old)
		}
		if !got.PreviousUntil.Equal(rotatedAt.Add(time.Hour)) || !got.RotatedAt.Equal(rotatedAt) || !got.PreviousWorks(rotatedAt) {
			t.Fatalf("previous secret until %v, rotated at %v; want until %v", got.PreviousUntil, got.RotatedAt, rotatedAt.Add(time.Hour))
		}
		if id, err := ParseSecret(secret); err != nil || id != tok.ID {
			t.Fatalf("new secret names %q, %v", id, err)
		}
		f.authenticates(t, secret, tok.ID, false)
		f.authenticates(t, old, tok.ID, true)
		if shown, err := f.s.RevealSecret(ctx, f.account.ID, tok.ID, f.actor); err != nil || shown != secret {
			t.Fatalf("RevealSecret shows the previous secret, or fails: %v", err)
		}

		f.clock.Add(time.Hour - time.Millisecond)
		f.authenticates(t, old, tok.ID, true)
		f.clock.Add(time.Millisecond)
		f.refused(t, old, RejectRotated)
		f.authenticates(t, secret, tok.ID, false)

		events := f.auditEvents(t, f.account.ID, tok.ID) // latest first: revealed, rotated, created
		if e := events[1]; e.Action != AuditRotated || e.Detail != "Previous secret works for 1 hour more" || e.Actor.ID != f.admin.ID {
			t.Fatalf("latest audit event %+v, want the rotation by the admin", e)
		}
	})

	t.Run("NoGracePeriod", func(t *testing.T) {
		f := newFixture(t)
		tok, old := f.createToken(t, "Leaked")
		got, secret := f.rotate(t, tok.ID, 0)
		if !got.PreviousUntil.IsZero() {
			t.Fatalf("previous secret works until %v, want it stopped at once", got.PreviousUntil)
		}
		f.refused(t, old, RejectUnknown)
		f.authenticates(t, secret, tok.ID, false)
		if n := f.queryInt(t, `SELECT COUNT(*) FROM tokens WHERE previous_digest IS NOT NULL OR previous_ciphertext IS NOT NULL`); n != 0 {
			t.Fatalf("%d tokens keep a previous secret they may not use", n)
		}
	})

	t.Run("AgainEndsTheOlderAtOnce", func(t *testing.T) {
		f := newFixture(t)
		tok, first := f.createToken(t, "Twice")
		_, second := f.rotate(t, tok.ID, 24*time.Hour)
		_, third := f.rotate(t, tok.ID, time.Hour)
		f.refused(t, first, RejectUnknown)
		f.authenticates(t, second, tok.ID, true)
		f.authenticates(t, third, tok.ID, false)
	})

	t.Run("EndNow", func(t *testing.T) {
		f := newFixture(t)
		tok, old := f.createToken(t, "Ended")
		_, secret := f.rotate(t, tok.ID, MaxGracePeriod)
		got, ended, err := f.s.EndPreviousSecret(ctx, f.account.ID, tok.ID, f.actor)
		if err != nil || !ended || !got.PreviousUntil.IsZero() {
			t.Fatalf("EndPreviousSecret = %v, %v (until %v)", ended, err, got.PreviousUntil)
		}
		f.refused(t, old, RejectUnknown)
		f.authenticates(t, secret, tok.ID, false)
		if e := f.auditEvents(t, f.account.ID, tok.ID)[0]; e.Action != AuditPreviousEnded {
			t.Fatalf("latest audit event %+v, want the previous secret ended", e)
		}
		if _, ended, err := f.s.EndPreviousSecret(ctx, f.account.ID, tok.ID, f.actor); err != nil || ended {
			t.Fatalf("ending it again = %v, %v; want nothing to end", ended, err)
		}
		if n := len(f.auditEvents(t, f.account.ID, tok.ID)); n != 3 {
			t.Fatalf("%d audit events, want created, rotated and ended only", n)
		}
	})

	t.Run("DisableAndDeleteCoverBoth", func(t *testing.T) {
		f := newFixture(t)
		tok, old := f.createToken(t, "Both")
		_, secret := f.rotate(t, tok.ID, 24*time.Hour)
		if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusDisabled, f.actor); err != nil {
			t.Fatal(err)
		}
		f.refused(t, old, RejectDisabled)
		f.refused(t, secret, RejectDisabled)
		if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusActive, f.actor); err != nil {
			t.Fatal(err)
		}
		f.authenticates(t, old, tok.ID, true)
		if _, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor); err != nil {
			t.Fatal(err)
		}
		f.refused(t, old, RejectUnknown)
		f.refused(t, secret, RejectUnknown)
		if n := f.queryInt(t, `SELECT COUNT(*) FROM tokens WHERE previous_digest IS NOT NULL OR previous_ciphertext IS NOT NULL
			OR secret_digest IS NOT NULL`); n != 0 {
			t.Fatalf("%d deleted tokens keep secret material", n)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		f := newFixture(t)
		tok, _ := f.createToken(t, "Refused")
		other := f.createAccount(t, "Other account")
		var v *ValidationError
		if _, _, err := f.s.RotateSecret(ctx, f.account.ID, tok.ID, Rotation{Grace: MaxGracePeriod + time.Second}, f.actor); !errors.As(err, &v) {
			t.Errorf("a grace period over the maximum: %v", err)
		}
		if _, _, err := f.s.RotateSecret(ctx, f.account.ID, tok.ID, Rotation{Grace: -time.Second}, f.actor); !errors.As(err, &v) {
			t.Errorf("a negative grace period: %v", err)
		}
		if _, _, err := f.s.RotateSecret(ctx, other.ID, tok.ID, Rotation{Grace: time.Hour}, f.actor); !errors.Is(err, ErrNotFound) {
			t.Errorf("another account's token: %v", err)
		}
		if _, _, err := f.s.EndPreviousSecret(ctx, other.ID, tok.ID, f.actor); err != nil && !errors.Is(err, ErrNotFound) {
			t.Errorf("ending another account's: %v", err)
		}
		expiring, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "Expiring", ExpiresAt: f.clock.Now().Add(time.Hour)}, f.actor)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Hour)
		if _, _, err := f.s.RotateSecret(ctx, f.account.ID, expiring.ID, Rotation{Grace: time.Hour}, f.actor); !errors.Is(err, ErrTokenExpired) {
			t.Errorf("a token past its expiry date: %v", err)
		}
		scoped, _ := f.createToken(t, "Scoped", f.modules[1])
		if _, _, err := f.s.RotateSecret(ctx, f.account.ID, scoped.ID, Rotation{Grace: time.Hour, Grantable: f.modules[:1]}, f.actor); !errors.As(err, &v) ||
			!strings.Contains(v.Fields["modules"], f.modules[1].Name) {
			t.Errorf("rotated by a token without its module: %v", err)
		}
		if _, _, err := f.s.RotateSecret(ctx, f.account.ID, scoped.ID, Rotation{Grace: time.Hour, Grantable: f.modules[1:2]}, f.actor); err != nil {
			t.Errorf("rotated by a token with its module: %v", err)
		}
		if got := f.tokenByID(t, f.account.ID, tok.ID); !got.RotatedAt.IsZero() {
			t.Errorf("a refused rotation rotated the token at %v", got.RotatedAt)
		}
	})

	t.Run("PreviousCountedApart", func(t *testing.T) {
		f := newFixture(t)
		tok, _ := f.createToken(t, "Counted")
		f.rotate(t, tok.ID, 24*time.Hour)
		f.clock.Add(10 * time.Minute)
		b := calls(f.clock.Now(), 5, tok.ID)
		b.Counts[UsageKey{tok.ID, UsageHour(f.clock.Now())}] = UsageCount{Calls: 5, Previous: 2}
		b.Previous = map[string]Caller{tok.ID: {At: f.clock.Now()}}
		f.record(t, b)
		got := f.tokenByID(t, f.account.ID, tok.ID)
		u, err := f.s.PreviousUsage(ctx, got)
		if err != nil || u.Calls != 2 || !u.LastAt.Equal(f.clock.Now()) {
			t.Fatalf("PreviousUsage = %+v, %v; want 2 calls, the last now", u, err)
		}
		if all := f.usage(t, tok.ID); all.Calls24h != 5 {
			t.Fatalf("calls of the day %d, want 5: those with the previous secret are calls too", all.Calls24h)
		}
	})

	// A batch written late, with a call made with the secret before the
	// last one, says nothing of the secret that works now beside the new.
	t.Run("LateBatchOfTheSecretBefore", func(t *testing.T) {
		f := newFixture(t)
		tok, _ := f.createToken(t, "Rotated twice")
		f.rotate(t, tok.ID, time.Hour)
		before := f.clock.Now()
		f.clock.Add(time.Minute)
		f.rotate(t, tok.ID, time.Hour)
		f.record(t, UsageBatch{Counts: map[UsageKey]UsageCount{{tok.ID, UsageHour(before)}: {Calls: 1, Previous: 1}},
			Previous: map[string]Caller{tok.ID: {At: before}}})
		if got := f.tokenByID(t, f.account.ID, tok.ID); !got.PreviousLastAt.IsZero() {
			t.Fatalf("the previous secret was last used at %v, before the rotation that made it previous", got.PreviousLastAt)
		}
	})

	t.Run("ForgottenAfterItsTime", func(t *testing.T) {
		f := newFixture(t)
		tok, old := f.createToken(t, "Forgotten")
		f.rotate(t, tok.ID, time.Hour)
		f.clock.Add(2 * time.Hour)
		if err := f.s.RollUpUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.queryInt(t, `SELECT COUNT(*) FROM tokens WHERE previous_digest IS NOT NULL OR previous_until IS NOT NULL`); n != 0 {
			t.Fatalf("%d previous secrets kept past their time", n)
		}
		f.refused(t, old, RejectUnknown)
	})
}

func TestRotateKeysMovesPreviousSecret(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, old := f.createToken(t, "Rotated twice over")
	_, secret := f.rotate(t, tok.ID, MaxGracePeriod)
	if err := f.s.Close(); err != nil {
		t.Fatal(err)
	}
	fresh := randomKeys(t)
	both := fresh
	both.Previous = ptr(f.keys)
	for _, k := range []Keys{both, fresh} {
		s, err := Open(f.path, k)
		if err != nil {
			t.Fatal(err)
		}
		s.Now = f.clock.Now
		if k.Previous != nil {
			if n, err := s.RotateKeys(ctx); err != nil || n != 1 {
				t.Fatalf("RotateKeys = %d, %v; want the one token moved", n, err)
			}
		}
		for _, c := range []struct {
			secret   string
			previous bool
		}{{secret, false}, {old, true}} {
			if got, err := s.TokenBySecret(ctx, c.secret); err != nil || got.ID != tok.ID || got.ViaPrevious != c.previous {
				t.Fatalf("after rotating keys, TokenBySecret = %s (previous %v), %v", got.ID, got.ViaPrevious, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConcurrentRotateAndDelete: whichever comes first, once a rotation
// and a delete of one token are both over, no secret of it works.
func TestConcurrentRotateAndDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for range 20 {
		tok, old := f.createToken(t, "Contested")
		var wg sync.WaitGroup
		var secret string
		var rotateErr, deleteErr error
		wg.Go(func() {
			_, secret, rotateErr = f.s.RotateSecret(ctx, f.account.ID, tok.ID, Rotation{Grace: time.Hour}, f.actor)
		})
		wg.Go(func() { _, deleteErr = f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor) })
		wg.Wait()
		if deleteErr != nil || rotateErr != nil && !errors.Is(rotateErr, ErrNotFound) {
			t.Fatalf("delete: %v; rotate: %v", deleteErr, rotateErr)
		}
		for _, s := range []string{old, secret} {
			if s == "" {
				continue
			}
			if got, err := f.s.TokenBySecret(ctx, s); !errors.Is(err, ErrNotFound) {
				t.Fatalf("a secret of the deleted token authenticates %s: %v", got.ID, err)
			}
		}
	}
}
