package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// bulkFixture has tokens in each state a bulk action meets: active ones, an
// already-disabled one, a deleted one, and another account's.
type bulkFixture struct {
	*fixture
	a, b, disabled, deleted, theirs           Token
	aSecret, bSecret, disabledSecret, theirsS string
	other                                     Account
}

func newBulkFixture(t *testing.T) *bulkFixture {
	t.Helper()
	f := &bulkFixture{fixture: newFixture(t)}
	ctx := context.Background()
	f.a, f.aSecret = f.createToken(t, "alpha", f.modules[0])
	f.b, f.bSecret = f.createToken(t, "bravo", f.modules[1], f.modules[2])
	f.disabled, f.disabledSecret = f.createToken(t, "charlie")
	if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, f.disabled.ID, StatusDisabled, f.actor); err != nil {
		t.Fatal(err)
	}
	f.deleted, _ = f.createToken(t, "delta")
	if _, err := f.s.DeleteToken(ctx, f.account.ID, f.deleted.ID, f.actor); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.other, err = f.s.CreateAccount(ctx, "Other"); err != nil {
		t.Fatal(err)
	}
	if f.theirs, f.theirsS, err = f.s.CreateToken(ctx, NewToken{AccountID: f.other.ID, Name: "theirs"}, f.actor); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestBulkEnableAndDisable(t *testing.T) {
	f := newBulkFixture(t)
	ctx := context.Background()
	missing := "TKN-0000-0000"
	t.Run("DisableWithPartialFailure", func(t *testing.T) {
		r, err := f.s.BulkChangeTokens(ctx, f.account.ID,
			[]string{f.a.ID, f.disabled.ID, f.deleted.ID, f.theirs.ID, missing, f.b.ID, f.a.ID, "garbage"}, ActionDisable, f.actor)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{f.a.ID, f.b.ID}; !slices.Equal(r.Changed, want) {
			t.Errorf("changed %v, want %v", r.Changed, want)
		}
		want := []BulkSkip{{f.disabled.ID, SkipAlreadyDisabled}, {f.deleted.ID, SkipDeleted},
			{f.theirs.ID, SkipNotFound}, {missing, SkipNotFound}, {"garbage", SkipNotFound}}
		if !slices.Equal(r.Skipped, want) {
			t.Errorf("skipped %v, want %v", r.Skipped, want)
		}
	})
	t.Run("OneAuditEventPerChangedToken", func(t *testing.T) {
		for _, id := range []string{f.a.ID, f.b.ID} {
			if got := f.actions(t, f.account.ID, id); !slices.Equal(got, []string{AuditDisabled, AuditCreated}) {
				t.Errorf("%s: audit %v, want disabled, created", id, got)
			}
		}
		if got := f.actions(t, f.account.ID, f.disabled.ID); !slices.Equal(got, []string{AuditDisabled, AuditCreated}) {
			t.Errorf("the already-disabled token got another event: %v", got)
		}
		if got := f.actions(t, f.other.ID, f.theirs.ID); !slices.Equal(got, []string{AuditCreated}) {
			t.Errorf("another account's token got an event: %v", got)
		}
	})
	t.Run("DisabledSecretsStopWorking", func(t *testing.T) {
		for _, secret := range []string{f.aSecret, f.bSecret} {
			if _, err := f.s.TokenBySecret(ctx, secret); !errors.Is(err, ErrNotFound) {
				t.Errorf("a disabled token authenticates: %v", err)
			}
		}
		if _, err := f.s.TokenBySecret(ctx, f.theirsS); err != nil {
			t.Errorf("another account's token stopped working: %v", err)
		}
	})
	t.Run("Enable", func(t *testing.T) {
		r, err := f.s.BulkChangeTokens(ctx, f.account.ID, []string{f.a.ID, f.disabled.ID}, ActionEnable, f.actor)
		if err != nil || !slices.Equal(r.Changed, []string{f.a.ID, f.disabled.ID}) || len(r.Skipped) != 0 {
			t.Fatalf("enable = %+v, %v", r, err)
		}
		if r, err = f.s.BulkChangeTokens(ctx, f.account.ID, []string{f.a.ID}, ActionEnable, f.actor); err != nil {
			t.Fatal(err)
		}
		if len(r.Changed) != 0 || !slices.Equal(r.Skipped, []BulkSkip{{f.a.ID, SkipAlreadyActive}}) {
			t.Fatalf("enable twice = %+v", r)
		}
		if _, err := f.s.TokenBySecret(ctx, f.aSecret); err != nil {
			t.Fatalf("an enabled token does not authenticate: %v", err)
		}
	})
	t.Run("ErrSelection", func(t *testing.T) {
		tooMany := make([]string, maxBulk+1)
		for i := range tooMany {
			tooMany[i] = fmt.Sprintf("TKN-%04d-%04d", i/10000, i%10000)
		}
		tooMany[0] = f.b.ID
		for name, ids := range map[string][]string{"Empty": nil, "TooMany": tooMany} {
			_, err := f.s.BulkChangeTokens(ctx, f.account.ID, ids, ActionEnable, f.actor)
			var v *ValidationError
			if !errors.As(err, &v) || v.Fields["selection"] == "" {
				t.Errorf("%s: %v, want a ValidationError", name, err)
			}
		}
		if tok := f.tokenByID(t, f.account.ID, f.b.ID); tok.Status != StatusDisabled {
			t.Error("a refused bulk action changed a token")
		}
	})
}

