package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"apitokens/store"
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
		{"RightToLeftOverride", "report\u202Egpj.exe", "Name contains a character that changes the direction of text (U+202E), which is not allowed."},
		{"RightToLeftMark", "pay\u200Froll", "Name contains a character that changes the direction of text (U+200F), which is not allowed."},
		{"LeftToRightMark", "pay\u200Eroll", "Name contains a character that changes the direction of text (U+200E), which is not allowed."},
		{"ArabicLetterMark", "pay\u061Croll", "Name contains a character that changes the direction of text (U+061C), which is not allowed."},
		{"InvalidUTF8", "bad\xff\xfename", "Name contains characters that are not allowed."},
		{"NUL", "a\x00b", "Name contains an invisible control character (U+0000), which is not allowed."},
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
		if res := c.submit(editPath, editPath, url.Values{"name": {name}, "no_modules": {"1"}}); res.status != http.StatusSeeOther {
			t.Fatalf("status %d, want 303:\n%.300s", res.status, res.text())
		}
		if got, _ := app.store.TokenByID(context.Background(), app.account.ID, tok.ID); got.Name != name {
			t.Fatalf("name %q not saved", got.Name)
		}
	})
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		// Edit takes a logo, so its limit is the wizard's: only a logo
		// makes a form that large.
		res := c.submit(editPath, editPath, url.Values{"name": {"x"}, "description": {strings.Repeat("d", store.MaxLogoBytes+1<<20)}})
		if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.text(), "The logo is far over its limit") ||
			!strings.Contains(res.text(), "Sign out") {
			t.Fatalf("status %d, want 413:\n%.300s", res.status, res.text())
		}
	})
}

// TestBadDescriptions sends descriptions through the Edit form: a control
// character is a 422 that names it, and the stored token does not change;
// the form's line breaks (CRLF) and tabs are kept, as line breaks.
func TestBadDescriptions(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Original")
	c := app.signedIn(t, app.admin)
	editPath := tokensPath + "/" + tok.ID + "/edit"
	for _, tc := range []struct{ name, value, want string }{
		{"Escape", "red \x1b[31malert", "Description contains an invisible control character (U+001B), which is not allowed; line breaks and tabs are."},
		{"C1", "a\u009bb", "Description contains an invisible control character (U+009B), which is not allowed; line breaks and tabs are."},
		{"Isolate", "a\u2067b", "Description contains a character that changes the direction of text (U+2067), which is not allowed."},
	} {
		t.Run("Err"+tc.name, func(t *testing.T) {
			res := c.submit(editPath, editPath, url.Values{"name": {"Renamed"}, "description": {tc.value}})
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), tc.want) {
				t.Fatalf("status %d, want 422 with %q:\n%.500s", res.status, tc.want, res.text())
			}
			if got, _ := app.store.TokenByID(context.Background(), app.account.ID, tok.ID); got.Name != "Original" || got.Description != "" {
				t.Fatalf("the token is now %q: %q", got.Name, got.Description)
			}
		})
	}
	t.Run("LinesAndTabsOK", func(t *testing.T) {
		res := c.submit(editPath, editPath, url.Values{"name": {"Original"}, "description": {"first\r\n\tsecond\r\n"}, "no_modules": {"1"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("status %d, want 303:\n%.300s", res.status, res.text())
		}
		if got, _ := app.store.TokenByID(context.Background(), app.account.ID, tok.ID); got.Description != "first\n\tsecond\n" {
			t.Fatalf("description %q stored", got.Description)
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
			// The same but for the trace ID, which names each request.
			trace := res.Header.Get("X-Trace-Id")
			same := bytes.Replace(body.Bytes(), []byte(trace), nil, 1)
			if trace == "" || len(same) == body.Len() {
				t.Fatalf("the body lacks the request's trace ID %q:\n%s", trace, body.Bytes())
			}
			if first == nil {
				first = same
			} else if !bytes.Equal(first, same) {
				t.Fatalf("a different body from the other rejections:\n%s\n%s", same, first)
			}
		})
	}
	if strings.Contains(app.logs.String(), secret) {
		t.Fatal("a secret reached the log")
	}
}
