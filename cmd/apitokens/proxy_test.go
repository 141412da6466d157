package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"apitokens/web"
)

func TestParseTrustedProxies(t *testing.T) {
	cases := []struct {
		in   string
		want []netip.Prefix
	}{
		{"", nil},
		{"false", nil},
		{"true", web.LoopbackProxies},
		{"1", web.LoopbackProxies},
		{"10.0.0.0/8", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		{"10.1.2.3/8, 192.0.2.7,2001:db8::/32", []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32"),
		}},
	}
	for _, tc := range cases {
		got, err := parseTrustedProxies(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseTrustedProxies(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy", "10.0.0.1,", "fe80::1%eth0"} {
		if _, err := parseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), "is neither") {
			t.Errorf("parseTrustedProxies(%q) = %v, want it refused", bad, err)
		}
	}
}

func TestTrustProxyFromEnvironment(t *testing.T) {
	t.Setenv("APITOKENS_TRUST_PROXY", "10.0.0.0/8,nonsense")
	_, err := cli(t, "", "serve", "--db", t.TempDir()+"/x.db")
	if err == nil || !strings.Contains(err.Error(), `APITOKENS_TRUST_PROXY: "nonsense" is neither`) {
		t.Fatalf("err = %v", err)
	}
}