func TestBulkDelete(t *testing.T) {
	f := newBulkFixture(t)
	ctx := context.Background()
	r, err := f.s.BulkChangeTokens(ctx, f.account.ID, []string{f.deleted.ID, f.a.ID, f.theirs.ID, f.disabled.ID}, ActionDelete, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{f.a.ID, f.disabled.ID}; !slices.Equal(r.Changed, want) {
		t.Errorf("changed %v, want %v", r.Changed, want)
	}
	if want := []BulkSkip{{f.deleted.ID, SkipDeleted}, {f.theirs.ID, SkipNotFound}}; !slices.Equal(r.Skipped, want) {
		t.Errorf("skipped %v, want %v", r.Skipped, want)
	}
	t.Run("GoneEverywhere", func(t *testing.T) {
		for _, id := range r.Changed {
			if _, err := f.s.TokenByID(ctx, f.account.ID, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s after delete: %v", id, err)
			}
			if got := f.actions(t, f.account.ID, id); got[0] != AuditDeleted || len(slices.DeleteFunc(got, func(a string) bool { return a != AuditDeleted })) != 1 {
				t.Errorf("%s: audit %v, want one deleted event, newest", id, got)
			}
			var digest, sealed []byte
			var mods int
			if err := f.s.read.QueryRow(`SELECT secret_digest, secret_ciphertext, (SELECT COUNT(*) FROM token_modules WHERE token_id = id)
				FROM tokens WHERE id = ?`, id).Scan(&digest, &sealed, &mods); err != nil {
				t.Fatal(err)
			}
			if digest != nil || sealed != nil || mods != 0 {
				t.Errorf("%s: the tombstone keeps secret material or modules", id)
			}
		}
		for _, secret := range []string{f.aSecret, f.disabledSecret} {
			if _, err := f.s.TokenBySecret(ctx, secret); !errors.Is(err, ErrNotFound) {
				t.Errorf("a deleted token authenticates: %v", err)
			}
		}
		page := f.list(t, f.account.ID, TokenFilter{})
		if !slices.Equal(ids(page.Tokens), []string{f.b.ID}) || page.Total != 1 {
			t.Errorf("list after delete: %v of %d, want only %s", ids(page.Tokens), page.Total, f.b.ID)
		}
		for _, q := range []string{"alpha", "charlie"} {
			if page := f.list(t, f.account.ID, TokenFilter{Query: q}); page.Total != 0 {
				t.Errorf("a search for %q finds a deleted token", q)
			}
		}
		if _, err := f.s.TokenByID(ctx, f.other.ID, f.theirs.ID); err != nil {
			t.Errorf("another account's token: %v", err)
		}
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		var v *ValidationError
		if _, err := f.s.BulkChangeTokens(ctx, f.account.ID, []string{}, ActionDelete, f.actor); !errors.As(err, &v) {
			t.Fatalf("empty bulk delete = %v, want a ValidationError", err)
		}
	})
}

// TestBulkDeleteCommitsInBatches stops a bulk delete once its first
// transaction is committed: what it reports as changed is exactly what was
// deleted, in whole transactions, and other writers could write in between.
func TestBulkDeleteCommitsInBatches(t *testing.T) {
	f := newFixture(t)
	defer func(n int, d time.Duration) { bulkChunk, bulkBudget = n, d }(bulkChunk, bulkBudget)
	bulkChunk, bulkBudget = 20, 0 // a chunk per transaction
	all := seedMany(t, f, 16*bulkChunk)
	keep, _ := f.createToken(t, "written between batches")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// After its first transaction the bulk delete waits, in the hook,
	// until another writer has written and the delete is cancelled: the
	// write must get the lock between two batches.
	firstBatch, written := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.s.hooks.batch = func(int, time.Duration) {
		once.Do(func() {
			close(firstBatch)
			<-written
		})
	}
	var r BulkResult
	var err error
	finished := make(chan struct{})
	go func() {
		r, err = f.s.BulkChangeTokens(ctx, f.account.ID, all, ActionDelete, f.actor)
		close(finished)
	}()
	select {
	case <-firstBatch:
	case <-finished:
		t.Fatal("the bulk delete finished without a transaction of its own")
	case <-time.After(time.Minute):
		t.Fatal("no transaction of the bulk delete committed in a minute")
	}
	if _, _, werr := f.s.SetTokenStatus(context.Background(), f.account.ID, keep.ID, StatusDisabled, f.actor); werr != nil {
		t.Fatalf("a write between two batches of a bulk delete: %v", werr)
	}
	cancel()
	close(written)
	<-finished
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled bulk delete returned %v", err)
	}
	if n := len(r.Changed); n == 0 || n%bulkChunk != 0 || n == len(all) {
		t.Fatalf("%d changed: want whole transactions of %d, fewer than %d", n, bulkChunk, len(all))
	}
	deleted, err := scanStringsQuery(f.s, `SELECT id FROM tokens WHERE status = 'deleted' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	changed := slices.Sorted(slices.Values(r.Changed))
	if !slices.Equal(deleted, changed) {
		t.Fatalf("%d deleted, %d reported changed", len(deleted), len(changed))
	}
	events := f.queryInt(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'deleted'`)
	if events != len(changed) {
		t.Fatalf("%d delete events for %d deleted tokens", events, len(changed))
	}
	if !slices.Equal(r.Changed, all[:len(r.Changed)]) {
		t.Fatal("the changed tokens are not the first ones asked for")
	}
}

