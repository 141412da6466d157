package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	PasswordCost = bcrypt.MinCost
	if os.Getenv(crashChildEnv) != "" {
		// This process is the writer that TestCrashSafety kills.
		crashChild()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func randomKeys(t testing.TB) Keys {
	t.Helper()
	k := Keys{Digest: make([]byte, KeySize), Encryption: make([]byte, KeySize)}
	rand.Read(k.Digest)
	rand.Read(k.Encryption)
	return k
}

type fixture struct {
	s       *Store
	keys    Keys
	path    string
	clock   *clock
	account Account
	admin   User
	modules []Module
	actor   Actor
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	keys := randomKeys(t)
	s, err := Open(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s.Now = c.Now
	ctx := context.Background()
	acc, err := s.CreateAccount(ctx, "Test account")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := s.CreateUser(ctx, NewUser{AccountID: acc.ID, Email: "admin@test.example", Name: "Ada Admin", Role: RoleAdmin, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	mods, err := s.Modules(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, keys: keys, path: path, clock: c, account: acc, admin: admin, modules: mods,
		actor: UserActor(admin.ID, "192.0.2.1")}
}

func (f *fixture) createToken(t testing.TB, name string, modules ...Module) (Token, string) {
	t.Helper()
	n := NewToken{AccountID: f.account.ID, Name: name}
	for _, m := range modules {
		n.ModuleIDs = append(n.ModuleIDs, m.ID)
	}
	tok, secret, err := f.s.CreateToken(context.Background(), n, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	return tok, secret
}

func TestOpen(t *testing.T) {
	t.Run("MigrationsApplyOnce", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "m.db")
		keys := randomKeys(t)
		for range 2 {
			s, err := Open(path, keys)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := s.read.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			entries, _ := migrations.ReadDir("migrations")
			if n != len(entries) {
				t.Fatalf("schema_migrations has %d rows, want %d", n, len(entries))
			}
			s.Close()
		}
	})
	t.Run("Pragmas", func(t *testing.T) {
		f := newFixture(t)
		var mode string
		var sync, fk int
		f.s.write.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
		f.s.write.QueryRow(`PRAGMA synchronous`).Scan(&sync)
		f.s.write.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
		if mode != "wal" || sync != 2 || fk != 1 {
			t.Fatalf("journal_mode=%s synchronous=%d foreign_keys=%d, want wal 2 1", mode, sync, fk)
		}
	})
	t.Run("PathIsTakenLiterally", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "odd #1 100%41?.db")
		s, err := Open(path, randomKeys(t))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		info, err := os.Stat(path)
		if err != nil || info.Size() == 0 || info.Mode().Perm() != 0o600 {
			t.Fatalf("database at the given path: %v (mode %v)", err, info.Mode().Perm())
		}
	})
	t.Run("ErrShortKeys", func(t *testing.T) {
		_, err := Open(filepath.Join(t.TempDir(), "k.db"), Keys{Digest: []byte("short"), Encryption: make([]byte, KeySize)})
		if err == nil {
			t.Fatal("Open accepted a 5-byte digest key")
		}
	})
}

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
		events, _ := f.s.AuditEvents(ctx, f.account.ID, tok.ID)
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
		{"ErrDescriptionIsolate", "description", NewToken{Name: "ok", Description: "a\u2067b"}},
		{"ErrDescriptionTooLong", "description", NewToken{Name: "ok", Description: strings.Repeat("x", MaxTokenDescription+1)}},
		{"ErrModuleUnknown", "modules", NewToken{Name: "ok", ModuleIDs: []string{"MOD-0000-0000"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.token.AccountID = f.account.ID
			before, _ := f.s.ListTokens(ctx, f.account.ID, TokenFilter{})
			_, _, err := f.s.CreateToken(ctx, tc.token, f.actor)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
				t.Fatalf("err = %v, want a ValidationError on %s", err, tc.field)
			}
			after, _ := f.s.ListTokens(ctx, f.account.ID, TokenFilter{})
			if after.Total != before.Total {
				t.Fatalf("a rejected token was stored: %d tokens, had %d", after.Total, before.Total)
			}
		})
	}
	t.Run("NameOf200CharactersOK", func(t *testing.T) {
		f.createToken(t, strings.Repeat("é", MaxTokenName))
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
		theirs, _ := f.s.Modules(ctx, other.ID)
		_, _, err = f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "x", ModuleIDs: []string{theirs[0].ID}}, f.actor)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("err = %v, want a ValidationError", err)
		}
	})
}

