package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseAllowedAddresses(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got, err := ParseAllowedAddresses([]string{" 203.0.113.7 ", "", "10.0.0.0/8", "2001:DB8::/32", "::ffff:198.51.100.1", "2001:db8:1::1/128"}, false)
		want := []string{"203.0.113.7", "10.0.0.0/8", "2001:db8::/32", "198.51.100.1", "2001:db8:1::1"}
		if err != nil || !slices.Equal(got.Strings(), want) {
			t.Fatalf("ParseAllowedAddresses = %v, %v; want %v", got.Strings(), err, want)
		}
		if back := allowedFromStored(storedAddresses(got.Strings())); !slices.Equal(back.Strings(), want) {
			t.Fatalf("stored and read back: %v", back.Strings())
		}
	})
	for _, c := range []struct{ name, entry, says string }{
		{"ErrMalformed", "203.0.113", "is not an IPv4 or IPv6 address"},
		{"ErrHostName", "example.com", "is not an IPv4 or IPv6 address"},
		{"ErrPrefixTooLong", "10.0.0.0/33", "is not an IPv4 or IPv6 address"},
		{"ErrBitsPastPrefix", "10.1.2.3/8", "the range it means is written 10.0.0.0/8"},
		{"ErrEveryIPv4", "0.0.0.0/0", "allows every IPv4 address"},
		{"ErrEveryIPv6", "::/0", "allows every IPv6 address"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v *ValidationError
			if _, err := ParseAllowedAddresses([]string{"203.0.113.7", c.entry}, false); !errors.As(err, &v) ||
				!strings.Contains(v.Fields["allowedAddresses"], c.says) {
				t.Fatalf("%q: %v, want a message that says %q", c.entry, err, c.says)
			}
		})
	}
	t.Run("ErrTwice", func(t *testing.T) {
		var v *ValidationError
		if _, err := ParseAllowedAddresses([]string{"203.0.113.7", "203.0.113.7/32"}, false); !errors.As(err, &v) ||
			!strings.Contains(v.Fields["allowedAddresses"], "twice") {
			t.Fatalf("the same address twice: %v", err)
		}
	})
	t.Run("ErrTooMany", func(t *testing.T) {
		var many []string
		for i := range MaxAllowedAddresses + 1 {
			many = append(many, fmt.Sprintf("10.0.%d.0/24", i))
		}
		if _, err := ParseAllowedAddresses(many[:MaxAllowedAddresses], false); err != nil {
			t.Fatalf("%d entries: %v", MaxAllowedAddresses, err)
		}
		var v *ValidationError
		if _, err := ParseAllowedAddresses(many, false); !errors.As(err, &v) || v.Fields["allowedAddresses"] != MsgAddressesTooMany {
			t.Fatalf("%d entries: %v", len(many), err)
		}
	})
	t.Run("ErrFarTooMany", func(t *testing.T) {
		// As many as an API body can hold are refused for their number
		// before any is read: the entry past the limit that does not read
		// is not what the message is about.
		many := make([]string, 300_000)
		for i := range many {
			many[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		}
		many[MaxAllowedAddresses+1] = "not an address"
		var v *ValidationError
		if _, err := ParseAllowedAddresses(many, false); !errors.As(err, &v) || v.Fields["allowedAddresses"] != MsgAddressesTooMany {
			t.Fatalf("%d entries: %v", len(many), err)
		}
	})
	t.Run("MappedRanges", func(t *testing.T) {
		got, err := ParseAllowedAddresses([]string{"::ffff:203.0.113.0/120"}, false)
		if err != nil || !slices.Equal(got.Strings(), []string{"203.0.113.0/24"}) || !got.Admits("203.0.113.9") {
			t.Fatalf("an IPv4 range written in IPv6: %v, %v", got.Strings(), err)
		}
		var v *ValidationError
		if _, err := ParseAllowedAddresses([]string{"::ffff:0.0.0.0/90"}, false); !errors.As(err, &v) {
			t.Fatalf("a range wider than IPv4's, in IPv4-mapped form: %v", err)
		}
	})
	t.Run("EveryoneConfirmed", func(t *testing.T) {
		got, err := ParseAllowedAddresses([]string{"0.0.0.0/0"}, true)
		if err != nil || !got.Everyone() || !got.Admits("198.51.100.9") || got.Admits("2001:db8::1") {
			t.Fatalf("0.0.0.0/0, confirmed: %v, %v", got, err)
		}
	})
}

