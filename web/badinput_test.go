package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBadNames sends every kind of bad name through the Edit form: each is
// a 422 with a clear message, and the stored token does not change.
func TestBadNames(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Original")
	c := app.signedIn(t, app.admin)
	editPath := tokensPath + "/" + tok.ID + "/edit"
	cases := []struct {
		name, value, want string
	}{
		{"Empty", "", "Name is required."},
		{"WhitespaceOnly", " \t\u00a0\u3000", "Name is required."},
		{"ZeroWidthOnly", "\u200b\u200d\ufeff", "Name is required."},
		{"201Characters", strings.Repeat("ü", 201), "Name must be at most 200 characters."},
		{"10KB", strings.Repeat("x", 10<<10), "Name must be at most 200 characters."},
		{"RightToLeftOverride", "report\u202Egpj.exe", "Name contains characters that are not allowed."},
		{"InvalidUTF8", "bad\xff\xfename", "Name contains characters that are not allowed."},
		{"NUL", "a\x00b", "Name contains characters that are not allowed."},
	}
	for _, tc := range cases {
		t.Run("Err"+tc.name, func(t *testing.T) {
			res := c.submit(editPath, editPath, url.Values{"name": {tc.value}, "description": {"kept"}})
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), tc.want) {
				t.Fatalf("status %d, want 422 with %q:\n%.500s", res.status, tc.want, res.text())
			}
			if got, _ := app.store.TokenByID(context.Background(), app.account.ID, tok.ID); got.Name != "Original" {
				t.Fatalf("the token is now named %q", got.Name)
			}
		})
	}
	t.Run("200CharactersOK", func(t *testing.T) {
		name := strings.Repeat("ü", 200)
		if res := c.submit(editPath, editPath, url.Values{"name": {name}}); res.status != http.StatusSeeOther {
			t.Fatalf("status %d, want 303:\n%.300s", res.status, res.text())
		}
		if got, _ := app.store.TokenByID(context.Background(), app.account.ID, tok.ID); got.Name != name {
			t.Fatalf("name %q not saved", got.Name)
		}
	})
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		res := c.submit(editPath, editPath, url.Values{"name": {"x"}, "description": {strings.Repeat("d", 70<<10)}})
		if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.text(), "What was sent is too large.") ||
			!strings.Contains(res.text(), "Sign out") {
			t.Fatalf("status %d, want 413:\n%.300s", res.status, res.text())
		}
	})
}

// TestBadCredentials: odd Authorization headers are refused like any wrong
// token, with the same 401 body, and never a 5xx.
func TestBadCredentials(t *testing.T) {
	app := newTestApp(t)
	_, secret := app.managerToken("Real")
	cases := []struct {
		name string
		auth []string
	}{
		{"8KBHeader", []string{"Bearer " + secret + strings.Repeat("A", 8<<10)}},
		{"CyrillicPrefix", []string{"Bearer " + strings.Replace(secret, "a", "а", 1)}},
		{"FullWidthPrefix", []string{"Bearer ａpitk_" + secret[len("apitk_"):]}},
		{"TwoHeaders", []string{"Bearer " + secret, "Bearer " + secret}},
	}
	var first []byte
	for _, tc := range cases {
		t.Run("Err"+tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, app.url+"/public/v1/accounts/api-tokens", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tc.auth {
				req.Header.Add("Authorization", a)
			}
			req.Header.Set("X-Forwarded-For", "198.51.100."+string(rune('1'+len(tc.name)%8)))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body bytes.Buffer
			body.ReadFrom(res.Body)
			if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
				t.Fatalf("status %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
			if first == nil {
				first = body.Bytes()
			} else if !bytes.Equal(first, body.Bytes()) {
				t.Fatalf("a different body from the other rejections:\n%s\n%s", body.Bytes(), first)
			}
		})
	}
	if strings.Contains(app.logs.String(), secret) {
		t.Fatal("a secret reached the log")
	}
}
