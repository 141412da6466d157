package store

import (
	"bytes"
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
		out, err := NormalizeLogo(data)
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
