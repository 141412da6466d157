package store

import (
	"strings"
	"testing"
)

func TestRedactSecrets(t *testing.T) {
	secret := newSecret("TKN-2722-9687")
	cases := []struct{ name, in, want string }{
		{"Nothing", "/public/v1/accounts/api-tokens", "/public/v1/accounts/api-tokens"},
		{"Path", "/public/v1/accounts/api-tokens/" + secret, "/public/v1/accounts/api-tokens/" + Redacted},
		{"Query", "q=" + secret + "&x=1", "q=" + Redacted + "&x=1"},
		{"Twice", secret + " " + secret, Redacted + " " + Redacted},
		{"CutShort", "token " + secret[:20] + ".", "token " + Redacted + "."},
		{"BadChecksum", secret[:len(secret)-1] + "!", Redacted + "!"},
		{"AnyCase", strings.ToUpper(secret), Redacted},
		{"PercentEncoded", "/x/" + strings.ReplaceAll(secret, "_", "%5F") + "/y", "/x/" + Redacted + "/y"},
		{"PrefixAlone", "apitk", "apitk"},
		{"Word", "apitkX", "apitkX"},
		{"AlreadyRedacted", Redacted, Redacted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactSecrets(tc.in); got != tc.want {
				t.Fatalf("RedactSecrets(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
