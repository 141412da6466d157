package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxGracePeriod is how long, at most, a secret rotated away keeps working.
const MaxGracePeriod = 7 * 24 * time.Hour

// GracePeriods are the grace periods the pages offer, shortest first.
var GracePeriods = []time.Duration{0, time.Hour, 24 * time.Hour, MaxGracePeriod}

// DefaultGracePeriod is the grace period when none is chosen: a day, time
// enough to deploy the new secret everywhere the old one is used.
const DefaultGracePeriod = 24 * time.Hour

// MsgGracePeriod is what is said of a grace period that is not one.
var MsgGracePeriod = "Give the grace period as an ISO 8601 duration from PT0S to P7D, such as PT1H or P7D."

// ParseGracePeriod reads a grace period written as an ISO 8601 duration of
// days, hours, minutes and whole seconds ("PT0S", "PT1H", "PT24H", "P7D",
// "P1DT12H"), from none to MaxGracePeriod. Anything else is a
// ValidationError on "gracePeriod".
func ParseGracePeriod(s string) (time.Duration, error) {
	d, ok := parseISODuration(s)
	if !ok || d > MaxGracePeriod {
		return 0, &ValidationError{Fields: map[string]string{"gracePeriod": MsgGracePeriod}}
	}
	return d, nil
}

// parseISODuration reads "P[nD][T[nH][nM][nS]]" with whole numbers, up to
// MaxGracePeriod: anything longer does not read.
func parseISODuration(s string) (time.Duration, bool) {
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" {
		return 0, false
	}
	units := []struct {
		designator byte
		unit       time.Duration
		timePart   bool
	}{{'D', 24 * time.Hour, false}, {'H', time.Hour, true}, {'M', time.Minute, true}, {'S', time.Second, true}}
	var total time.Duration
	inTime, next, any := false, 0, false
	for rest != "" {
		if rest[0] == 'T' && !inTime {
			inTime, rest = true, rest[1:]
			if rest == "" {
				return 0, false // "PT" says nothing
			}
			continue
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 7 || i == len(rest) {
			return 0, false
		}
		n, _ := strconv.Atoi(rest[:i])
		found := false
		for j := next; j < len(units); j++ {
			if units[j].designator == rest[i] && units[j].timePart == inTime {
				// Past the longest grace period there is nothing to
				// read: a larger number could overflow a Duration.
				if time.Duration(n) > MaxGracePeriod/units[j].unit {
					return 0, false
				}
				total += time.Duration(n) * units[j].unit
				next, found = j+1, true
				break
			}
		}
		if !found || total > MaxGracePeriod {
			return 0, false
		}
		rest, any = rest[i+1:], true
	}
	return total, any
}

// FormatGracePeriod writes a grace period as ParseGracePeriod reads it, in
// days when it is several whole days, else in hours, minutes and seconds:
// "PT0S", "PT1H", "PT24H", "PT36H", "P7D".
func FormatGracePeriod(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	if d%(24*time.Hour) == 0 && d > 24*time.Hour {
		return fmt.Sprintf("P%dD", d/(24*time.Hour))
	}
	var b strings.Builder
	b.WriteString("PT")
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "H"}, {time.Minute, "M"}, {time.Second, "S"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}

// DescribeGracePeriod says a grace period in words: "1 hour", "24 hours",
// "7 days", "90 minutes".
func DescribeGracePeriod(d time.Duration) string {
	switch {
	case d <= 0:
		return "no time"
	case d%(24*time.Hour) == 0 && d > 24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return plural(int(d/time.Second), "second")
}

// rotationDetail is what the audit trail says of a rotation.
func rotationDetail(grace time.Duration) string {
	if grace <= 0 {
		return "Previous secret stopped working at once"
	}
	return "Previous secret works for " + DescribeGracePeriod(grace) + " more"
}

// Rotation is what RotateSecret is asked to do.
type Rotation struct {
	// Grace is how long the secret rotated away keeps working: none, it
	// stops at once; at most MaxGracePeriod.
	Grace time.Duration
	// Grantable, when not nil, are the modules of the API token that
	// asks: it gets the new secret, so it may rotate only a token with no
	// module it does not have itself (see NewToken.Grantable). Nil: a
	// person, who may rotate any token of the account.
	Grantable []Module
}

// RotateSecret gives a token of the account a new secret, returned this
// once, as CreateToken returns the first. The secret it had keeps working
// for the rotation's grace period, stored as the current one is; a
// previous secret still in its own grace period stops at once. The token
// keeps its ID, name, modules, logo and expiry. A token past its expiry
// date is ErrTokenExpired (it is renewed first); a deleted one, or another
// account's, ErrNotFound.
func (s *Store) RotateSecret(ctx context.Context, accountID, id string, r Rotation, by Actor) (Token, string, error) {
	grace := r.Grace
	if grace < 0 || grace > MaxGracePeriod {
		return Token{}, "", &ValidationError{Fields: map[string]string{"gracePeriod": MsgGracePeriod}}
	}
	var secret string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var t Token
		var expires sql.NullInt64
		var digest, sealed []byte
		var keyID string
		// Read in the transaction that writes, so that a delete made
		// meanwhile either comes first (and this finds nothing) or after
		// (and wipes both secrets).
		err := tx.QueryRowContext(ctx, `SELECT t.status, t.expires_at, t.secret_digest, t.secret_ciphertext, t.secret_key_id
			FROM tokens t WHERE `+liveToken, id, accountID).Scan(&t.Status, &expires, &digest, &sealed, &keyID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := s.now()
		// A live token that may not be rotated is past its expiry date.
		if t.ExpiresAt = millis(expires); !t.Allows(ActionRotate, s.Now()) {
			return ErrTokenExpired
		}
		// Its modules are read here, where no change of them can come
		// between the check and the new secret.
		held, err := tokenModuleIDs(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkWithinGrantable(ctx, tx, r.Grantable, held, "modules",
			"An API token gets the new secret, so it may rotate"); err != nil {
			return err
		}
		secret = newSecret(id)
		var previous []any
		if grace > 0 {
			// Moved as it is, under the key that sealed it: during a
			// rotation of keys it is found under the previous key, as a
			// current secret would be.
			previous = []any{digest, sealed, keyID, now + grace.Milliseconds()}
		} else {
			previous = []any{nil, nil, nil, nil}
		}
		if err := s.txExec(ctx, tx, `UPDATE tokens SET secret_digest = ?, secret_ciphertext = ?, secret_key_id = ?,
				previous_digest = ?, previous_ciphertext = ?, previous_key_id = ?, previous_until = ?,
				previous_last_at = NULL, rotated_at = ?, updated_at = ?, updated_by = ?
			WHERE id = ?`,
			append([]any{s.secrets.digest(secret), s.secrets.seal(id, secret), s.secrets.keyID},
				append(previous, now, now, by.ID, id)...)...); err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, auditEntry{accountID: accountID, by: by, action: AuditRotated,
			detail: rotationDetail(grace)}, tokensAt(now, id))
	})
	if err != nil {
		return Token{}, "", err
	}
	t, err := s.TokenByID(ctx, accountID, id)
	return t, secret, err
}

