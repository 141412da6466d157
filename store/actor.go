package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ActorKind says what made a change: a person on the pages, or a token
// calling the REST API.
type ActorKind string

// Kinds of actor.
const (
	ActorUser  ActorKind = "user"
	ActorToken ActorKind = "token"
)

// Actor is who makes a change, and from where. The audit trail and
// "Created by" name it: a user, or for a change made through the API the
// token that made the call.
type Actor struct {
	Kind ActorKind
	ID   string // USR-… for a user, TKN-… for a token
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

// check makes sure the actor is what it says it is, before the audit trail
// and "Created by" record it: a user's ID for a user, a token's for a token.
func (a Actor) check() error {
	if _, err := CheckReason(a.Reason); err != nil {
		return err
	}
	if a.Kind == ActorUser && isID(a.ID, userPrefix) || a.Kind == ActorToken && isID(a.ID, tokenPrefix) {
		return nil
	}
	return fmt.Errorf("store: actor %q is not the ID of a %s", a.ID, a.Kind)
}
