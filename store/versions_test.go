package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// secondInstance opens the fixture's database again, as another instance
// (or, on SQLite, another process) would, on the fixture's clock.
func (f *fixture) secondInstance(t *testing.T) *Store {
	t.Helper()
	second, err := Open(f.path, f.keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	second.Now = f.clock.Now
	return second
}

// rejectedFor is the reason TokenForCall gave, or "" when it let the
// secret in.
func rejectedFor(t *testing.T, s *Store, secret, address string) string {
	t.Helper()
	_, err := s.TokenForCall(context.Background(), secret, address)
	var rejected *SecretRejected
	switch {
	case err == nil:
		return ""
	case errors.As(err, &rejected):
		return rejected.Reason
	default:
		t.Fatal(err)
		return ""
	}
}

// TestKeptTokensFollowEveryInstance: a token that authenticated on one
// instance, and is kept there in memory, is refused there at the next call
// once another instance disabled, deleted, rotated or bound it elsewhere,
// and once it expires; its new modules show at once.
func TestKeptTokensFollowEveryInstance(t *testing.T) {
	ctx := context.Background()
	const address = "192.0.2.10"
	cases := []struct {
		name   string
		change func(t *testing.T, f *fixture, other *Store, tok Token)
		want   string // the reason the first instance now gives
	}{
		{"Disabled", func(t *testing.T, f *fixture, other *Store, tok Token) {
			if _, _, err := other.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusDisabled, f.actor); err != nil {
				t.Fatal(err)
			}
		}, RejectDisabled},
		{"Deleted", func(t *testing.T, f *fixture, other *Store, tok Token) {
			if _, err := other.DeleteToken(ctx, f.account.ID, tok.ID, f.actor); err != nil {
				t.Fatal(err)
			}
		}, RejectUnknown},
		{"RotatedWithoutGrace", func(t *testing.T, f *fixture, other *Store, tok Token) {
			if _, _, err := other.RotateSecret(ctx, f.account.ID, tok.ID, Rotation{}, f.actor); err != nil {
				t.Fatal(err)
			}
		}, RejectUnknown}, // without a grace period the previous secret is not kept
		{"BoundElsewhere", func(t *testing.T, f *fixture, other *Store, tok Token) {
			u := TokenUpdate{AllowedAddresses: []string{"198.51.100.0/24"}, Only: []string{FieldAddresses}}
			if _, _, err := other.UpdateToken(ctx, f.account.ID, tok.ID, u, f.actor); err != nil {
				t.Fatal(err)
			}
		}, RejectAddress},
		{"Expired", func(t *testing.T, f *fixture, other *Store, tok Token) {
			f.clock.Add(48 * time.Hour) // no write at all: the clock alone
		}, RejectExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			other := f.secondInstance(t)
			tok, secret, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "kept",
				ExpiresAt: f.clock.Now().Add(24 * time.Hour)}, f.actor)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second from memory
				if reason := rejectedFor(t, f.s, secret, address); reason != "" {
					t.Fatalf("before the change: rejected (%s)", reason)
				}
			}
			tc.change(t, f, other, tok)
			if got := rejectedFor(t, f.s, secret, address); got != tc.want {
				t.Errorf("after the change, the instance that kept the token says %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("EnabledAgain", func(t *testing.T) {
		f := newFixture(t)
		other := f.secondInstance(t)
		tok, secret := f.createToken(t, "kept")
		for _, status := range []TokenStatus{StatusDisabled, StatusActive} {
			if _, _, err := other.SetTokenStatus(ctx, f.account.ID, tok.ID, status, f.actor); err != nil {
				t.Fatal(err)
			}
			want := map[TokenStatus]string{StatusDisabled: RejectDisabled, StatusActive: ""}[status]
			if got := rejectedFor(t, f.s, secret, address); got != want {
				t.Errorf("after %s on the other instance: %q, want %q", status, got, want)
			}
		}
	})

	t.Run("ModulesChanged", func(t *testing.T) {
		f := newFixture(t)
		other := f.secondInstance(t)
		tok, secret := f.createToken(t, "kept", f.modules[0])
		if _, err := f.s.TokenForCall(ctx, secret, address); err != nil {
			t.Fatal(err)
		}
		f.list(t, f.account.ID, TokenFilter{}) // the account's modules kept too
		u := TokenUpdate{ModuleIDs: []string{f.modules[1].ID}, Only: []string{FieldModules}}
		if _, _, err := other.UpdateToken(ctx, f.account.ID, tok.ID, u, f.actor); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.TokenForCall(ctx, secret, address)
		if err != nil {
			t.Fatal(err)
		}
		if want := []Module{f.modules[1]}; !slices.Equal(got.Modules, want) {
			t.Errorf("modules of the token that called: %v, want %v", got.Modules, want)
		}
		page := f.list(t, f.account.ID, TokenFilter{})
		if len(page.Tokens) != 1 || !slices.Equal(page.Tokens[0].Modules, []Module{f.modules[1]}) {
			t.Errorf("the list shows %+v, want the token with %v", page.Tokens, f.modules[1])
		}
	})

	t.Run("PagesShowChange", func(t *testing.T) {
		f := newFixture(t)
		other := f.secondInstance(t)
		tok, _ := f.createToken(t, "before", f.modules[0])
		for range 2 { // the second from memory
			if got, err := f.s.TokenByID(ctx, f.account.ID, tok.ID); err != nil || got.Name != "before" {
				t.Fatalf("%q, %v", got.Name, err)
			}
			if page := f.list(t, f.account.ID, TokenFilter{}); len(page.Tokens) != 1 || page.Tokens[0].Name != "before" {
				t.Fatalf("list: %+v", page.Tokens)
			}
		}
		if _, _, err := other.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Name: "after", Only: []string{FieldName}}, f.actor); err != nil {
			t.Fatal(err)
		}
		if got, err := f.s.TokenByID(ctx, f.account.ID, tok.ID); err != nil || got.Name != "after" {
			t.Errorf("details after a rename on the other instance: %q, %v", got.Name, err)
		}
		if page := f.list(t, f.account.ID, TokenFilter{}); len(page.Tokens) != 1 || page.Tokens[0].Name != "after" {
			t.Errorf("list after a rename on the other instance: %+v", page.Tokens)
		}
		if _, err := other.DeleteToken(ctx, f.account.ID, tok.ID, f.actor); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.TokenByID(ctx, f.account.ID, tok.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("details after a delete on the other instance: %v, want ErrNotFound", err)
		}
		if page := f.list(t, f.account.ID, TokenFilter{}); len(page.Tokens) != 0 {
			t.Errorf("list after a delete on the other instance: %+v", page.Tokens)
		}
		if _, _, err := other.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "added elsewhere"}, f.actor); err != nil {
			t.Fatal(err)
		}
		if page := f.list(t, f.account.ID, TokenFilter{}); len(page.Tokens) != 1 || page.Total != 1 {
			t.Errorf("list after an add on the other instance: %d of %d", len(page.Tokens), page.Total)
		}
	})

	t.Run("CallerChangesNothingKept", func(t *testing.T) {
		f := newFixture(t)
		_, secret := f.createToken(t, "kept", f.modules[0])
		first, err := f.s.TokenForCall(ctx, secret, address)
		if err != nil {
			t.Fatal(err)
		}
		first.Modules[0].Name = "changed by a caller"
		again, err := f.s.TokenForCall(ctx, secret, address)
		if err != nil {
			t.Fatal(err)
		}
		if again.Modules[0] != f.modules[0] {
			t.Errorf("kept token changed through what a caller was given: %v", again.Modules[0])
		}
	})
}

