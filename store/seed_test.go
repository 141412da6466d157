package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestSeedTokens(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		existing, _ := f.createToken(t, "made by hand", f.modules[0])
		// Several transactions, the last one partial.
		defer func(n int) { seedBatch = n }(seedBatch)
		seedBatch = 100
		res, err := f.s.SeedTokens(ctx, SeedOptions{AccountID: f.account.ID, CreatedBy: f.admin.ID, Count: 250})
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 250 {
			t.Fatalf("created %d, want 250", res.Created)
		}
		page, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 251 {
			t.Fatalf("listed %d tokens, want 251", page.Total)
		}
		// Newest first: seeded tokens date from before the seed, so the
		// hand-made token stays on top; the returned ones are the oldest.
		if page.Tokens[0].ID != existing.ID {
			t.Fatalf("top of the list is %s, want %s", page.Tokens[0].ID, existing.ID)
		}
		top := page.Tokens[1]
		if top.ID == res.Active.ID || top.ID == res.Disabled.ID {
			t.Fatalf("second in the list is %s, a returned token", top.ID)
		}
		if len(top.Modules) == 0 || top.CreatedBy.ID != f.admin.ID || top.CreatedBy.Name != f.admin.Name {
			t.Fatalf("top token %+v: want modules and the admin as creator", top)
		}
		events, err := f.s.AuditEvents(ctx, f.account.ID, top.ID)
		if err != nil || len(events) == 0 || events[len(events)-1].Action != AuditCreated {
			t.Fatalf("audit trail %+v, %v: want a created event", events, err)
		}

		got, err := f.s.TokenBySecret(ctx, res.Active.Secret)
		if err != nil || got.ID != res.Active.ID {
			t.Fatalf("active secret authenticates as %q, %v; want %s", got.ID, err, res.Active.ID)
		}
		full, err := f.s.TokenByID(ctx, f.account.ID, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range full.Modules {
			names = append(names, m.Name)
		}
		if !strings.Contains(strings.Join(names, ","), "Access management") {
			t.Fatalf("active token's modules %v lack Access management", names)
		}
		if _, err := f.s.TokenBySecret(ctx, res.Disabled.Secret); !errors.Is(err, ErrNotFound) {
			t.Fatalf("disabled secret: err = %v, want ErrNotFound", err)
		}
		dis, err := f.s.TokenByID(ctx, f.account.ID, res.Disabled.ID)
		if err != nil || dis.State(f.s.Now()) != StateDisabled {
			t.Fatalf("disabled token %+v, %v", dis, err)
		}
		events, err = f.s.AuditEvents(ctx, f.account.ID, dis.ID)
		if err != nil || len(events) != 2 || events[0].Action != AuditDisabled || events[1].Action != AuditCreated ||
			events[0].IP != "seed" || events[1].Actor.ID != f.admin.ID || !events[1].At.Equal(dis.CreatedAt) {
			t.Fatalf("disabled token's audit trail %+v, %v: want disabled, then created when it was, by the admin from seed", events, err)
		}
		// Seeded secrets are sealed like any other: the ciphertext opens.
		revealed, err := f.s.RevealSecret(ctx, f.account.ID, res.Active.ID, f.actor)
		if err != nil || revealed != res.Active.Secret {
			t.Fatalf("reveal: %v (matches: %v)", err, revealed == res.Active.Secret)
		}
		// A seeded token deletes like any other.
		if _, err := f.s.DeleteToken(ctx, f.account.ID, top.ID, f.actor); err != nil {
			t.Fatal(err)
		}
		// A second seed of the same account adds more, with fresh IDs.
		again, err := f.s.SeedTokens(ctx, SeedOptions{AccountID: f.account.ID, CreatedBy: f.admin.ID, Count: 10})
		if err != nil || again.Active.ID == res.Active.ID {
			t.Fatalf("second seed: %+v, %v", again, err)
		}
	})
	t.Run("ErrCount", func(t *testing.T) {
		f := newFixture(t)
		for _, n := range []int{-1, 0, 1, MaxSeedTokens + 1} {
			_, err := f.s.SeedTokens(ctx, SeedOptions{AccountID: f.account.ID, CreatedBy: f.admin.ID, Count: n})
			var v *ValidationError
			if !errors.As(err, &v) || v.Fields["count"] == "" {
				t.Fatalf("count %d: err = %v, want a validation error on count", n, err)
			}
		}
	})
	t.Run("ErrCreatorNotAnAdminOfTheAccount", func(t *testing.T) {
		f := newFixture(t)
		member, err := f.s.CreateUser(ctx, NewUser{AccountID: f.account.ID, Email: "m@test.example", Name: "M", Role: RoleMember, Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.s.CreateAccount(ctx, "Other")
		if err != nil {
			t.Fatal(err)
		}
		for name, o := range map[string]SeedOptions{
			"member":        {AccountID: f.account.ID, CreatedBy: member.ID, Count: 5},
			"other account": {AccountID: other.ID, CreatedBy: f.admin.ID, Count: 5},
			"unknown":       {AccountID: f.account.ID, CreatedBy: "USR-0000-0000", Count: 5},
		} {
			if _, err := f.s.SeedTokens(ctx, o); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: err = %v, want ErrNotFound", name, err)
			}
		}
		page, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{})
		if err != nil || page.Total != 0 {
			t.Fatalf("tokens after refused seeds: %d, %v", page.Total, err)
		}
	})
}

