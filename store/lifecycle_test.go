package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"
)

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
		events, _ := f.s.AuditEvents(ctx, f.account.ID, tok.ID)
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
		before, _ := f.s.AuditEvents(ctx, f.account.ID, tok.ID)
		_, changed, err := f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{
			Name: "New name", Description: "Runs nightly", ModuleIDs: []string{f.modules[2].ID, f.modules[1].ID},
		}, f.actor)
		after, _ := f.s.AuditEvents(ctx, f.account.ID, tok.ID)
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
			got, _ := f.s.TokenByID(ctx, f.account.ID, tok.ID)
			if got.Name != "New name" || len(got.Modules) != 2 {
				t.Fatalf("a rejected update changed the token: %+v", got)
			}
		})
	}
	t.Run("ErrOtherAccount", func(t *testing.T) {
		other, _ := f.s.CreateAccount(ctx, "Other")
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

func TestRevealSecret(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret := f.createToken(t, "Reveal me")
	got, err := f.s.RevealSecret(ctx, f.account.ID, tok.ID, f.actor)
	if err != nil || got != secret {
		t.Fatalf("RevealSecret = %q, %v; want the issued secret", got, err)
	}
	events, _ := f.s.AuditEvents(ctx, f.account.ID, tok.ID)
	if len(events) != 2 || events[0].Action != AuditRevealed {
		t.Fatalf("events %+v, want 'revealed' on top", events)
	}
	for _, e := range events {
		if strings.Contains(e.Detail, secret) {
			t.Fatal("the audit trail holds the secret")
		}
	}
	other, _ := f.s.CreateAccount(ctx, "Other")
	if _, err := f.s.RevealSecret(ctx, other.ID, tok.ID, f.actor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another account: %v, want ErrNotFound", err)
	}
	f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor)
	if _, err := f.s.RevealSecret(ctx, f.account.ID, tok.ID, f.actor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted: %v, want ErrNotFound", err)
	}
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

func encodedImage(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestNormalizeLogo(t *testing.T) {
	t.Run("PNG", func(t *testing.T) {
		out, err := NormalizeLogo(encodedImage(t, "png", 64, 32))
		if err != nil {
			t.Fatal(err)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
		if err != nil || format != "png" || cfg.Width != 64 || cfg.Height != 32 {
			t.Fatalf("normalized: %s %dx%d, %v", format, cfg.Width, cfg.Height, err)
		}
	})
	t.Run("JPEGScaledDown", func(t *testing.T) {
		out, err := NormalizeLogo(encodedImage(t, "jpeg", 512, 256))
		if err != nil {
			t.Fatal(err)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
		if err != nil || format != "png" || cfg.Width != LogoSize || cfg.Height != LogoSize/2 {
			t.Fatalf("normalized: %s %dx%d, %v", format, cfg.Width, cfg.Height, err)
		}
	})
	t.Run("MetadataDropped", func(t *testing.T) {
		in := encodedImage(t, "png", 8, 8)
		// A text chunk before IEND is still a valid PNG.
		body := []byte("tEXtComment\x00<script>alert(1)</script>")
		chunk := binary.BigEndian.AppendUint32(nil, uint32(len(body)-4))
		chunk = append(chunk, body...)
		chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(body))
		in = append(in[:len(in)-12:len(in)-12], append(chunk, in[len(in)-12:]...)...)
		if !bytes.Contains(in, []byte("<script>")) {
			t.Fatal("test file lacks its text chunk")
		}
		out, err := NormalizeLogo(in)
		if err != nil {
			t.Fatalf("a valid PNG with a text chunk was refused: %v", err)
		}
		if bytes.Contains(out, []byte("<script>")) {
			t.Fatal("the re-encoded logo kept the text chunk")
		}
	})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"ErrSVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)},
		{"ErrGIF", []byte("GIF89a\x01\x00\x01\x00")},
		{"ErrEmpty", nil},
		{"ErrTruncatedPNG", encodedImage(t, "png", 64, 64)[:40]},
		{"ErrTooLarge", append(encodedImage(t, "png", 8, 8), make([]byte, MaxLogoBytes)...)},
		{"ErrTooManyPixels", encodedImage(t, "png", MaxLogoPixels+1, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NormalizeLogo(tc.data)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields["logo"] == "" {
				t.Fatalf("err = %v, want a ValidationError on logo", err)
			}
		})
	}
	t.Run("StoredAndServed", func(t *testing.T) {
		f := newFixture(t)
		ctx := context.Background()
		logo, _ := NormalizeLogo(encodedImage(t, "png", 16, 16))
		tok, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "With logo", Logo: logo}, f.actor)
		if err != nil || !tok.HasLogo {
			t.Fatalf("CreateToken = %v, HasLogo %v", err, tok.HasLogo)
		}
		got, err := f.s.TokenLogo(ctx, f.account.ID, tok.ID)
		if err != nil || !bytes.Equal(got, logo) {
			t.Fatalf("TokenLogo = %d bytes, %v", len(got), err)
		}
		plain, _ := f.createToken(t, "No logo")
		if got, err := f.s.TokenLogo(ctx, f.account.ID, plain.ID); got != nil || err != nil {
			t.Fatalf("TokenLogo(no logo) = %d bytes, %v; want nil, nil", len(got), err)
		}
		f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor)
		if _, err := f.s.TokenLogo(ctx, f.account.ID, tok.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("TokenLogo(deleted) = %v, want ErrNotFound", err)
		}
	})
}

func TestConfirmPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id, err := f.s.CreateSession(ctx, f.admin.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	at, err := f.s.SessionConfirmedAt(ctx, id)
	if err != nil || !at.Equal(f.clock.Now()) {
		t.Fatalf("confirmed at sign-in: %v, %v", at, err)
	}
	f.clock.Add(20 * time.Minute)
	if err := f.s.ConfirmPassword(ctx, id, "wrong password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if at, _ := f.s.SessionConfirmedAt(ctx, id); at.Equal(f.clock.Now()) {
		t.Fatal("a wrong password counted as a confirmation")
	}
	if err := f.s.ConfirmPassword(ctx, id, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if at, _ := f.s.SessionConfirmedAt(ctx, id); !at.Equal(f.clock.Now()) {
		t.Fatalf("confirmed at %v, want now", at)
	}
	if err := f.s.ConfirmPassword(ctx, "no such session", "correct horse"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	t.Run("IdleEnds", func(t *testing.T) {
		id, _ := f.s.CreateSession(ctx, f.admin.ID, 12*time.Hour)
		// Used every 50 minutes, it lives on past the idle timeout…
		for range 3 {
			f.clock.Add(50 * time.Minute)
			if _, err := f.s.SessionUser(ctx, id); err != nil {
				t.Fatalf("a session in use ended: %v", err)
			}
		}
		// …and ends after an hour without use.
		f.clock.Add(SessionIdleTimeout)
		if _, err := f.s.SessionUser(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("idle session: %v, want ErrNotFound", err)
		}
	})
	t.Run("AbsoluteEnds", func(t *testing.T) {
		id, _ := f.s.CreateSession(ctx, f.admin.ID, 2*time.Hour)
		for range 4 {
			f.clock.Add(29 * time.Minute)
			if _, err := f.s.SessionUser(ctx, id); err != nil {
				t.Fatalf("session ended early: %v", err)
			}
		}
		f.clock.Add(5 * time.Minute) // 2 h 1 min after sign-in, in use all along
		if _, err := f.s.SessionUser(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session past its absolute expiry: %v, want ErrNotFound", err)
		}
	})
}

func TestRotateKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret := f.createToken(t, "Survives rotation")
	gone, _ := f.createToken(t, "Deleted before")
	f.s.DeleteToken(ctx, f.account.ID, gone.ID, f.actor)
	f.s.Close()
	reopen := func(t *testing.T, k Keys) *Store {
		t.Helper()
		s, err := Open(f.path, k)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	works := func(t *testing.T, s *Store) {
		t.Helper()
		if got, err := s.TokenBySecret(ctx, secret); err != nil || got.ID != tok.ID {
			t.Fatalf("TokenBySecret = %v, %v", got.ID, err)
		}
		if got, err := s.RevealSecret(ctx, f.account.ID, tok.ID, f.actor); err != nil || got != secret {
			t.Fatalf("RevealSecret = %v", err)
		}
	}
	fresh := randomKeys(t)

	t.Run("ErrWrongPreviousKeys", func(t *testing.T) {
		wrong := fresh
		wrong.Previous = ptr(randomKeys(t))
		if _, err := reopen(t, wrong).RotateKeys(ctx); err == nil {
			t.Fatal("rotating from keys that did not seal the secrets succeeded")
		}
		works(t, reopen(t, f.keys)) // and nothing changed
	})
	t.Run("ErrDigestKeyAlone", func(t *testing.T) {
		digestOnly := Keys{Digest: fresh.Digest, Encryption: f.keys.Encryption, Previous: ptr(f.keys)}
		if _, err := reopen(t, digestOnly).RotateKeys(ctx); err == nil {
			t.Fatal("rotating the digest key alone succeeded, leaving every digest under the old key")
		}
	})
	t.Run("MidRotationBothWork", func(t *testing.T) {
		both := fresh
		both.Previous = ptr(f.keys)
		works(t, reopen(t, both))
	})
	t.Run("Rotate", func(t *testing.T) {
		both := fresh
		both.Previous = ptr(f.keys)
		s := reopen(t, both)
		if n, err := s.RotateKeys(ctx); err != nil || n != 1 {
			t.Fatalf("RotateKeys = %d, %v; want 1 live token moved", n, err)
		}
		if n, err := s.RotateKeys(ctx); err != nil || n != 0 {
			t.Fatalf("second RotateKeys = %d, %v; want nothing left to move", n, err)
		}
		s.Close()
		works(t, reopen(t, fresh))
		if _, err := reopen(t, f.keys).TokenBySecret(ctx, secret); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the old keys still find the secret: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestUsers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.s.CreateUser(ctx, NewUser{AccountID: f.account.ID, Email: "bea@test.example", Name: "Bea Member", Role: RoleMember, Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	other, _ := f.s.CreateAccount(ctx, "Other")
	f.s.CreateUser(ctx, NewUser{AccountID: other.ID, Email: "x@other.example", Name: "Xavier Other", Role: RoleAdmin, Password: "correct horse"})
	users, err := f.s.Users(ctx, f.account.ID)
	if err != nil || len(users) != 2 || users[0].Name != "Ada Admin" || users[1].Name != "Bea Member" {
		t.Fatalf("Users = %+v, %v; want the account's two, by name", users, err)
	}
}
