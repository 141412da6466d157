package web_test

import (
	"net/http"
	"strings"
	"testing"

	"apitokens/store"
)

// TestSecretInAddressNotLogged: a secret pasted into an address, where it
// does not belong, is not written to the log.
func TestSecretInAddressNotLogged(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("Pasted")
	mistyped := badChecksum(secret)
	api := app.api(t, secret)
	api.get(apiTokens+"/"+secret).problem(t, http.StatusNotFound, "not-found")
	api.as("").get(apiTokens+"/"+secret).problem(t, http.StatusUnauthorized, "unauthorized")
	api.get(apiTokens+"/"+strings.ReplaceAll(mistyped, "_", "%5F")).problem(t, http.StatusNotFound, "not-found")
	page := app.signedIn(t, app.admin)
	if res := page.get(tokensPath + "/" + secret + "?q=" + secret); res.status != http.StatusNotFound {
		t.Fatalf("details of a secret = %d, want 404", res.status)
	}
	if res := page.get("/nowhere/" + mistyped); res.status != http.StatusNotFound {
		t.Fatalf("unknown address = %d, want 404", res.status)
	}
	logs := app.logs.String()
	random := secret[len(store.SecretPrefix)+9 : len(store.SecretPrefix)+29] // after the ID digits
	if strings.Contains(logs, random) || strings.Contains(logs, mistyped[len(store.SecretPrefix)+9:]) {
		t.Fatalf("the log holds a secret:\n%s", logs)
	}
	for _, want := range []string{
		"path=" + apiTokens + "/" + store.Redacted + " status=404",
		"path=" + apiTokens + "/" + store.Redacted + " status=401",
		"path=" + tokensPath + "/" + store.Redacted + " status=404",
		"path=/nowhere/" + store.Redacted + " status=404",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}
