package main

import (
	"fmt"
	"net/netip"
	"strings"

	"apitokens/web"
)

// proxiesFlag is --trust-proxy: the reverse proxies whose X-Forwarded-For
// names the client. It was once a plain switch, and still works as one:
// alone, or "true", it trusts a proxy on this machine (loopback) and no
// other, since a switch cannot say which addresses are proxies and trusting
// a whole private network would let anyone in it name any address.
type proxiesFlag struct {
	prefixes []netip.Prefix
	text     string
	// bare is set when the flag was given without a value.
	bare bool
	// err is why the value given is not a list of proxies; kept for serve
	// to report, since the flag package would call it a bad boolean.
	err error
}

func (f *proxiesFlag) String() string { return f.text }

func (f *proxiesFlag) Set(v string) error {
	f.prefixes, f.err = parseTrustedProxies(v)
	f.text, f.bare = v, v == "true"
	return nil
}

// IsBoolFlag lets --trust-proxy stand alone, as when it was a switch.
func (f *proxiesFlag) IsBoolFlag() bool { return true }

// parseTrustedProxies reads a list of address ranges and addresses
// separated by commas, or a switch's value: off, or loopback only.
func parseTrustedProxies(v string) ([]netip.Prefix, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no":
		return nil, nil
	case "1", "true", "yes":
		return web.LoopbackProxies, nil
	}
	var out []netip.Prefix
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(part); err == nil && a.Zone() == "" {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		return nil, fmt.Errorf("%q is neither an address range such as 10.0.0.0/8 nor an address such as 10.0.0.5", part)
	}
	return out, nil
}