// checkWithinGrantable fails with a ValidationError on field, naming the
// modules, when the token, with the modules held, has one that is not
// grantable: what the caller asks would give it the run of a token that can
// do more than it can. refused begins the message ("An API token may
// rotate"). A nil grantable allows any.
func checkWithinGrantable(ctx context.Context, tx *sql.Tx, grantable []Module, held []string, field, refused string) error {
	if grantable == nil {
		return nil
	}
	missing := slices.DeleteFunc(slices.Clone(held), func(id string) bool {
		return slices.ContainsFunc(grantable, func(m Module) bool { return m.ID == id })
	})
	if len(missing) == 0 {
		return nil
	}
	names, err := moduleNames(ctx, tx, missing)
	if err != nil {
		return err
	}
	return &ValidationError{Fields: map[string]string{field: fmt.Sprintf(
		"%s only tokens whose modules it has itself; it does not have %s.", refused, strings.Join(names, ", "))}}
}

// EndPreviousSecret stops the previous secret of a token of the account at
// once, before its grace period is over. A token whose previous secret
// works no more is left as it is, and ended is false; a deleted token, or
// another account's, is ErrNotFound.
func (s *Store) EndPreviousSecret(ctx context.Context, accountID, id string, by Actor) (t Token, ended bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// A transaction run again starts again: what a failed attempt
		// ended, it did not.
		ended = false
		now := s.now()
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET previous_digest = NULL, previous_ciphertext = NULL,
				previous_key_id = NULL, previous_until = NULL, updated_at = ?, updated_by = ?
			WHERE id = ? AND account_id = ? AND status != 'deleted' AND previous_until > ?`,
			now, by.ID, id, accountID, now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		ended = true
		return s.recordAudit(ctx, tx, auditEntry{accountID: accountID, by: by, action: AuditPreviousEnded,
			detail: "Previous secret stopped working before its time"}, tokensAt(now, id))
	})
	if err != nil {
		return Token{}, false, err
	}
	t, err = s.TokenByID(ctx, accountID, id)
	return t, ended, err
}

// PreviousSecretUsage is how much a token's previous secret has been used
// since its rotation: the calls made with it, and the latest.
type PreviousSecretUsage struct {
	Calls  int64
	LastAt time.Time // zero: not used since
}

// PreviousUsage counts the calls made with a token's previous secret since
// it was rotated, from the hour of the rotation on: counts are kept by the
// hour.
func (s *Store) PreviousUsage(ctx context.Context, t Token) (PreviousSecretUsage, error) {
	u := PreviousSecretUsage{LastAt: t.PreviousLastAt}
	if t.RotatedAt.IsZero() {
		return u, nil
	}
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(previous), 0) FROM token_usage
		WHERE token_id = ? AND hour >= ?`, t.ID, UsageHour(t.RotatedAt)).Scan(&u.Calls)
	return u, err
}

// forgetPreviousSecrets wipes the previous secrets whose grace period is
// over: they authenticate no more, and need not be kept.
func (s *Store) forgetPreviousSecrets(ctx context.Context, tx *sql.Tx) error {
	return s.txExec(ctx, tx, `UPDATE tokens SET previous_digest = NULL, previous_ciphertext = NULL,
			previous_key_id = NULL, previous_until = NULL
		WHERE previous_digest IS NOT NULL AND previous_until <= ?`, s.now())
}
