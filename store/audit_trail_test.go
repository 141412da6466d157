package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// auditTrailFixture is an account with three tokens and a history: created
// by the administrator from a browser, one renamed and disabled through the
// API by another token, and another account with a token of its own.
type auditTrailFixture struct {
	*fixture
	sync, export, bot Token
	theirs            Token
	theirAccount      Account
	browser           string
}

func newAuditTrailFixture(t *testing.T) *auditTrailFixture {
	t.Helper()
	f := &auditTrailFixture{fixture: newFixture(t), browser: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"}
	ctx := context.Background()
	f.actor = f.actor.WithUserAgent(f.browser)
	f.sync, _ = f.createToken(t, "Nightly sync")
	f.clock.Add(time.Hour)
	f.export, _ = f.createToken(t, "Invoice export")
	f.bot, _ = f.createToken(t, "Automation bot", f.modules[0])
	f.clock.Add(time.Hour)
	api := TokenActor(f.bot.ID, "198.51.100.7").WithUserAgent("curl/8.5.0")
	if _, _, err := f.s.UpdateToken(ctx, f.account.ID, f.sync.ID, TokenUpdate{Name: "Nightly sync 2", Only: []string{FieldName}}, api); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, f.sync.ID, StatusDisabled, api); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.theirAccount, err = f.s.CreateAccount(ctx, "Their account"); err != nil {
		t.Fatal(err)
	}
	them, err := f.s.CreateUser(ctx, NewUser{AccountID: f.theirAccount.ID, Email: "them@test.example", Name: "Their Admin", Role: RoleAdmin, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if f.theirs, _, err = f.s.CreateToken(ctx, NewToken{AccountID: f.theirAccount.ID, Name: "Nightly theirs"}, UserActor(them.ID, "203.0.113.1")); err != nil {
		t.Fatal(err)
	}
	return f
}

// trail is AuditTrail; an error fails the test.
func (f *auditTrailFixture) trail(t *testing.T, fl AuditFilter) AuditPage {
	t.Helper()
	page, err := f.s.AuditTrail(context.Background(), f.account.ID, fl)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// summary is each event as "action token", newest first.
func summary(events []AuditEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Action + " " + e.TokenName
	}
	return out
}

func TestAuditTrail(t *testing.T) {
	f := newAuditTrailFixture(t)
	everything := []string{"disabled Nightly sync 2", "updated Nightly sync 2", "created Automation bot", "created Invoice export", "created Nightly sync 2"}
	cases := []struct {
		name   string
		filter AuditFilter
		want   []string
	}{
		{"All", AuditFilter{}, everything},
		{"ObjectByID", AuditFilter{Object: strings.ToLower(f.export.ID)}, []string{"created Invoice export"}},
		{"ObjectByName", AuditFilter{Object: "nightly"}, []string{"disabled Nightly sync 2", "updated Nightly sync 2", "created Nightly sync 2"}},
		{"ObjectLikeIsLiteral", AuditFilter{Object: "%"}, []string{}},
		{"Actor", AuditFilter{ActorID: f.bot.ID}, []string{"disabled Nightly sync 2", "updated Nightly sync 2"}},
		{"Event", AuditFilter{Action: AuditCreated}, everything[2:]},
		{"From", AuditFilter{From: f.clock.Now().Add(-90 * time.Minute)}, everything[:4]},
		{"To", AuditFilter{To: f.clock.Now().Add(-90 * time.Minute)}, everything[4:]},
		{"Token", AuditFilter{TokenID: f.sync.ID, Action: AuditUpdated}, []string{"updated Nightly sync 2"}},
		{"Page", AuditFilter{Offset: 2, Limit: 2}, everything[2:4]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page := f.trail(t, tc.filter)
			if got := summary(page.Events); !slices.Equal(got, tc.want) {
				t.Errorf("events %q, want %q", got, tc.want)
			}
			if tc.filter.Limit == 0 && page.Total != len(tc.want) {
				t.Errorf("total %d, want %d", page.Total, len(tc.want))
			}
		})
	}
	t.Run("PageTotal", func(t *testing.T) {
		if page := f.trail(t, AuditFilter{Offset: 2, Limit: 2}); page.Total != len(everything) {
			t.Errorf("total %d, want every matching event, %d", page.Total, len(everything))
		}
	})
	t.Run("WhoAndFrom", func(t *testing.T) {
		events := f.trail(t, AuditFilter{}).Events
		byAPI, byPerson := events[0], events[4]
		if byAPI.Actor != (UserRef{ID: f.bot.ID, Name: "Automation bot"}) || byAPI.IP != "198.51.100.7" || byAPI.UserAgent != "curl/8.5.0" {
			t.Errorf("an API change reads %+v", byAPI)
		}
		if byPerson.Actor != (UserRef{ID: f.admin.ID, Name: "Ada Admin"}) || byPerson.IP != "192.0.2.1" || byPerson.UserAgent != f.browser {
			t.Errorf("a change on the pages reads %+v", byPerson)
		}
	})
	t.Run("ErrNotFoundInAnotherAccount", func(t *testing.T) {
		theirs := f.auditEvents(t, f.theirAccount.ID, f.theirs.ID)
		if len(theirs) != 1 {
			t.Fatalf("their token has %d events, want 1", len(theirs))
		}
		if _, err := f.s.AuditEventByID(context.Background(), f.account.ID, theirs[0].ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("their event read from this account: %v, want ErrNotFound", err)
		}
		if page := f.trail(t, AuditFilter{Object: f.theirs.ID}); len(page.Events) != 0 || page.Total != 0 {
			t.Errorf("their token's events matched in this account: %+v", page)
		}
		mine := f.trail(t, AuditFilter{}).Events[0]
		if got, err := f.s.AuditEventByID(context.Background(), f.account.ID, mine.ID); err != nil || got.ID != mine.ID || got.UserAgent != "curl/8.5.0" {
			t.Errorf("AuditEventByID = %+v, %v", got, err)
		}
	})
	for _, tc := range []struct {
		name, field string
		filter      AuditFilter
	}{
		{"ErrUnknownEvent", "event", AuditFilter{Action: "exploded"}},
		{"ErrActorNotAnID", "actor", AuditFilter{ActorID: "admin"}},
		{"ErrToBeforeFrom", "to", AuditFilter{From: f.clock.Now(), To: f.clock.Now().Add(-time.Hour)}},
		{"ErrPageTooLarge", "page", AuditFilter{Limit: MaxAuditPage + 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.AuditTrail(context.Background(), f.account.ID, tc.filter)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
				t.Errorf("error %v, want a message on %q", err, tc.field)
			}
		})
	}
}

