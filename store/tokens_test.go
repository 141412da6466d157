package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCreateToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		tok, secret := f.createToken(t, "  CI pipeline  ", f.modules[0], f.modules[1], f.modules[0])
		if !tokenIDPattern(tok.ID) {
			t.Errorf("ID %q is not TKN-NNNN-NNNN", tok.ID)
		}
		if tok.Name != "CI pipeline" {
			t.Errorf("name %q, want it trimmed", tok.Name)
		}
		if len(tok.Modules) != 2 {
			t.Errorf("modules %v, want the two distinct ones", tok.Modules)
		}
		if tok.CreatedBy != (UserRef{ID: f.admin.ID, Name: "Ada Admin"}) {
			t.Errorf("created by %+v", tok.CreatedBy)
		}
		if tok.State(f.clock.Now()) != StateActive {
			t.Errorf("state %s, want Active", tok.State(f.clock.Now()))
		}
		if id, err := ParseSecret(secret); err != nil || id != tok.ID {
			t.Errorf("issued secret does not parse to its token: %q, %v", id, err)
		}
		got, err := f.s.TokenBySecret(ctx, secret)
		if err != nil || got.ID != tok.ID {
			t.Errorf("TokenBySecret = %v, %v; want %s", got.ID, err, tok.ID)
		}
		events := f.auditEvents(t, f.account.ID, tok.ID)
		if len(events) != 1 || events[0].Action != AuditCreated || events[0].IP != "192.0.2.1" {
			t.Errorf("audit events %+v, want one 'created' from 192.0.2.1", events)
		}
	})
	cases := []struct {
		name, field string
		token       NewToken
	}{
		{"ErrNameRequired", "name", NewToken{Name: ""}},
		{"ErrNameWhitespace", "name", NewToken{Name: " \t\n"}},
		{"ErrNameTooLong", "name", NewToken{Name: strings.Repeat("é", MaxTokenName+1)}},
		{"ErrNameInvalidUTF8", "name", NewToken{Name: "bad\xffname"}},
		{"ErrNameNUL", "name", NewToken{Name: "a\x00b"}},
		{"ErrNameControl", "name", NewToken{Name: "line\nbreak"}},
		{"ErrNameRightToLeftOverride", "name", NewToken{Name: "invoice\u202Efdp.exe"}},
		{"ErrNameZeroWidthOnly", "name", NewToken{Name: "\u200B\u200C\uFEFF"}},
		{"ErrNameLeftToRightMark", "name", NewToken{Name: "pay\u200Eroll"}},
		{"ErrNameRightToLeftMark", "name", NewToken{Name: "pay\u200Froll"}},
		{"ErrNameArabicLetterMark", "name", NewToken{Name: "pay\u061Croll"}},
		{"ErrDescriptionIsolate", "description", NewToken{Name: "ok", Description: "a\u2067b"}},
		{"ErrDescriptionEscape", "description", NewToken{Name: "ok", Description: "plain \x1b[31mred"}},
		{"ErrDescriptionC1", "description", NewToken{Name: "ok", Description: "a\u009bb"}},
		{"ErrDescriptionDelete", "description", NewToken{Name: "ok", Description: "a\x7fb"}},
		{"ErrDescriptionNUL", "description", NewToken{Name: "ok", Description: "a\x00b"}},
		{"ErrDescriptionTooLong", "description", NewToken{Name: "ok", Description: strings.Repeat("x", MaxTokenDescription+1)}},
		{"ErrModuleUnknown", "modules", NewToken{Name: "ok", ModuleIDs: []string{"MOD-0000-0000"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.token.AccountID = f.account.ID
			before := f.list(t, f.account.ID, TokenFilter{})
			_, _, err := f.s.CreateToken(ctx, tc.token, f.actor)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
				t.Fatalf("err = %v, want a ValidationError on %s", err, tc.field)
			}
			after := f.list(t, f.account.ID, TokenFilter{})
			if after.Total != before.Total {
				t.Fatalf("a rejected token was stored: %d tokens, had %d", after.Total, before.Total)
			}
		})
	}
	t.Run("NameOf200CharactersOK", func(t *testing.T) {
		f.createToken(t, strings.Repeat("é", MaxTokenName))
	})
	t.Run("DescriptionLinesAndTabsOK", func(t *testing.T) {
		tok, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "lines",
			Description: "from a form\r\n\tindented\rold Mac\nand right-to-left: \u05e9\u200F."}, f.actor)
		if want := "from a form\n\tindented\nold Mac\nand right-to-left: \u05e9\u200F."; err != nil || tok.Description != want {
			t.Fatalf("description %q, %v; want %q", tok.Description, err, want)
		}
	})
	t.Run("NameWithJoinedEmojiOK", func(t *testing.T) {
		if tok, _ := f.createToken(t, "\u200Bdev 👩\u200D💻\u200B"); tok.Name != "dev 👩\u200D💻" {
			t.Fatalf("name %q, want the invisible ends trimmed and the joiner kept", tok.Name)
		}
	})
	t.Run("ErrModuleOfAnotherAccount", func(t *testing.T) {
		other, err := f.s.CreateAccount(ctx, "Other")
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := f.s.Modules(ctx, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "x", ModuleIDs: []string{theirs[0].ID}}, f.actor)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("err = %v, want a ValidationError", err)
		}
	})
}

func TestCreateTokenExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	for _, tc := range []struct {
		name    string
		expires time.Time
		ok      bool
	}{
		{"Never", time.Time{}, true},
		{"In30Days", now.AddDate(0, 0, 30), true},
		{"ErrPast", now.Add(-time.Second), false},
		{"ErrNow", now, false},
		{"ErrTooFar", now.Add(MaxExpiry + time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: tc.name, ExpiresAt: tc.expires}, f.actor)
			var ve *ValidationError
			if tc.ok {
				if err != nil || !tok.ExpiresAt.Equal(tc.expires) {
					t.Fatalf("CreateToken = %v, expires %v", err, tok.ExpiresAt)
				}
				return
			}
			if !errors.As(err, &ve) || ve.Fields["expires"] == "" {
				t.Fatalf("err = %v, want a ValidationError on expires", err)
			}
		})
	}
}

func TestUpdateToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, _ := f.createToken(t, "Old name", f.modules[0])
	t.Run("OK", func(t *testing.T) {
		f.clock.Add(time.Minute)
		got, changed, err := f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{
			Name: " New name ", Description: "Runs nightly", ModuleIDs: []string{f.modules[1].ID, f.modules[2].ID},
		}, f.actor)
		if err != nil || !changed {
			t.Fatalf("UpdateToken = %v, changed %v", err, changed)
		}
		if got.Name != "New name" || got.Description != "Runs nightly" || len(got.Modules) != 2 {
			t.Fatalf("updated token %+v", got)
		}
		if !got.UpdatedAt.Equal(f.clock.Now()) || got.UpdatedBy.ID != f.admin.ID {
			t.Fatalf("updated at %v by %+v", got.UpdatedAt, got.UpdatedBy)
		}
		events := f.auditEvents(t, f.account.ID, tok.ID)
		if len(events) != 2 || events[0].Action != AuditUpdated {
			t.Fatalf("events %+v, want 'updated' on top", events)
		}
		want := []FieldChange{
			{Field: "name", Old: "Old name", New: "New name"},
			{Field: "description", Old: "", New: "Runs nightly"},
			{Field: "modules", Old: f.modules[0].Name, New: f.modules[1].Name + ", " + f.modules[2].Name},
		}
		if len(events[0].Changes) != len(want) {
			t.Fatalf("changes %+v, want %+v", events[0].Changes, want)
		}
		for i := range want {
			if events[0].Changes[i] != want[i] {
				t.Errorf("change %d = %+v, want %+v", i, events[0].Changes[i], want[i])
			}
		}
	})
	t.Run("NoChangeWritesNothing", func(t *testing.T) {
		before := f.auditEvents(t, f.account.ID, tok.ID)
		_, changed, err := f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{
			Name: "New name", Description: "Runs nightly", ModuleIDs: []string{f.modules[2].ID, f.modules[1].ID},
		}, f.actor)
		after := f.auditEvents(t, f.account.ID, tok.ID)
		if err != nil || changed || len(after) != len(before) {
			t.Fatalf("UpdateToken = %v, changed %v, events %d → %d", err, changed, len(before), len(after))
		}
	})
	cases := []struct {
		name, field string
		update      TokenUpdate
	}{
		{"ErrNameRequired", "name", TokenUpdate{Name: "  "}},
		{"ErrNameTooLong", "name", TokenUpdate{Name: strings.Repeat("x", MaxTokenName+1)}},
		{"ErrDescriptionTooLong", "description", TokenUpdate{Name: "ok", Description: strings.Repeat("x", MaxTokenDescription+1)}},
		{"ErrModuleUnknown", "modules", TokenUpdate{Name: "ok", ModuleIDs: []string{"MOD-0000-0000"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.s.UpdateToken(ctx, f.account.ID, tok.ID, tc.update, f.actor)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
				t.Fatalf("err = %v, want a ValidationError on %s", err, tc.field)
			}
			got := f.tokenByID(t, f.account.ID, tok.ID)
			if got.Name != "New name" || len(got.Modules) != 2 {
				t.Fatalf("a rejected update changed the token: %+v", got)
			}
		})
	}
	t.Run("ErrOtherAccount", func(t *testing.T) {
		other := f.createAccount(t, "Other")
		if _, _, err := f.s.UpdateToken(ctx, other.ID, tok.ID, TokenUpdate{Name: "x"}, f.actor); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("ErrDeleted", func(t *testing.T) {
		if _, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Name: "x"}, f.actor); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "short-lived",
		ExpiresAt: f.clock.Now().Add(time.Hour)}, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.TokenBySecret(ctx, secret); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	f.clock.Add(time.Hour)
	if st := tok.State(f.clock.Now()); st != StateExpired {
		t.Fatalf("state %s at expiry, want Expired", st)
	}
	if _, err := f.s.TokenBySecret(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an expired token authenticates: %v", err)
	}
}

