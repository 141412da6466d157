package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

const day = 24 * time.Hour

// disableUnused is DisableUnusedTokens; an error fails the test.
func (f *fixture) disableUnused(t *testing.T) int {
	t.Helper()
	n, err := f.s.DisableUnusedTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// setUnused is SetUnusedPolicy by the administrator; an error fails the test.
func (f *fixture) setUnused(t *testing.T, accountID string, days int) UnusedPolicy {
	t.Helper()
	p, err := f.s.SetUnusedPolicy(context.Background(), accountID, days, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnusedPolicySetting(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	t.Run("OffByDefault", func(t *testing.T) {
		p, err := f.s.UnusedPolicy(ctx, f.account.ID)
		if err != nil || p.On() || !p.UpdatedAt.IsZero() || p.UpdatedBy.ID != "" {
			t.Fatalf("a new account's policy: %+v, %v", p, err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		p := f.setUnused(t, f.account.ID, 90)
		if p.Days != 90 || !p.UpdatedAt.Equal(f.clock.Now()) || p.UpdatedBy != (UserRef{f.admin.ID, f.admin.Name}) {
			t.Fatalf("set to 90 days: %+v", p)
		}
		f.clock.Add(time.Minute)
		if p := f.setUnused(t, f.account.ID, 0); p.On() || !p.UpdatedAt.Equal(f.clock.Now()) {
			t.Fatalf("set to off: %+v", p)
		}
	})
	t.Run("ErrDays", func(t *testing.T) {
		f.setUnused(t, f.account.ID, 30)
		for _, days := range []int{-30, 1, 45, 365, 181} {
			_, err := f.s.SetUnusedPolicy(ctx, f.account.ID, days, f.actor)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields["days"] != MsgUnusedDays {
				t.Errorf("%d days: %v", days, err)
			}
		}
		if p, _ := f.s.UnusedPolicy(ctx, f.account.ID); p.Days != 30 {
			t.Fatalf("refused periods changed the policy to %d days", p.Days)
		}
	})
	t.Run("ErrActor", func(t *testing.T) {
		if _, err := f.s.SetUnusedPolicy(ctx, f.account.ID, 60, Actor{Kind: ActorUser, ID: "system:unused-60d"}); err == nil {
			t.Fatal("a user actor with a system ID was accepted")
		}
	})
}

// TestDisableUnusedTokens runs the policy under the fake clock: nothing
// before the period has passed, each unused active token once it has, and
// never a token made or used within it, nor one expired, disabled,
// deleted or of an account whose policy is off.
func TestDisableUnusedTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	start := f.clock.Now()
	never, _ := f.createToken(t, "never used")
	used, _ := f.createToken(t, "used on day 10")
	expiring, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "expires on day 50", ExpiresAt: start.Add(50 * day)}, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	off, _ := f.createToken(t, "disabled by hand")
	if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, off.ID, StatusDisabled, f.actor); err != nil {
		t.Fatal(err)
	}
	gone, _ := f.createToken(t, "deleted")
	if _, err := f.s.DeleteToken(ctx, f.account.ID, gone.ID, f.actor); err != nil {
		t.Fatal(err)
	}
	other := f.createAccount(t, "Policy off")
	theirs, _, err := f.s.CreateToken(ctx, NewToken{AccountID: other.ID, Name: "theirs"}, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	early, err := f.s.CreateUser(ctx, NewUser{AccountID: f.account.ID, Email: "early@test.example", Name: "Eve Early",
		Role: RoleAdmin, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	f.setUnused(t, f.account.ID, 90)
	f.setUnused(t, other.ID, 0)
	f.clock.Add(10 * day)
	f.record(t, calls(f.clock.Now(), 1, used.ID))
	f.clock.Add(70 * day)
	recent, _ := f.createToken(t, "made on day 80")

	state := func(id string) TokenStatus {
		t.Helper()
		var st TokenStatus
		if err := f.s.read.QueryRow(`SELECT status FROM tokens WHERE id = ?`, id).Scan(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	disabledEvents := func(accountID, id string) []AuditEvent {
		t.Helper()
		var out []AuditEvent
		for _, e := range f.auditEvents(t, accountID, id) {
			if e.Action == AuditDisabled {
				out = append(out, e)
			}
		}
		return out
	}

	t.Run("NotBeforeThePeriod", func(t *testing.T) {
		f.clock.Add(start.Add(90 * day).Sub(f.clock.Now())) // exactly 90 days: not more
		if n := f.disableUnused(t); n != 0 || state(never.ID) != StatusActive {
			t.Fatalf("at 90 days the policy disabled %d", n)
		}
	})
	t.Run("DisabledAfter", func(t *testing.T) {
		f.clock.Add(time.Minute)
		if n := f.disableUnused(t); n != 1 {
			t.Fatalf("disabled %d tokens, want the one never used", n)
		}
		if state(never.ID) != StatusDisabled {
			t.Fatal("the token never used in 90 days is still active")
		}
		events := disabledEvents(f.account.ID, never.ID)
		if len(events) != 1 {
			t.Fatalf("%d disable events, want 1", len(events))
		}
		e := events[0]
		if e.Actor != (UserRef{"system:unused-90d", "System: unused for 90 days"}) || !e.At.Equal(f.clock.Now()) || e.IP != "" {
			t.Fatalf("event: %+v", e)
		}
		if tok := f.tokenByID(t, f.account.ID, never.ID); tok.UpdatedBy.Name != "System: unused for 90 days" {
			t.Fatalf("updated by %+v", tok.UpdatedBy)
		}
		// The account's trail names it too, as the token's does.
		page, err := f.s.AuditTrail(ctx, f.account.ID, AuditFilter{Action: AuditDisabled})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(page.Events, func(e AuditEvent) bool {
			return e.TokenID == never.ID && e.Actor.Name == "System: unused for 90 days"
		}) {
			t.Fatalf("the account's trail: %+v", page.Events)
		}
	})
	t.Run("Spared", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			accountID string
			id        string
			want      TokenStatus
			events    int
		}{
			{"UsedWithinThePeriod", f.account.ID, used.ID, StatusActive, 0},
			{"CreatedWithinThePeriod", f.account.ID, recent.ID, StatusActive, 0},
			{"Expired", f.account.ID, expiring.ID, StatusActive, 0},
			{"DisabledAlready", f.account.ID, off.ID, StatusDisabled, 1}, // by hand
			{"Deleted", f.account.ID, gone.ID, StatusDeleted, 0},
			{"PolicyOff", other.ID, theirs.ID, StatusActive, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := state(tc.id); got != tc.want {
					t.Errorf("status %s, want %s", got, tc.want)
				}
				if n := len(disabledEvents(tc.accountID, tc.id)); n != tc.events {
					t.Errorf("%d disable events, want %d", n, tc.events)
				}
			})
		}
	})
	t.Run("Notice", func(t *testing.T) {
		n, err := f.s.TakeUnusedNotice(ctx, f.admin)
		if err != nil || n != (UnusedNotice{Disabled: 1, Days: 90}) {
			t.Fatalf("first notice: %+v, %v", n, err)
		}
		if n, err := f.s.TakeUnusedNotice(ctx, f.admin); err != nil || n.Disabled != 0 {
			t.Fatalf("second notice: %+v, %v", n, err)
		}
		// Each administrator is told, once; one made after the run is not.
		if n, _ := f.s.TakeUnusedNotice(ctx, early); n != (UnusedNotice{Disabled: 1, Days: 90}) {
			t.Fatalf("another administrator's notice: %+v", n)
		}
		f.clock.Add(time.Minute)
		late, err := f.s.CreateUser(ctx, NewUser{AccountID: f.account.ID, Email: "late@test.example", Name: "Lee Late",
			Role: RoleAdmin, Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := f.s.TakeUnusedNotice(ctx, late); n.Disabled != 0 {
			t.Fatalf("an administrator made after the run is told of it: %+v", n)
		}
	})
	t.Run("OnceEach", func(t *testing.T) {
		if n := f.disableUnused(t); n != 0 {
			t.Fatalf("a second run disabled %d", n)
		}
		if n := len(disabledEvents(f.account.ID, never.ID)); n != 1 {
			t.Fatalf("%d disable events after a second run", n)
		}
	})
	t.Run("LaterUsedToken", func(t *testing.T) {
		f.clock.Add(start.Add(100*day + time.Minute).Sub(f.clock.Now()))
		if n := f.disableUnused(t); n != 1 || state(used.ID) != StatusDisabled {
			t.Fatalf("90 days after its last use: disabled %d, status %s", n, state(used.ID))
		}
		if n, _ := f.s.TakeUnusedNotice(ctx, f.admin); n != (UnusedNotice{Disabled: 1, Days: 90}) {
			t.Fatalf("notice of the second run: %+v", n)
		}
	})
	// Enabled again by a person, a token gets a new period: the policy
	// does not undo the person's choice five minutes later.
	t.Run("EnabledAgain", func(t *testing.T) {
		if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, never.ID, StatusActive, f.actor); err != nil {
			t.Fatal(err)
		}
		// Renewed (a new expiry date), likewise.
		renewal := f.clock.Now().Add(200 * day)
		if _, _, err := f.s.UpdateToken(ctx, f.account.ID, expiring.ID, TokenUpdate{Only: []string{}, Expiry: &renewal}, f.actor); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(5 * time.Minute)
		if n := f.disableUnused(t); n != 0 || state(never.ID) != StatusActive || state(expiring.ID) != StatusActive {
			t.Fatalf("enabled again or renewed, a token was disabled at the next run: %d, %s, %s", n, state(never.ID), state(expiring.ID))
		}
		f.clock.Add(90 * day)
		if n := f.disableUnused(t); n != 3 || state(never.ID) != StatusDisabled || state(recent.ID) != StatusDisabled {
			t.Fatalf("unused for 90 days after it was enabled again: disabled %d (want it, the renewed one and the one made on day 80), status %s",
				n, state(never.ID))
		}
	})
	t.Run("OffDoesNothing", func(t *testing.T) {
		recent, _ := f.createToken(t, "made with the policy on")
		f.setUnused(t, f.account.ID, 0)
		f.clock.Add(365 * day)
		if n := f.disableUnused(t); n != 0 || state(recent.ID) != StatusActive {
			t.Fatalf("with the policy off: disabled %d", n)
		}
	})
}

// TestDisableUnusedTokensOnce runs the policy from two store handles at
// once, as two servers do: each token is disabled once, with one audit
// event, and the runs count each once.
func TestDisableUnusedTokensOnce(t *testing.T) {
	f := newFixture(t)
	const tokens = 40
	var made []string
	for range tokens {
		tok, _ := f.createToken(t, "idle")
		made = append(made, tok.ID)
	}
	f.setUnused(t, f.account.ID, 30)
	f.clock.Add(31 * day)
	second, err := Open(f.path, f.keys)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.Now = f.clock.Now
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for _, s := range []*Store{f.s, second, f.s, second} {
		wg.Go(func() {
			n, err := s.DisableUnusedTokens(context.Background())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != tokens {
		t.Errorf("the runs say they disabled %d tokens, want %d", total, tokens)
	}
	for _, id := range made {
		if n := f.queryInt(t, `SELECT COUNT(*) FROM audit_events WHERE token_id = ? AND action = 'disabled'`, id); n != 1 {
			t.Errorf("%s has %d disable events, want 1", id, n)
		}
	}
	if n := f.queryInt(t, `SELECT COUNT(*) FROM tokens WHERE status = 'disabled'`); n != tokens {
		t.Errorf("%d tokens disabled, want %d", n, tokens)
	}
	if n := f.queryInt(t, `SELECT COALESCE(SUM(disabled), 0) FROM unused_policy_runs`); n != tokens {
		t.Errorf("the runs recorded %d tokens, want %d", n, tokens)
	}
}

func TestExpiresSoon(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		tok  Token
		want bool
	}{
		{"NeverExpires", Token{Status: StatusActive}, false},
		{"InThreeDays", Token{Status: StatusActive, ExpiresAt: now.Add(3 * day)}, true},
		{"InSevenDays", Token{Status: StatusActive, ExpiresAt: now.Add(7 * day)}, true},
		{"InEightDays", Token{Status: StatusActive, ExpiresAt: now.Add(8 * day)}, false},
		{"Disabled", Token{Status: StatusDisabled, ExpiresAt: now.Add(day)}, true},
		{"Expired", Token{Status: StatusActive, ExpiresAt: now}, false},
		{"Deleted", Token{Status: StatusDeleted, ExpiresAt: now.Add(day)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tok.ExpiresSoon(now); got != tc.want {
				t.Fatalf("ExpiresSoon = %v, want %v", got, tc.want)
			}
		})
	}
}