func TestAllowedAddressesAdmits(t *testing.T) {
	list, err := ParseAllowedAddresses([]string{"203.0.113.7", "198.51.100.0/25", "2001:db8:abcd::/48"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"203.0.113.7": true, "203.0.113.8": false, "::ffff:203.0.113.7": true,
		"198.51.100.0": true, "198.51.100.127": true, "198.51.100.128": false, "198.51.99.255": false,
		"2001:db8:abcd::1": true, "2001:db8:abcd:ffff:ffff:ffff:ffff:ffff": true, "2001:db8:abce::": false,
		"": false, "not an address": false, "203.0.113.7:443": false,
	} {
		if got := list.Admits(addr); got != want {
			t.Errorf("Admits(%q) = %v, want %v", addr, got, want)
		}
	}
	if !AllowedAddresses(nil).Admits("") || !AllowedAddresses(nil).Admits("192.0.2.1") {
		t.Error("an empty list does not admit every caller")
	}
	if allowedFromStored("203.0.113.7 garbage").Admits("203.0.113.7") {
		t.Error("a list that does not read admits a caller")
	}
}

func TestTokenAllowedAddresses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, secret, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "Bound",
		AllowedAddresses: []string{"203.0.113.7", " 2001:db8::/32 "}}, f.actor)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.AllowedAddresses.Strings(); !slices.Equal(got, []string{"203.0.113.7", "2001:db8::/32"}) {
		t.Fatalf("created with %v", got)
	}
	for addr, ok := range map[string]bool{"203.0.113.7": true, "2001:db8::5": true, "198.51.100.1": false} {
		got, err := f.s.TokenForCall(ctx, secret, addr)
		var rejected *SecretRejected
		switch {
		case ok && (err != nil || got.ID != tok.ID):
			t.Errorf("a call from %s: %v", addr, err)
		case !ok && (!errors.As(err, &rejected) || rejected.Reason != RejectAddress || !rejected.OwnSecret() || !errors.Is(err, ErrNotFound)):
			t.Errorf("a call from %s: %v, want it refused for its address", addr, err)
		}
	}

	t.Run("Update", func(t *testing.T) {
		got, changed, err := f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Only: []string{FieldAddresses},
			AllowedAddresses: []string{"192.0.2.0/24"}}, f.actor)
		if err != nil || !changed || !slices.Equal(got.AllowedAddresses.Strings(), []string{"192.0.2.0/24"}) || got.Name != "Bound" {
			t.Fatalf("UpdateToken = %v (%v), %v", got.AllowedAddresses.Strings(), changed, err)
		}
		e := f.auditEvents(t, f.account.ID, tok.ID)[0]
		if len(e.Changes) != 1 || e.Changes[0] != (FieldChange{FieldAddresses, "203.0.113.7, 2001:db8::/32", "192.0.2.0/24"}) {
			t.Fatalf("audit changes %+v", e.Changes)
		}
		// Left out of an update that names other fields, the list stays.
		got, _, err = f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Only: []string{FieldName}, Name: "Renamed"}, f.actor)
		if err != nil || !slices.Equal(got.AllowedAddresses.Strings(), []string{"192.0.2.0/24"}) {
			t.Fatalf("a rename changed the list: %v, %v", got.AllowedAddresses.Strings(), err)
		}
		var v *ValidationError
		if _, _, err := f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Only: []string{FieldAddresses},
			AllowedAddresses: []string{"::/0"}}, f.actor); !errors.As(err, &v) {
			t.Fatalf("::/0 unconfirmed: %v", err)
		}
		got, _, err = f.s.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Only: []string{FieldAddresses}}, f.actor)
		if err != nil || len(got.AllowedAddresses) != 0 {
			t.Fatalf("emptied: %v, %v", got.AllowedAddresses, err)
		}
		if _, err := f.s.TokenForCall(ctx, secret, "198.51.100.1"); err != nil {
			t.Fatalf("an empty list refuses a call: %v", err)
		}
	})

	t.Run("LastRefused", func(t *testing.T) {
		at := f.clock.Now().Add(time.Minute)
		f.record(t, UsageBatch{Counts: map[UsageKey]UsageCount{{tok.ID, UsageHour(at)}: {Refused: 1}},
			Refused: map[string]Caller{tok.ID: {At: at, Address: "198.51.100.1", UserAgent: "curl/8.5.0"}}})
		got := f.tokenByID(t, f.account.ID, tok.ID)
		if got.LastRefused.Address != "198.51.100.1" || got.LastRefused.UserAgent != "curl/8.5.0" || !got.LastRefused.At.Equal(at) {
			t.Fatalf("last refused call %+v", got.LastRefused)
		}
	})
}
