package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"apitokens/store/storetest"
)

// TestInterleavedStatusChanges races 1,000 enables, disables and deletes of
// one token. Exactly one delete wins, and once it has, the token never comes
// back: every later change is ErrNotFound and nothing else fails.
func TestInterleavedStatusChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret := f.createToken(t, "contested")
	var deletes atomic.Int64
	var deletedFlag atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range 1000 {
		wg.Go(func() {
			deletedBefore := deletedFlag.Load()
			var err error
			switch i % 3 {
			case 0:
				_, _, err = f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusDisabled, f.actor)
			case 1:
				_, _, err = f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusActive, f.actor)
			default:
				if i == 500 || deletedFlag.Load() {
					_, err = f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor)
					if err == nil {
						deletes.Add(1)
						deletedFlag.Store(true)
						return
					}
				} else {
					_, err = f.s.TokenByID(ctx, f.account.ID, tok.ID)
				}
			}
			switch {
			case errors.Is(err, ErrNotFound):
			case err != nil:
				errs <- err
			case deletedBefore:
				errs <- fmt.Errorf("change %d succeeded after the delete had returned", i)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("unexpected error: %v", err)
	}
	if deletes.Load() != 1 {
		t.Fatalf("%d deletes succeeded, want exactly 1", deletes.Load())
	}
	var status string
	if err := f.s.read.QueryRow(`SELECT status FROM tokens WHERE id = ?`, tok.ID).Scan(&status); err != nil || status != "deleted" {
		t.Fatalf("final status %q, %v; want deleted", status, err)
	}
	if _, err := f.s.TokenBySecret(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the secret still authenticates: %v", err)
	}
	events := f.auditEvents(t, f.account.ID, tok.ID)
	if events[0].Action != AuditDeleted {
		t.Fatalf("newest event %q, want deleted last", events[0].Action)
	}
	n := 0
	for _, e := range events {
		if e.Action == AuditDeleted {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d deleted events, want 1", n)
	}
}

// TestConcurrentCreates makes 50 tokens at once: 50 distinct IDs and secrets.
func TestConcurrentCreates(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids, secrets := map[string]bool{}, map[string]bool{}
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			tok, secret, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: fmt.Sprintf("parallel %d", i)}, f.actor)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			ids[tok.ID], secrets[secret] = true, true
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(ids) != 50 || len(secrets) != 50 {
		t.Fatalf("%d IDs and %d secrets, want 50 of each", len(ids), len(secrets))
	}
	for secret := range secrets {
		tok, err := f.s.TokenBySecret(ctx, secret)
		if err != nil || !ids[tok.ID] {
			t.Fatalf("secret does not find its token: %v", err)
		}
	}
}

// TestConcurrentPartialUpdates: one update sets only the name, another only
// the description, at once; both land.
func TestConcurrentPartialUpdates(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for round := range 20 {
		tok, _ := f.createToken(t, "before", f.modules[0])
		var wg sync.WaitGroup
		errs := make([]error, 2)
		name, description := fmt.Sprintf("name %d", round), fmt.Sprintf("description %d", round)
		wg.Go(func() {
			_, _, errs[0] = f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Name: name, Only: []string{FieldName}}, f.actor)
		})
		wg.Go(func() {
			_, _, errs[1] = f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Description: description, Only: []string{FieldDescription}}, f.actor)
		})
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v", round, errs)
		}
		got := f.tokenByID(t, f.account.ID, tok.ID)
		if got.Name != name || got.Description != description || len(got.Modules) != 1 {
			t.Fatalf("round %d: %q / %q / %d modules; an update was lost", round, got.Name, got.Description, len(got.Modules))
		}
	}
}

// TestPostgresRetriedTransactionsStartAgain fails transactions at their
// commit as a clash with another would (PostgreSQL's serialization
// failure), once each: the store runs them again, from the start, and the
// result is what one run would give.
func TestPostgresRetriedTransactionsStartAgain(t *testing.T) {
	f := newFixtureOn(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	defer func(n int, d time.Duration) { bulkChunk, bulkBudget = n, d }(bulkChunk, bulkBudget)
	bulkChunk, bulkBudget = 10, time.Hour // three chunks in one transaction
	var ids []string
	for i := range 30 {
		tok, _ := f.createToken(t, fmt.Sprintf("retried %d", i))
		ids = append(ids, tok.ID)
	}
	clashes := 0
	f.s.hooks.commit = func() error {
		if clashes++; clashes%2 == 1 {
			return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
		}
		return nil
	}
	res, err := f.s.BulkChangeTokens(ctx, f.account.ID, ids, ActionDisable, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	if clashes != 2 || len(res.Changed) != 30 || len(res.Skipped) != 0 {
		t.Fatalf("%d commits; changed %d, skipped %d; want 2 commits (one failed) and 30 changed once", clashes, len(res.Changed), len(res.Skipped))
	}
	if n := f.queryInt(t, `SELECT COUNT(*) FROM tokens WHERE account_id = ? AND status = 'disabled'`, f.account.ID); n != 30 {
		t.Fatalf("%d tokens disabled, want 30", n)
	}
	if n := f.queryInt(t, `SELECT COUNT(*) FROM audit_events WHERE account_id = ? AND action = 'disabled'`, f.account.ID); n != 30 {
		t.Fatalf("%d disable events, want 30", n)
	}

	name := "renamed once"
	tok, changed, err := f.s.UpdateToken(ctx, f.account.ID, ids[0], TokenUpdate{Name: name, Only: []string{FieldName}}, f.actor)
	if err != nil || !changed || tok.Name != name {
		t.Fatalf("UpdateToken = %+v, %v, %v", tok, changed, err)
	}
	if clashes != 4 {
		t.Fatalf("%d commits, want 4", clashes)
	}

	// Ending a previous secret whose first commit fails, by which time
	// its grace period is over: the second finds nothing to end, and says
	// so.
	f.s.hooks.commit = nil
	rotated, _ := f.createToken(t, "rotated")
	if _, _, err := f.s.RotateSecret(ctx, f.account.ID, rotated.ID, Rotation{Grace: time.Hour}, f.actor); err != nil {
		t.Fatal(err)
	}
	failed := false
	f.s.hooks.commit = func() error {
		if !failed {
			failed = true
			f.clock.Add(2 * time.Hour)
			return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
		}
		return nil
	}
	if _, ended, err := f.s.EndPreviousSecret(ctx, f.account.ID, rotated.ID, f.actor); err != nil || ended {
		t.Fatalf("EndPreviousSecret = %v, %v; want nothing ended: the grace period was over when it was written", ended, err)
	}
	if n := f.queryInt(t, `SELECT COUNT(*) FROM audit_events WHERE token_id = ? AND action = ?`, rotated.ID, AuditPreviousEnded); n != 0 {
		t.Fatalf("%d events of a previous secret ended", n)
	}
}
