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
	RejectRotated   = "rotated" // a previous secret past its grace period
	RejectAddress   = "address" // from an address the token does not allow
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
// refused because the token is disabled or expired, because it is the
// secret the token had before a rotation, past its grace period, or
// because it came from an address the token does not allow: something
// still uses what was turned off, or uses it from elsewhere. Any other
// rejection names no token for sure, since anyone can write a secret that
// names one.
func (e *SecretRejected) OwnSecret() bool {
	return e.Reason == RejectDisabled || e.Reason == RejectExpired || e.Reason == RejectRotated || e.Reason == RejectAddress
}

// Unwrap makes every rejection an ErrNotFound.
func (e *SecretRejected) Unwrap() error { return ErrNotFound }

// TokenBySecret returns the token a presented secret belongs to, if it may
// authenticate at now: malformed, unknown, disabled, deleted and expired
// secrets are all ErrNotFound (a malformed one without a database read),
// as a *SecretRejected that says which for the server's log. The previous
// secret of a rotated token authenticates until its grace period is over,
// to the millisecond, and the token says it was that one (ViaPrevious).
func (s *Store) TokenBySecret(ctx context.Context, secret string) (Token, error) {
	id, err := ParseSecret(secret)
	if err != nil {
		return Token{}, &SecretRejected{Reason: RejectMalformed}
	}
	t, err := s.findSecret(ctx, s.secrets, secret)
	if prev := s.secrets.previous; errors.Is(err, ErrNotFound) && prev != nil {
		// Mid-rotation of keys, a token not yet moved has its digests
		// under the previous key.
		t, err = s.findSecret(ctx, prev, secret)
	}
	if errors.Is(err, ErrNotFound) || (err == nil && t.ID != id) {
		return Token{}, &SecretRejected{TokenID: id, Reason: RejectUnknown}
	}
	if err != nil {
		return Token{}, err
	}
	now := s.Now()
	if t.ViaPrevious && !t.PreviousWorks(now) {
		return Token{}, &SecretRejected{TokenID: id, Reason: RejectRotated}
	}
	switch t.State(now) {
	case StateActive:
		return t, nil
	case StateExpired:
		return Token{}, &SecretRejected{TokenID: id, Reason: RejectExpired}
	default:
		return Token{}, &SecretRejected{TokenID: id, Reason: RejectDisabled}
	}
}

// findSecret looks a secret up by its digest under box: kept in memory,
// when its account's version has not moved since it was read; else as a
// token's secret, and then, only when it is none (a valid call costs one
// read), as the previous secret of a rotated token.
func (s *Store) findSecret(ctx context.Context, box *secretBox, secret string) (Token, error) {
	digest := box.digest(secret)
	if kept, ok := s.secretsFound.get(string(digest)); ok {
		if still, err := s.stillAt(ctx, kept.t.AccountID, kept.version); err != nil {
			return Token{}, err
		} else if still {
			return kept.t.clone(), nil
		}
	}
	var version int64
	t, err := scanOneToken(s.read.QueryRowContext(ctx, s.oneToken.bySecret, digest), false, &version)
	if errors.Is(err, ErrNotFound) {
		t, err = scanOneToken(s.read.QueryRowContext(ctx, s.oneToken.byPrevious, digest), false, &version)
		t.ViaPrevious = err == nil
	}
	if err == nil {
		s.secretsFound.put(string(digest), keptToken{t.clone(), version})
		memoOf(ctx).set(t.AccountID, version)
	}
	return t, err
}