// TestAccountVersionRisesWithEveryWrite: each kind of write that a page or
// a kept token shows raises the account's version, and reads do not.
func TestAccountVersionRisesWithEveryWrite(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	version := func() int64 {
		t.Helper()
		v, err := f.s.accountVersion(ctx, f.account.ID)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tok, secret := f.createToken(t, "counted", f.modules[0])
	steps := []struct {
		name  string
		write func() error
	}{
		{"update", func() error {
			_, _, err := f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Name: "renamed", Only: []string{FieldName}}, f.actor)
			return err
		}},
		{"modules", func() error {
			_, _, err := f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{ModuleIDs: []string{f.modules[1].ID}, Only: []string{FieldModules}}, f.actor)
			return err
		}},
		{"disable", func() error {
			_, _, err := f.s.SetTokenStatus(ctx, f.account.ID, tok.ID, StatusDisabled, f.actor)
			return err
		}},
		{"hidden columns", func() error { return f.s.SetHiddenColumns(ctx, f.admin.ID, []string{"calls"}) }},
		{"create", func() error {
			_, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "x"}, f.actor)
			return err
		}},
		{"delete", func() error { _, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor); return err }},
	}
	for _, step := range steps {
		before := version()
		if _, err := f.s.TokenBySecret(ctx, secret); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		f.list(t, f.account.ID, TokenFilter{})
		if version() != before {
			t.Fatalf("before %s: reads raised the version", step.name)
		}
		if err := step.write(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if after := version(); after <= before {
			t.Errorf("%s: version %d, before %d", step.name, after, before)
		}
	}
}