func TestSeedDemo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	seeded, err := f.s.SeedDemo(ctx)
	if err != nil || !seeded {
		t.Fatalf("SeedDemo = %v, %v", seeded, err)
	}
	acc, err := f.s.AccountByName(ctx, DemoAccount.AccountName)
	if err != nil {
		t.Fatal(err)
	}
	page := f.list(t, acc.ID, TokenFilter{})
	states := map[TokenState]int{}
	creators := map[string]bool{}
	for _, tok := range page.Tokens {
		states[tok.State(f.clock.Now())]++
		creators[tok.CreatedBy.ID] = true
	}
	if page.Total < 10 || states[StateActive] == 0 || states[StateDisabled] == 0 || len(creators) < 2 {
		t.Fatalf("demo has %d tokens, states %v, %d creators", page.Total, states, len(creators))
	}
	if _, err := f.s.Authenticate(ctx, DemoAccount.AdminEmail, DemoAccount.Password); err != nil {
		t.Fatalf("demo administrator cannot sign in: %v", err)
	}
	again, err := f.s.SeedDemo(ctx)
	if err != nil || again {
		t.Fatalf("second SeedDemo = %v, %v; want false, nil", again, err)
	}
}

// BenchmarkSecretLookup is the API's authentication path — parse, digest,
// look-up — in a database of 100,000 tokens, for a valid, a disabled, an
// unknown (well-formed) and a garbage secret.
func BenchmarkSecretLookup(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	res, err := f.s.SeedTokens(ctx, SeedOptions{AccountID: f.account.ID, CreatedBy: f.admin.ID, Count: 100_000})
	if err != nil {
		b.Fatal(err)
	}
	unknown := newSecret("TKN-0000-0001")
	cases := []struct {
		name, secret string
		ok           bool
	}{
		{"Valid", res.Active.Secret, true},
		{"Disabled", res.Disabled.Secret, false},
		{"Unknown", unknown, false},
		{"Garbage", "apitk_not-a-secret-at-all", false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, err := f.s.TokenBySecret(ctx, c.secret)
				if (err == nil) != c.ok {
					b.Fatalf("err = %v", err)
				}
			}
		})
	}
}

// BenchmarkSeedTokens seeds an account with 20,000 tokens, in two
// transactions, each time into a fresh database.
func BenchmarkSeedTokens(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b)
		b.StartTimer()
		if _, err := f.s.SeedTokens(ctx, SeedOptions{AccountID: f.account.ID, CreatedBy: f.admin.ID, Count: 20_000}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := f.s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
