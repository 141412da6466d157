package store

import (
	"bytes"
	"context"
	"errors"
	"image"
	"strings"
	"testing"
)

// FuzzParseSecret: no input panics; whatever parses has the exact shape of
// an issued secret and names a well-formed token ID; a changed character
// of a real secret never parses.
func FuzzParseSecret(f *testing.F) {
	valid := newSecret("TKN-1234-5678")
	for _, s := range []string{valid, "", "apitk_", "apitk_12345678_", valid[:len(valid)-1], "ghp_abc", "аpitk_" + valid[6:], valid + "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseSecret(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedSecret) || id != "" {
				t.Fatalf("ParseSecret(%q) = %q, %v", s, id, err)
			}
			return
		}
		if len(s) != SecretLength || !strings.HasPrefix(s, SecretPrefix) || !tokenIDPattern(id) {
			t.Fatalf("ParseSecret accepted %q as token %q", s, id)
		}
		if s != valid && s[len(s)-secretChecksumSize:] != checksum(s[:len(s)-secretChecksumSize]) {
			t.Fatalf("accepted %q with a wrong checksum", s)
		}
	})
}

// FuzzNormalizeLogo: no upload panics or slips through undecoded; whatever
// is accepted comes out as a small PNG.
func FuzzNormalizeLogo(f *testing.F) {
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("\xff\xd8\xff\xe0"))
	f.Add([]byte(`<svg onload="alert(1)"/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := NormalizeLogo(t.Context(), data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields["logo"] == "" {
				t.Fatalf("error is not a message for the logo field: %v", err)
			}
			return
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
		if err != nil || format != "png" || cfg.Width > LogoSize || cfg.Height > LogoSize {
			t.Fatalf("accepted upload became %s %dx%d, %v", format, cfg.Width, cfg.Height, err)
		}
	})
}

// FuzzRQL: no filter or order panics or fails in SQL. Each is read,
// compiled and run against a real store: what is refused is a QueryError
// (a 400 that names the problem), and what is accepted lists without error.
func FuzzRQL(f *testing.F) {
	for _, s := range []string{
		"and(eq(id,'TKN-1234-5678'),eq(name,'E2E Seeded Token'))", "name=Buzz", "eq(status,Active)",
		"and(eq(status,Active),ilike(name,*sync*))", "any(modules,eq(id,MOD-1234-5678))", "in(status,(Active,Expired))",
		"not(or(ne(lastAccessAt,null()),gt(audit.created.at,'2026-01-31T23:00:00.000Z')))", `like(description,"a\**")`,
		"all(modules,ilike(name,*bill*))", "eq(modules,empty())", "eq(icon,null())", "ge(expiresAt,2026-01-01)",
	} {
		f.Add(s, "-audit.created.at,name")
	}
	f.Add("eq(name,'x", "status,-lastAccessAt")
	fx := newFixture(f)
	fx.createToken(f, "Sync job", fx.modules[0])
	fx.createToken(f, "Billing export")
	f.Fuzz(func(t *testing.T, expr, order string) {
		var fl TokenFilter
		err := fl.ApplyRQL([]string{expr})
		if err == nil && order != "" {
			err = fl.ApplyRQLOrder(order)
		}
		if err != nil {
			if _, ok := errors.AsType[*QueryError](err); !ok {
				t.Fatalf("%q, %q: error %v is not a QueryError", expr, order, err)
			}
			return
		}
		if _, err := fx.s.ListTokens(context.Background(), fx.account.ID, fl); err != nil {
			t.Fatalf("%q, %q: %v", expr, order, err)
		}
	})
}