// TestVersionMemo: a request reads the account's version once and then
// sees the account as it was then; once it writes, it reads its write.
func TestVersionMemo(t *testing.T) {
	f := newFixture(t)
	other := f.secondInstance(t)
	tok, _ := f.createToken(t, "first")
	ctx := WithVersionMemo(context.Background())
	name := func() string {
		t.Helper()
		got, err := f.s.TokenByID(ctx, f.account.ID, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Name
	}
	rename := func(s *Store, ctx context.Context, to string) {
		t.Helper()
		if _, _, err := s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Name: to, Only: []string{FieldName}}, f.actor); err != nil {
			t.Fatal(err)
		}
	}
	if got := name(); got != "first" {
		t.Fatalf("%q", got)
	}
	rename(other, context.Background(), "second")
	if got := name(); got != "first" {
		t.Errorf("within the request, after another's write: %q, want the account as the request first read it", got)
	}
	rename(f.s, ctx, "third")
	if got := name(); got != "third" {
		t.Errorf("after the request's own write: %q, want %q", got, "third")
	}
	if got, err := f.s.TokenByID(context.Background(), f.account.ID, tok.ID); err != nil || got.Name != "third" {
		t.Errorf("the next request: %q, %v", got.Name, err)
	}
}

// forgetKept drops everything the store keeps, so that what follows reads
// as it would at first (tests that trace each statement).
func (s *Store) forgetKept() {
	s.secretsFound.drop()
	s.sessions.drop()
	s.modules.drop()
	s.users.drop()
	s.totals.drop()
	s.policyRuns.drop()
	s.rows.drop()
	s.tokenPages.drop()
	s.walks.drop()
}

// drop empties the map.
func (k *keptMap[V]) drop() {
	k.mu.Lock()
	k.m = nil
	k.mu.Unlock()
}

// TestKeptWalksByTheirArguments: two walks of one statement are kept apart
// whenever their arguments differ, even when the arguments' text, run
// together, is the same.
func TestKeptWalksByTheirArguments(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	describe := func(name, description string) Token {
		t.Helper()
		tok, _ := f.createToken(t, name)
		if _, _, err := f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Description: description, Only: []string{FieldDescription}}, f.actor); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	abC := describe("ab", "c")
	aBC := describe("a", "bc")
	walk := func(name, description string) []string {
		t.Helper()
		ids, err := f.s.walkRead(WithVersionMemo(ctx), f.account.ID, true,
			`SELECT t.id FROM tokens t WHERE t.account_id = ? AND t.name = ? AND t.description = ? ORDER BY t.id LIMIT ?`,
			[]any{f.account.ID, name, description, 10})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := walk("ab", "c"); !slices.Equal(got, []string{abC.ID}) {
		t.Fatalf("name ab, description c: %v, want %s", got, abC.ID)
	}
	if got := walk("a", "bc"); !slices.Equal(got, []string{aBC.ID}) {
		t.Errorf("name a, description bc, after the walk of ab and c was kept: %v, want %s", got, aBC.ID)
	}
}