func tokenIDPattern(id string) bool {
	if len(id) != 13 || !strings.HasPrefix(id, "TKN-") || id[8] != '-' {
		return false
	}
	for i, c := range id[4:] {
		if i != 4 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func TestParseSecret(t *testing.T) {
	valid := newSecret("TKN-0123-4567")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := []struct {
		name   string
		secret string
		ok     bool
	}{
		{"OK", valid, true},
		{"ErrEmpty", "", false},
		{"ErrWrongPrefix", "ghp_" + valid[len(SecretPrefix):], false},
		{"ErrTypoInBody", flip(valid, len(SecretPrefix)+3), false},
		{"ErrTypoInChecksum", flip(valid, len(valid)-1), false},
		{"ErrTooShort", valid[:len(valid)-1], false},
		{"ErrTooLong", valid + "a", false},
		{"ErrNotBase62", valid[:20] + "-" + valid[21:], false},
		{"ErrIDNotDigits", valid[:7] + "x" + valid[8:], false},
		{"ErrNoSeparator", valid[:14] + "a" + valid[15:], false},
		{"ErrLookAlikePrefix", "аpitk_" + valid[len(SecretPrefix):], false}, // Cyrillic а
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := ParseSecret(tc.secret)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseSecret(%q) = %v, want ok=%v", tc.secret, err, tc.ok)
			}
			if tc.ok && id != "TKN-0123-4567" {
				t.Fatalf("ParseSecret names token %q, want TKN-0123-4567", id)
			}
		})
	}
	t.Run("Unique", func(t *testing.T) {
		seen := map[string]bool{}
		for range 1000 {
			s := newSecret("TKN-0123-4567")
			if seen[s] {
				t.Fatalf("secret %s issued twice", s)
			}
			seen[s] = true
		}
	})
}

func TestSecretBox(t *testing.T) {
	box, err := newSecretBox(randomKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	secret := newSecret("TKN-1111-2222")
	sealed := box.seal("TKN-1111-2222", secret)
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("sealed value contains the secret")
	}
	t.Run("OK", func(t *testing.T) {
		got, err := box.open("TKN-1111-2222", box.keyID, sealed)
		if err != nil || got != secret {
			t.Fatalf("open = %q, %v", got, err)
		}
	})
	t.Run("ErrOtherToken", func(t *testing.T) {
		if _, err := box.open("TKN-3333-4444", box.keyID, sealed); err == nil {
			t.Fatal("a ciphertext opened under another token's ID")
		}
	})
	t.Run("FreshNonce", func(t *testing.T) {
		if bytes.Equal(sealed, box.seal("TKN-1111-2222", secret)) {
			t.Fatal("sealing twice gave the same ciphertext")
		}
	})
}

func TestSecretNeverStoredInPlaintext(t *testing.T) {
	f := newFixture(t)
	var secrets []string
	for i := range 5 {
		_, secret := f.createToken(t, "token "+string(rune('A'+i)))
		secrets = append(secrets, secret)
	}
	files, _ := filepath.Glob(f.path + "*")
	if len(files) < 2 {
		t.Fatalf("expected the database and its WAL, found %v", files)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			// The random part alone must not appear either.
			random := s[len(SecretPrefix)+secretIDDigits+1:]
			if bytes.Contains(b, []byte(s)) || bytes.Contains(b, []byte(random[:20])) {
				t.Fatalf("%s contains an issued secret", filepath.Base(file))
			}
		}
	}
}

func TestListTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for i := range 7 {
		tok, _ := f.createToken(t, "t"+string(rune('0'+i)), f.modules[i%len(f.modules)])
		ids = append(ids, tok.ID)
		f.clock.Add(time.Minute)
	}
	other, _ := f.s.CreateAccount(ctx, "Other")
	if _, _, err := f.s.CreateToken(ctx, NewToken{AccountID: other.ID, Name: "theirs"}, f.actor); err != nil {
		t.Fatal(err)
	}
	t.Run("NewestFirstInPages", func(t *testing.T) {
		p1, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		p2, _ := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Limit: 4, Offset: 4})
		if p1.Total != 7 || len(p1.Tokens) != 4 || len(p2.Tokens) != 3 {
			t.Fatalf("pages of %d and %d, total %d; want 4, 3 of 7", len(p1.Tokens), len(p2.Tokens), p1.Total)
		}
		got := append(p1.Tokens, p2.Tokens...)
		for i, tok := range got {
			if want := ids[len(ids)-1-i]; tok.ID != want {
				t.Fatalf("position %d is %s, want %s", i, tok.ID, want)
			}
			if len(tok.Modules) != 1 {
				t.Fatalf("%s has modules %v, want one", tok.ID, tok.Modules)
			}
		}
	})
	t.Run("OnlyOwnAccount", func(t *testing.T) {
		p, _ := f.s.ListTokens(ctx, other.ID, TokenFilter{})
		if p.Total != 1 || p.Tokens[0].Name != "theirs" {
			t.Fatalf("other account lists %+v", p.Tokens)
		}
		if _, err := f.s.TokenByID(ctx, other.ID, ids[0]); !errors.Is(err, ErrNotFound) {
			t.Fatalf("TokenByID across accounts = %v, want ErrNotFound", err)
		}
	})
}

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
		events, _ := f.s.AuditEvents(ctx, f.account.ID, tok.ID)
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

func TestDeleteToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	keep, keepSecret := f.createToken(t, "keep")
	tok, secret := f.createToken(t, "doomed", f.modules[0])

	t.Run("ErrOtherAccount", func(t *testing.T) {
		other, _ := f.s.CreateAccount(ctx, "Other")
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
		page, _ := f.s.ListTokens(ctx, f.account.ID, TokenFilter{})
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
		events, _ := f.s.AuditEvents(ctx, f.account.ID, tok.ID)
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
		events, _ := f.s.AuditEvents(ctx, f.account.ID, tok.ID)
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

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cases := []struct {
		name, email, password string
		ok                    bool
	}{
		{"OK", "admin@test.example", "correct horse", true},
		{"OKEmailCaseAndSpaces", "  ADMIN@test.example ", "correct horse", true},
		{"ErrWrongPassword", "admin@test.example", "wrong horse", false},
		{"ErrUnknownEmail", "nobody@test.example", "correct horse", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := f.s.Authenticate(ctx, tc.email, tc.password)
			if tc.ok && (err != nil || u.ID != f.admin.ID) {
				t.Fatalf("Authenticate = %v, %v", u.ID, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("Authenticate = %v, want ErrInvalidCredentials", err)
			}
		})
	}
	t.Run("ErrDuplicateEmail", func(t *testing.T) {
		_, err := f.s.CreateUser(ctx, NewUser{AccountID: f.account.ID, Email: "Admin@Test.example", Name: "Again", Role: RoleMember, Password: "long enough"})
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("CreateUser with a taken email = %v, want ErrConflict", err)
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
	page, _ := f.s.ListTokens(ctx, acc.ID, TokenFilter{})
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

func TestSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id, err := f.s.CreateSession(ctx, f.admin.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		u, err := f.s.SessionUser(ctx, id)
		if err != nil || u.ID != f.admin.ID || u.AccountName != "Test account" {
			t.Fatalf("SessionUser = %+v, %v", u, err)
		}
	})
	t.Run("OnlyADigestIsStored", func(t *testing.T) {
		var n int
		f.s.read.QueryRow(`SELECT COUNT(*) FROM sessions WHERE digest = ?`, []byte(id)).Scan(&n)
		var stored int
		f.s.read.QueryRow(`SELECT COUNT(*) FROM sessions WHERE digest = ?`, sessionDigest(id)).Scan(&stored)
		if n != 0 || stored != 1 {
			t.Fatalf("raw ID rows %d, digest rows %d; want 0 and 1", n, stored)
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		if _, err := f.s.SessionUser(ctx, id+"x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SessionUser(unknown) = %v", err)
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		short, _ := f.s.CreateSession(ctx, f.admin.ID, time.Minute)
		f.clock.Add(time.Minute)
		if _, err := f.s.SessionUser(ctx, short); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SessionUser(expired) = %v", err)
		}
	})
	t.Run("ErrEnded", func(t *testing.T) {
		if err := f.s.EndSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SessionUser(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SessionUser(ended) = %v", err)
		}
		if err := f.s.EndSession(ctx, id); err != nil {
			t.Fatalf("ending twice = %v", err)
		}
	})
}
