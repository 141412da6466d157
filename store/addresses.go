package store

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// MaxAllowedAddresses bounds a token's list of allowed addresses.
const MaxAllowedAddresses = 50

// AllowedAddresses are the client addresses a token may be used from: IPv4
// and IPv6 addresses and ranges. None means anywhere.
type AllowedAddresses []netip.Prefix

// Admits reports whether a call from address may use the token: always when
// the list is empty, and otherwise when the address is in one of its
// ranges. An address that cannot be read is admitted by an empty list only.
func (a AllowedAddresses) Admits(address string) bool {
	if len(a) == 0 {
		return true
	}
	addr, err := netip.ParseAddr(address)
	if err != nil {
		return false
	}
	addr = addr.Unmap() // ::ffff:203.0.113.7 is 203.0.113.7
	for _, p := range a {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Everyone reports whether the list has a range of every IPv4 or IPv6
// address, which a person must have confirmed.
func (a AllowedAddresses) Everyone() bool {
	return slices.ContainsFunc(a, func(p netip.Prefix) bool { return p.Bits() == 0 })
}

// Strings are the entries as people read and write them: an address alone
// ("203.0.113.7", "2001:db8::1"), a range in CIDR form ("10.0.0.0/8").
func (a AllowedAddresses) Strings() []string {
	out := make([]string, len(a))
	for i, p := range a {
		if p.IsSingleIP() {
			out[i] = p.Addr().String()
		} else {
			out[i] = p.String()
		}
	}
	return out
}

// storedAddresses is a list of allowed addresses, as Strings writes them,
// the way the tokens table keeps it: separated by spaces.
func storedAddresses(entries []string) string { return strings.Join(entries, " ") }

// allowedFromStored reads what stored wrote. An entry that does not read
// (never written by this program) makes the list admit nobody rather than
// everybody.
func allowedFromStored(s string) AllowedAddresses {
	if s == "" {
		return nil
	}
	fields := strings.Fields(s)
	out := make(AllowedAddresses, 0, len(fields))
	for _, f := range fields {
		p, err := parseAddressEntry(f)
		if err != nil {
			return AllowedAddresses{netip.PrefixFrom(netip.IPv6Unspecified(), 128)}
		}
		out = append(out, p)
	}
	return out
}

// parseAddressEntry reads one address or CIDR range. An IPv4 address or
// range written in IPv6 (::ffff:203.0.113.0/120) is taken in IPv4, as the
// callers' addresses are compared; one wider than IPv4's whole space in
// that form is no range a caller can be in, and does not read.
func parseAddressEntry(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		addr, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		addr = addr.Unmap()
		return netip.PrefixFrom(addr, addr.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4In6() {
		return p, err
	}
	if p.Bits() < 96 {
		return netip.Prefix{}, fmt.Errorf("%s: an IPv4-mapped range of fewer than 96 bits", s)
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96), nil
}

// Messages about allowed addresses, which the forms and the API say.
var (
	MsgAddressesTooMany = fmt.Sprintf("Allow at most %d addresses or ranges; use a range to cover several.", MaxAllowedAddresses)
)

// ParseAllowedAddresses reads a list of allowed addresses as a person or a
// client wrote it: IPv4 and IPv6 addresses and CIDR ranges, blank entries
// skipped. It refuses, as a ValidationError on "allowedAddresses" that
// names the entry, what does not read, a range with bits set past its
// length, an entry given twice, more than MaxAllowedAddresses, and a range
// that allows every address (0.0.0.0/0, ::/0) unless everyone says that is
// meant.
func ParseAllowedAddresses(entries []string, everyone bool) (AllowedAddresses, error) {
	a, problem := parseAllowedAddresses(entries, everyone)
	if problem != "" {
		return nil, &ValidationError{Fields: map[string]string{FieldAddresses: problem}}
	}
	return a, nil
}

// validateAddresses checks allowed addresses as ParseAllowedAddresses
// does, into v, and returns them in their canonical form.
func validateAddresses(v *ValidationError, entries []string, everyone bool) []string {
	a, problem := parseAllowedAddresses(entries, everyone)
	if problem != "" {
		v.add(FieldAddresses, problem)
		return entries
	}
	return a.Strings()
}

// parseAllowedAddresses is ParseAllowedAddresses, with what is wrong as a
// message; "" when nothing is.
func parseAllowedAddresses(entries []string, everyone bool) (AllowedAddresses, string) {
	// Counted first: a client may send far more than may be kept, and
	// none of them need be read then.
	n := 0
	for _, e := range entries {
		if strings.TrimSpace(e) != "" {
			n++
		}
	}
	if n > MaxAllowedAddresses {
		return nil, MsgAddressesTooMany
	}
	out := make(AllowedAddresses, 0, n)
	seen := make(map[netip.Prefix]bool, n)
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		p, err := parseAddressEntry(e)
		switch {
		case err != nil:
			return nil, fmt.Sprintf("%q is not an IPv4 or IPv6 address or a CIDR range such as 203.0.113.0/24.", clip(e))
		case p != p.Masked():
			return nil, fmt.Sprintf("%s has bits set past its prefix length: the range it means is written %s.", e, p.Masked())
		case p.Bits() == 0 && !everyone:
			return nil, fmt.Sprintf("%s allows every %s address. Remove it, or confirm that the token may be used from anywhere.",
				e, map[bool]string{true: "IPv4", false: "IPv6"}[p.Addr().Is4()])
		case seen[p]:
			return nil, fmt.Sprintf("%s is in the list twice.", e)
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, ""
}

// clip shortens what a person typed for a message that quotes it.
func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

// TokenForCall is TokenBySecret for a call from address: a token that does
// not allow the address is refused as every other rejected secret is, for
// the reason RejectAddress.
func (s *Store) TokenForCall(ctx context.Context, secret, address string) (Token, error) {
	t, err := s.TokenBySecret(ctx, secret)
	if err != nil {
		return t, err
	}
	if !t.AllowedAddresses.Admits(address) {
		return Token{}, &SecretRejected{TokenID: t.ID, Reason: RejectAddress}
	}
	return t, nil
}