// TestCountersAndModuleBits checks what the triggers keep against what they
// summarise, after every kind of write.
func TestCountersAndModuleBits(t *testing.T) {
	f := newBulkFixture(t)
	ctx := context.Background()
	check := func(step string) {
		t.Helper()
		bad := f.queryInt(t, `SELECT COUNT(*) FROM (
			SELECT account_id, status, COUNT(*) AS n FROM tokens GROUP BY account_id, status
		) c FULL JOIN token_counts k USING (account_id, status) WHERE c.n IS DISTINCT FROM k.n AND NOT (c.n IS NULL AND k.n = 0)`)
		if bad != 0 {
			t.Errorf("%s: %d counters disagree with the tokens", step, bad)
		}
		bad = f.queryInt(t, `SELECT COUNT(*) FROM tokens t WHERE t.status != 'deleted' AND t.module_bits !=
			(SELECT CAST(COALESCE(SUM(CAST(1 AS BIGINT) << m.bit), 0) AS BIGINT) FROM token_modules tm JOIN modules m ON m.id = tm.module_id
			 WHERE tm.token_id = t.id)`)
		if bad != 0 {
			t.Errorf("%s: %d tokens' module bits disagree with their modules", step, bad)
		}
		bad = f.queryInt(t, `SELECT COUNT(*) FROM token_modules tm JOIN tokens t ON t.id = tm.token_id
			WHERE t.status = 'deleted'`)
		if bad != 0 {
			t.Errorf("%s: deleted tokens keep %d modules", step, bad)
		}
	}
	check("created")
	if _, _, err := f.s.UpdateToken(ctx, f.account.ID, f.a.ID, TokenUpdate{Name: "alpha 2",
		ModuleIDs: []string{f.modules[2].ID, f.modules[3].ID}}, f.actor); err != nil {
		t.Fatal(err)
	}
	check("updated")
	if _, err := f.s.BulkChangeTokens(ctx, f.account.ID, []string{f.a.ID, f.b.ID}, ActionDisable, f.actor); err != nil {
		t.Fatal(err)
	}
	check("disabled")
	if _, err := f.s.BulkChangeTokens(ctx, f.account.ID, []string{f.a.ID, f.disabled.ID}, ActionDelete, f.actor); err != nil {
		t.Fatal(err)
	}
	check("deleted")
	page := f.list(t, f.account.ID, TokenFilter{ModuleID: f.modules[2].ID})
	if !slices.Equal(ids(page.Tokens), []string{f.b.ID}) || page.Total != 1 {
		t.Errorf("module filter after the changes: %v of %d", ids(page.Tokens), page.Total)
	}
	if page := f.list(t, f.account.ID, TokenFilter{Query: "alpha 2"}); page.Total != 0 {
		t.Error("the search finds a renamed, then deleted token")
	}
	t.Run("AtMost63Modules", func(t *testing.T) {
		for i := len(f.modules); i < 63; i++ {
			f.exec(t, `INSERT INTO modules (id, account_id, key, name) VALUES (?, ?, ?, ?)`,
				fmt.Sprintf("MOD-9999-%04d", i), f.account.ID, fmt.Sprintf("module-%d", i), fmt.Sprintf("Module %d", i))
		}
		if _, err := f.s.write.Exec(`INSERT INTO modules (id, account_id, key, name) VALUES ('MOD-9999-9999', ?, 'one-too-many', 'One too many')`,
			f.account.ID); err == nil {
			t.Fatal("a 64th module was accepted")
		}
		highest := f.queryInt(t, `SELECT MAX(bit) FROM modules WHERE account_id = ?`, f.account.ID)
		tok, _ := f.createToken(t, "last module", Module{ID: "MOD-9999-0062"})
		page := f.list(t, f.account.ID, TokenFilter{ModuleID: "MOD-9999-0062"})
		if highest != 62 || !slices.Equal(ids(page.Tokens), []string{tok.ID}) {
			t.Fatalf("highest bit %d; module 63 lists %v, want %s", highest, ids(page.Tokens), tok.ID)
		}
	})
}