// TestActorSaysWhatItIs: a change is recorded only for an actor whose ID is
// of its kind, so that the trail never names a token as a user or the
// other way round.
func TestActorSaysWhatItIs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, _ := f.createToken(t, "Named right")
	before := f.queryInt(t, `SELECT COUNT(*) FROM audit_events`)
	for _, by := range []Actor{
		{Kind: ActorUser, ID: tok.ID},
		{Kind: ActorToken, ID: f.actor.ID},
		{ID: f.actor.ID},
	} {
		if _, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "Misnamed"}, by); err == nil {
			t.Errorf("CreateToken by %+v succeeded", by)
		}
		if _, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, by); err == nil {
			t.Errorf("DeleteToken by %+v succeeded", by)
		}
	}
	if after := f.queryInt(t, `SELECT COUNT(*) FROM audit_events`); after != before {
		t.Fatalf("%d audit events were recorded for misnamed actors", after-before)
	}
	if f.tokenByID(t, f.account.ID, tok.ID).Status != StatusActive {
		t.Fatal("a misnamed actor deleted the token")
	}
	if _, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, TokenActor(tok.ID, "192.0.2.1")); err != nil {
		t.Fatalf("a token deleting itself through the API: %v", err)
	}
}

// TestGrantable: a token made or changed on behalf of another token gets
// only modules that token has; what the changed token has already may stay.
func TestGrantable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	by := UserActor(f.admin.ID, "192.0.2.1")
	held := f.modules[:1]
	t.Run("CreateWithin", func(t *testing.T) {
		if _, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "ok", ModuleIDs: []string{held[0].ID}, Grantable: held}, by); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrCreateBeyond", func(t *testing.T) {
		_, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "more", ModuleIDs: []string{f.modules[1].ID}, Grantable: held}, by)
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Fields["modules"], f.modules[1].ID) {
			t.Fatalf("err %v, want a message on modules naming %s", err, f.modules[1].ID)
		}
	})
	wide, _ := f.createToken(t, "wide", f.modules[0], f.modules[1])
	update := func(ids ...string) error {
		_, _, err := f.s.UpdateToken(ctx, f.account.ID, wide.ID, TokenUpdate{ModuleIDs: ids, Only: []string{FieldModules}, Grantable: held}, by)
		return err
	}
	if err := update(f.modules[0].ID, f.modules[1].ID); err != nil {
		t.Fatalf("keeping what the token has: %v", err)
	}
	if err := update(f.modules[0].ID); err != nil {
		t.Fatalf("taking a module away: %v", err)
	}
	if err := update(f.modules[0].ID, f.modules[1].ID); err == nil {
		t.Fatal("a module taken away was given back by a token without it")
	}
	if got := f.tokenByID(t, f.account.ID, wide.ID); len(got.Modules) != 1 {
		t.Fatalf("modules %+v", got.Modules)
	}
}

// TestLookupsOfTextNeverStored looks up IDs and addresses with a NUL or
// bytes that are not UTF-8, as an address bar or a form can send them:
// nothing is found, on PostgreSQL too, whose text cannot hold them.
func TestLookupsOfTextNeverStored(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.createToken(t, "Stored")
	ctx := context.Background()
	for _, id := range []string{tok.ID + "\x00", "TKN-\xff\xfe-0000", "\x00"} {
		if _, err := f.s.TokenByID(ctx, f.account.ID, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("TokenByID(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if _, err := f.s.Authenticate(ctx, "admin@test.example\x00", "correct horse"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Authenticate with a NUL = %v, want ErrInvalidCredentials", err)
	}
}
