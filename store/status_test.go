package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSetTokenStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret := f.createToken(t, "pausable")
	t.Run("Disable", func(t *testing.T) {
		got, changed, err := f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusDisabled, f.actor)
		if err != nil || !changed || got.State(f.clock.Now()) != StateDisabled {
			t.Fatalf("disable = %s, %v, %v", got.Status, changed, err)
		}
		if _, err := f.s.TokenBySecret(ctx, secret); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a disabled token authenticates: %v", err)
		}
	})
	t.Run("DisableTwiceIsNoOp", func(t *testing.T) {
		_, changed, err := f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusDisabled, f.actor)
		if err != nil || changed {
			t.Fatalf("second disable = %v, %v; want unchanged, nil", changed, err)
		}
	})
	t.Run("EnableRestoresTheSameSecret", func(t *testing.T) {
		if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusActive, f.actor); err != nil {
			t.Fatal(err)
		}
		if got, err := f.s.TokenBySecret(ctx, secret); err != nil || got.ID != tok.ID {
			t.Fatalf("enabled token does not authenticate: %v", err)
		}
		events := f.auditEvents(t, f.account.ID, tok.ID)
		var actions []string
		for _, e := range events {
			actions = append(actions, e.Action)
		}
		if strings.Join(actions, ",") != "enabled,disabled,created" {
			t.Fatalf("audit trail %v, want enabled,disabled,created (newest first)", actions)
		}
	})
	t.Run("ErrDeletedIsNotAStatus", func(t *testing.T) {
		if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusDeleted, f.actor); err == nil {
			t.Fatal("SetTokenStatus accepted 'deleted'")
		}
	})
}

// TestExpiredTokenIsRenewedNotSwitched: a token past its expiry date is
// neither enabled nor disabled, one at a time or in bulk, since either would
// leave the API refusing it; it can still be deleted.
func TestExpiredTokenIsRenewedNotSwitched(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	expiring := func(name string) Token {
		tok, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: name, ExpiresAt: f.clock.Now().Add(time.Hour)}, f.actor)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	on, off := expiring("lapsed"), expiring("lapsed and off")
	if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, off.ID, StatusDisabled, f.actor); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Hour)
	trail := func(id string) int { return len(f.auditEvents(t, f.account.ID, id)) }
	before := trail(on.ID) + trail(off.ID)

	for _, tc := range []struct {
		name       string
		id         string
		set, stays TokenStatus
	}{{"ErrDisable", on.ID, StatusDisabled, StatusActive}, {"ErrEnable", off.ID, StatusActive, StatusDisabled}} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, err := f.s.SetTokenStatus(ctx, f.account.ID, tc.id, tc.set, f.actor)
			if !errors.Is(err, ErrTokenExpired) || changed {
				t.Fatalf("SetTokenStatus = %v, %v; want ErrTokenExpired", changed, err)
			}
			if got.ID != tc.id || got.Status != tc.stays {
				t.Fatalf("the token returned is %s %s, want it as it was, %s", got.ID, got.Status, tc.stays)
			}
		})
	}
	t.Run("BulkSkipsThem", func(t *testing.T) {
		for _, a := range []TokenAction{ActionEnable, ActionDisable} {
			r, err := f.s.BulkChangeTokens(ctx, f.account.ID, []string{on.ID, off.ID}, a, f.actor)
			want := []BulkSkip{{on.ID, SkipExpired}, {off.ID, SkipExpired}}
			if err != nil || len(r.Changed) != 0 || !slices.Equal(r.Skipped, want) {
				t.Fatalf("bulk %s = %+v, %v; want both skipped as expired", a, r, err)
			}
		}
	})
	t.Run("NothingWritten", func(t *testing.T) {
		if f.tokenByID(t, f.account.ID, on.ID).Status != StatusActive || f.tokenByID(t, f.account.ID, off.ID).Status != StatusDisabled {
			t.Fatal("a refused change was written")
		}
		if after := trail(on.ID) + trail(off.ID); after != before {
			t.Fatalf("%d audit events after refused changes, want %d", after, before)
		}
	})
	t.Run("DeleteStillWorks", func(t *testing.T) {
		r, err := f.s.BulkChangeTokens(ctx, f.account.ID, []string{on.ID, off.ID}, ActionDelete, f.actor)
		if err != nil || len(r.Changed) != 2 {
			t.Fatalf("bulk delete = %+v, %v", r, err)
		}
	})
}

func TestDeleteToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	keep, keepSecret := f.createToken(t, "keep")
	tok, secret := f.createToken(t, "doomed", f.modules[0])

	t.Run("ErrOtherAccount", func(t *testing.T) {
		other := f.createAccount(t, "Other")
		if _, err := f.s.DeleteToken(ctx, other.ID, tok.ID, f.actor); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete from another account = %v, want ErrNotFound", err)
		}
		if _, err := f.s.TokenByID(ctx, f.account.ID, tok.ID); err != nil {
			t.Fatalf("token gone after a refused delete: %v", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		f.clock.Add(time.Minute)
		got, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor)
		if err != nil || got.Name != "doomed" {
			t.Fatalf("DeleteToken = %q, %v", got.Name, err)
		}
	})
	t.Run("GoneEverywhere", func(t *testing.T) {
		if _, err := f.s.TokenByID(ctx, f.account.ID, tok.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("TokenByID after delete = %v, want ErrNotFound", err)
		}
		if _, err := f.s.TokenBySecret(ctx, secret); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted secret authenticates: %v", err)
		}
		page := f.list(t, f.account.ID, TokenFilter{})
		if page.Total != 1 || page.Tokens[0].ID != keep.ID {
			t.Errorf("list after delete: %+v, want only %s", page.Tokens, keep.ID)
		}
		if _, err := f.s.TokenBySecret(ctx, keepSecret); err != nil {
			t.Errorf("the other token stopped working: %v", err)
		}
	})
	t.Run("ErrTwice", func(t *testing.T) {
		if _, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete = %v, want ErrNotFound", err)
		}
	})
	t.Run("ErrCannotBeReEnabled", func(t *testing.T) {
		if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusActive, f.actor); !errors.Is(err, ErrNotFound) {
			t.Fatalf("enable after delete = %v, want ErrNotFound", err)
		}
		// Not even a statement past the store's own checks changes a
		// tombstone: the trigger refuses any update, not just a new status.
		if _, err := f.s.write.Exec(`UPDATE tokens SET name = 'revived' WHERE id = ?`, tok.ID); err == nil ||
			!strings.Contains(err.Error(), "deleted token is final") {
			t.Fatalf("renaming a deleted token = %v, want the trigger's refusal", err)
		}
	})
	t.Run("TombstoneKeepsHistoryNotSecrets", func(t *testing.T) {
		var digest, sealed []byte
		var deletedAt int64
		var deletedBy string
		err := f.s.read.QueryRow(`SELECT secret_digest, secret_ciphertext, deleted_at, deleted_by FROM tokens WHERE id = ?`, tok.ID).
			Scan(&digest, &sealed, &deletedAt, &deletedBy)
		if err != nil {
			t.Fatal(err)
		}
		if digest != nil || sealed != nil {
			t.Error("the tombstone still holds secret material")
		}
		if deletedBy != f.admin.ID || deletedAt != f.clock.Now().UnixMilli() {
			t.Errorf("deleted by %s at %d, want %s at %d", deletedBy, deletedAt, f.admin.ID, f.clock.Now().UnixMilli())
		}
		events := f.auditEvents(t, f.account.ID, tok.ID)
		if len(events) != 2 || events[0].Action != AuditDeleted || events[1].Action != AuditCreated {
			t.Errorf("audit trail %+v, want deleted then created", events)
		}
	})
}

func TestDeleteTokenConcurrently(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for round := range 10 {
		tok, _ := f.createToken(t, "race")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { _, errs[i] = f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor) })
		}
		wg.Wait()
		ok, notFound := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrNotFound):
				notFound++
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if ok != 1 || notFound != 1 {
			t.Fatalf("round %d: %d successes and %d not-found, want 1 and 1", round, ok, notFound)
		}
		events := f.auditEvents(t, f.account.ID, tok.ID)
		deleted := 0
		for _, e := range events {
			if e.Action == AuditDeleted {
				deleted++
			}
		}
		if deleted != 1 {
			t.Fatalf("round %d: %d 'deleted' events, want 1", round, deleted)
		}
	}
}

// TestChangeReason keeps the reason a person gives for a change in the
// change's audit event, and refuses one too long without changing anything.
func TestChangeReason(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		tok, _ := f.createToken(t, "leaked")
		if _, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor.WithReason("  Rotated after a leak ")); err != nil {
			t.Fatal(err)
		}
		events := f.auditEvents(t, f.account.ID, tok.ID)
		if got := events[0]; got.Action != AuditDeleted || got.Reason != "Rotated after a leak" {
			t.Fatalf("latest event %s with reason %q", got.Action, got.Reason)
		}
		if events[1].Reason != "" {
			t.Fatalf("the creation has reason %q", events[1].Reason)
		}
	})
	t.Run("ErrTooLong", func(t *testing.T) {
		tok, _ := f.createToken(t, "kept")
		_, _, err := f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusDisabled, f.actor.WithReason(strings.Repeat("é", MaxReason+1)))
		var v *ValidationError
		if !errors.As(err, &v) || v.Fields["reason"] == "" {
			t.Fatalf("a reason of %d characters: %v", MaxReason+1, err)
		}
		if got := f.tokenByID(t, f.account.ID, tok.ID); got.Status != StatusActive {
			t.Fatalf("status %s after a refused change", got.Status)
		}
	})
	t.Run("ErrNotOneLine", func(t *testing.T) {
		if _, err := CheckReason("one\nline"); err == nil {
			t.Fatal("a reason with a line break was taken")
		}
	})
}
