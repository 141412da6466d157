package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// clientAddress is the address a request comes from, which the request
// log, the limits and the audit trail record. Without trusted proxies it is
// the peer's. From a trusted proxy, X-Forwarded-For is read from the right,
// since each proxy appends the address it saw: the first address that is
// not itself a trusted proxy is the client's. Everything to the left of it
// was sent by the client and may be made up.
func (s *Server) clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	client := peer.Unmap()
	if !s.isTrustedProxy(client) {
		return client.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values(echo.HeaderXForwardedFor), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			// Not an address: no trusted proxy wrote it, so the last
			// one that did saw the client.
			break
		}
		client = hop
		if !s.isTrustedProxy(client) {
			break
		}
	}
	return client.String()
}

// parseHop reads one address of X-Forwarded-For, which some proxies write
// with a port or in brackets.
func parseHop(hop string) (netip.Addr, bool) {
	hop = strings.TrimSpace(hop)
	if ap, err := netip.ParseAddrPort(hop); err == nil {
		return ap.Addr().Unmap(), true
	}
	addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(hop, "["), "]"))
	return addr.Unmap(), err == nil
}

// isTrustedProxy reports whether addr is one of the proxies the operator
// named.
func (s *Server) isTrustedProxy(addr netip.Addr) bool {
	for _, p := range s.trustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// fromTrustedProxy reports whether the request came straight from a
// trusted proxy, whose X-Forwarded-* headers may then be believed.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && s.isTrustedProxy(ap.Addr().Unmap())
}

// LoopbackProxies are the addresses of a reverse proxy on the same machine.
var LoopbackProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