// TestAuditUserAgent: the browser is kept with every event, cut to a
// length that cannot fill the database and cleaned of what could disturb
// a page or a log.
func TestAuditUserAgent(t *testing.T) {
	f := newFixture(t)
	ua := "Mozilla/5.0\x00\u202e (evil)\n" + strings.Repeat("é", 2*MaxUserAgent)
	f.actor = f.actor.WithUserAgent(ua)
	tok, _ := f.createToken(t, "Agent")
	if _, err := f.s.RevealSecret(context.Background(), f.account.ID, tok.ID, f.actor); err != nil {
		t.Fatal(err)
	}
	events := f.auditEvents(t, f.account.ID, tok.ID)
	if len(events) != 2 {
		t.Fatalf("%d events, want 2", len(events))
	}
	for _, e := range events {
		got := e.UserAgent
		if !strings.HasPrefix(got, "Mozilla/5.0 (evil)é") || utf8.RuneCountInString(got) > MaxUserAgent || !utf8.ValidString(got) {
			t.Errorf("%s event keeps the browser as %q (%d characters)", e.Action, got, utf8.RuneCountInString(got))
		}
	}
}

// TestAuditTrailPlans asks SQLite how it runs every read of the audit
// trail, with each filter: none may read a whole table or index, and the
// account's trail is read through the index that starts with the account.
func TestAuditTrailPlans(t *testing.T) {
	f := newAuditTrailFixture(t)
	var seen []tracedQuery
	f.s.hooks.query = func(q string, args []any) { seen = append(seen, tracedQuery{q, slices.Clone(args)}) }
	for _, fl := range []AuditFilter{
		{}, {Limit: 25, Offset: 25}, {Object: f.sync.ID}, {Object: "sync"}, {ActorID: f.admin.ID},
		{Action: AuditDeleted}, {From: f.clock.Now().Add(-time.Hour), To: f.clock.Now()},
		{TokenID: f.sync.ID, Limit: 25},
	} {
		f.trail(t, fl)
	}
	if _, err := f.s.AuditEventByID(context.Background(), f.account.ID, 1); err != nil {
		t.Fatal(err)
	}
	f.s.hooks.query = nil
	if len(seen) != 17 {
		t.Fatalf("%d statements traced, want 17", len(seen))
	}
	for _, q := range seen {
		checkPlan(t, f.s, q)
		_, plan, err := fullScans(f.s, q)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(plan, func(line string) bool { return strings.HasPrefix(line, "SEARCH e ") })
		if i < 0 || !strings.Contains(plan[i], "audit_events_account (account_id=?") &&
			!strings.Contains(plan[i], "audit_events_token (token_id=?") && !strings.Contains(plan[i], "INTEGER PRIMARY KEY (rowid=?)") {
			t.Errorf("the events are not read through an index that starts with the account (or the token)\n%s\nplan:\n  %s",
				q.query, strings.Join(plan, "\n  "))
		}
		// One token's history (its details page) is read along the
		// token's index, never by walking the account's events.
		if strings.Contains(q.query, "e.token_id = ?") && (i < 0 || !strings.Contains(plan[i], "audit_events_token (token_id=?")) {
			t.Errorf("one token's events are not read through the token's index\n%s\nplan:\n  %s", q.query, strings.Join(plan, "\n  "))
		}
	}
}
