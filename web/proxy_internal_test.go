package web

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	s := &Server{trustedProxies: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ff::/48"),
	}}
	cases := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"NoProxy", "198.51.100.1:4000", []string{"203.0.113.5"}, "198.51.100.1"},
		{"ProxyWithoutHeader", "127.0.0.1:4000", nil, "127.0.0.1"},
		{"OneHop", "127.0.0.1:4000", []string{"198.51.100.2"}, "198.51.100.2"},
		{"MadeUpLeftOfTheHop", "127.0.0.1:4000", []string{"203.0.113.5, 198.51.100.2"}, "198.51.100.2"},
		{"ChainOfProxies", "127.0.0.1:4000", []string{"203.0.113.5, 198.51.100.2, 10.0.0.7"}, "198.51.100.2"},
		{"HeaderSentTwice", "127.0.0.1:4000", []string{"203.0.113.5", "198.51.100.2"}, "198.51.100.2"},
		{"GarbageLeftOfTheHop", "127.0.0.1:4000", []string{"garbage, 198.51.100.2"}, "198.51.100.2"},
		{"GarbageFromAProxy", "127.0.0.1:4000", []string{"203.0.113.5, garbage"}, "127.0.0.1"},
		{"EveryHopAProxy", "127.0.0.1:4000", []string{"10.0.0.9, 10.0.0.7"}, "10.0.0.9"},
		{"WithPort", "127.0.0.1:4000", []string{"198.51.100.2:5555"}, "198.51.100.2"},
		{"IPv6", "[2001:db8:ff::1]:4000", []string{"[2001:db8:1::5]"}, "2001:db8:1::5"},
		{"MappedIPv4", "[::ffff:127.0.0.1]:4000", []string{"::ffff:198.51.100.2"}, "198.51.100.2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientAddress(r); got != tc.want {
				t.Fatalf("client = %q, want %q", got, tc.want)
			}
		})
	}
}