// TestBulkChangeTokens: the action says what happens to the tokens; a word
// that is no action changes nothing, rather than falling to some default.
func TestBulkChangeTokens(t *testing.T) {
	f := newBulkFixture(t)
	ctx := context.Background()
	if st := TokenAction("remove").Status(); st != "" {
		t.Fatalf("an unknown action gives status %q", st)
	}
	if _, err := f.s.BulkChangeTokens(ctx, f.account.ID, []string{f.a.ID}, TokenAction("remove"), f.actor); err == nil {
		t.Fatal("an unknown action was taken")
	}
	if got := f.tokenByID(t, f.account.ID, f.a.ID); got.Status != StatusActive {
		t.Fatalf("after an unknown action the token is %s", got.Status)
	}
	for _, tc := range []struct {
		action TokenAction
		want   TokenStatus
	}{{ActionDisable, StatusDisabled}, {ActionEnable, StatusActive}} {
		r, err := f.s.BulkChangeTokens(ctx, f.account.ID, []string{f.a.ID}, tc.action, f.actor)
		if err != nil || !slices.Equal(r.Changed, []string{f.a.ID}) {
			t.Fatalf("%s: %+v, %v", tc.action, r, err)
		}
		if got := f.tokenByID(t, f.account.ID, f.a.ID); got.Status != tc.want {
			t.Fatalf("%s: the token is %s, want %s", tc.action, got.Status, tc.want)
		}
	}
	r, err := f.s.BulkChangeTokens(ctx, f.account.ID, []string{f.a.ID}, ActionDelete, f.actor)
	if err != nil || !slices.Equal(r.Changed, []string{f.a.ID}) {
		t.Fatalf("delete: %+v, %v", r, err)
	}
	if _, err := f.s.TokenByID(ctx, f.account.ID, f.a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after a bulk delete: %v", err)
	}
}
