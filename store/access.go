package store

import (
	"context"
	"errors"
	"fmt"
)

// Reasons a presented secret is rejected. They go to the server's log, never
// to the caller, who gets the same answer for each.
const (
	RejectMalformed = "malformed"
	RejectUnknown   = "unknown" // never issued, or deleted: its digest is wiped
	RejectDisabled  = "disabled"
	RejectExpired   = "expired"
)

// SecretRejected says why a presented secret did not authenticate. It
// unwraps to ErrNotFound, so a caller that need not tell the reasons apart
// compares with ErrNotFound alone. It never holds the secret.
type SecretRejected struct {
	TokenID string // the token the secret names; empty when malformed
	Reason  string // one of the Reject… constants
}

// Error names the token, when the secret named one, and the reason, for the
// server's log.
func (e *SecretRejected) Error() string {
	if e.TokenID == "" {
		return "token secret rejected: " + e.Reason
	}
	return fmt.Sprintf("token secret of %s rejected: %s", e.TokenID, e.Reason)
}

// OwnSecret reports whether the secret presented was the token's own,
// refused because the token is disabled or expired: something still uses a
// token that was turned off. Any other rejection names no token for sure,
// since anyone can write a secret that names one.
func (e *SecretRejected) OwnSecret() bool {
	return e.Reason == RejectDisabled || e.Reason == RejectExpired
}

// Unwrap makes every rejection an ErrNotFound.
func (e *SecretRejected) Unwrap() error { return ErrNotFound }

// TokenBySecret returns the token a presented secret belongs to, if it may
// authenticate at now: malformed, unknown, disabled, deleted and expired
// secrets are all ErrNotFound (a malformed one without a database read),
// as a *SecretRejected that says which for the server's log.
func (s *Store) TokenBySecret(ctx context.Context, secret string) (Token, error) {
	id, err := ParseSecret(secret)
	if err != nil {
		return Token{}, &SecretRejected{Reason: RejectMalformed}
	}
	// One query brings the token with its account and modules: the
	// modules are its scope, which whoever authenticates it checks next.
	t, err := scanOneToken(s.read.QueryRowContext(ctx, s.oneToken.bySecret, s.secrets.digest(secret)))
	if prev := s.secrets.previous; errors.Is(err, ErrNotFound) && prev != nil {
		// Mid-rotation, a token not yet moved has its digest under the
		// previous key.
		t, err = scanOneToken(s.read.QueryRowContext(ctx, s.oneToken.bySecret, prev.digest(secret)))
	}
	if errors.Is(err, ErrNotFound) || (err == nil && t.ID != id) {
		return Token{}, &SecretRejected{TokenID: id, Reason: RejectUnknown}
	}
	if err != nil {
		return Token{}, err
	}
	switch t.State(s.Now()) {
	case StateActive:
		return t, nil
	case StateExpired:
		return Token{}, &SecretRejected{TokenID: id, Reason: RejectExpired}
	default:
		return Token{}, &SecretRejected{TokenID: id, Reason: RejectDisabled}
	}
}
