package store

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ActorKind says what made a change: a person on the pages, a token
// calling the REST API, or the system itself (an account's policy).
type ActorKind string

// Kinds of actor.
const (
	ActorUser   ActorKind = "user"
	ActorToken  ActorKind = "token"
	ActorSystem ActorKind = "system"
)

// Actor is who makes a change, and from where. The audit trail and
// "Created by" name it: a user, or for a change made through the API the
// token that made the call.
type Actor struct {
	Kind ActorKind
	ID   string // USR-… for a user, TKN-… for a token, system:… for the system
	IP   string
	// UserAgent is the browser or client, as its request named it; the
	// audit trail keeps at most MaxUserAgent characters of it.
	UserAgent string
	// Reason is why the person says they make the change, if they said:
	// at most MaxReason characters (see CheckReason).
	Reason string
}

// WithUserAgent is the actor using the browser or client ua.
func (a Actor) WithUserAgent(ua string) Actor {
	a.UserAgent = ua
	return a
}

// WithReason is the actor giving reason for the change.
func (a Actor) WithReason(reason string) Actor {
	a.Reason = reason
	return a
}

// MaxReason bounds the reason a person may give for a change.
const MaxReason = 200

// CheckReason returns the reason a person gave for a change as the audit
// trail keeps it, spaces trimmed, or a ValidationError (field "reason") when
// it is too long or holds what a line of text may not.
func CheckReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	var v ValidationError
	switch {
	case !utf8.ValidString(reason) || strings.ContainsFunc(reason, refusedInName):
		v.add("reason", "Write the reason as one line of text.")
	case utf8.RuneCountInString(reason) > MaxReason:
		v.add("reason", fmt.Sprintf("Keep the reason to %d characters at most (this one has %d).", MaxReason, utf8.RuneCountInString(reason)))
	}
	return reason, v.err()
}

// UserActor is a signed-in user acting from the address ip.
func UserActor(userID, ip string) Actor { return Actor{Kind: ActorUser, ID: userID, IP: ip} }

// TokenActor is an API token calling from the address ip.
func TokenActor(tokenID, ip string) Actor { return Actor{Kind: ActorToken, ID: tokenID, IP: ip} }

// unusedActorPrefix begins the ID of the unused-token policy as an actor:
// "system:unused-90d", the days being the account's period when it acted.
// The period is in the ID, so that the audit trail names the period of the
// time, whatever the policy says now.
const unusedActorPrefix = "system:unused-"

// UnusedPolicyActor is the account's policy that disables tokens not used
// for days days, as the audit trail records it.
func UnusedPolicyActor(days int) Actor {
	return Actor{Kind: ActorSystem, ID: unusedActorPrefix + strconv.Itoa(days) + "d"}
}

// systemActorName is what people read for the system actor id: "System:
// unused for 90 days"; "" for an ID that names no system actor.
func systemActorName(id string) string {
	n, ok := strings.CutPrefix(id, unusedActorPrefix)
	if !ok {
		return ""
	}
	n, ok = strings.CutSuffix(n, "d")
	days, err := strconv.Atoi(n)
	if !ok || err != nil || days <= 0 || strconv.Itoa(days) != n {
		return ""
	}
	return "System: unused for " + plural(days, "day")
}

// IsSystemActor reports whether id names the system rather than a user or
// a token: no page of its own, no filter by it.
func IsSystemActor(id string) bool { return systemActorName(id) != "" }

// withSystemName names a system actor, whom no row of users or tokens
// names; any other reference is returned as it is.
func withSystemName(r UserRef) UserRef {
	if r.Name == "" {
		r.Name = systemActorName(r.ID)
	}
	return r
}

// plural is n units: "1 day", "90 days".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// check makes sure the actor is what it says it is, before the audit trail
// and "Created by" record it: a user's ID for a user, a token's for a
// token, a system actor's own for the system.
func (a Actor) check() error {
	if _, err := CheckReason(a.Reason); err != nil {
		return err
	}
	if a.Kind == ActorUser && isID(a.ID, userPrefix) || a.Kind == ActorToken && isID(a.ID, tokenPrefix) ||
		a.Kind == ActorSystem && IsSystemActor(a.ID) {
		return nil
	}
	return fmt.Errorf("store: actor %q is not the ID of a %s", a.ID, a.Kind)
}
