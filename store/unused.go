package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// UnusedPolicyDays are the periods an account may choose for its policy on
// unused tokens: an active token not used for that many days is disabled.
// The policy is off (0) unless an administrator chooses one.
var UnusedPolicyDays = []int{30, 60, 90, 180}

// UnusedPolicy is an account's policy on tokens nobody uses, and who set it
// last, when.
type UnusedPolicy struct {
	Days      int       // 0: off; otherwise one of UnusedPolicyDays
	UpdatedAt time.Time // zero: never set
	UpdatedBy UserRef
}

// On reports whether the policy disables anything.
func (p UnusedPolicy) On() bool { return p.Days > 0 }

// MsgUnusedDays is what a person is told who sends a period the policy
// does not offer.
const MsgUnusedDays = "Choose Off, or 30, 60, 90 or 180 days."

// CheckUnusedDays checks a period for the policy: 0 (off) or one of
// UnusedPolicyDays. A problem is a ValidationError on "days".
func CheckUnusedDays(days int) error {
	if days == 0 || slices.Contains(UnusedPolicyDays, days) {
		return nil
	}
	return &ValidationError{Fields: map[string]string{"days": MsgUnusedDays}}
}

// unusedRunBatch bounds the tokens one run of the policy disables, so that
// its transaction stays short; a later run disables the rest.
const unusedRunBatch = 1000

// UnusedNoticeDays is how long a run of the policy is news: an
// administrator who has not opened the list since is not told of it, and
// its record goes.
const UnusedNoticeDays = 30

// dayMillis is a day in the stored unit of time.
const dayMillis = int64(24 * time.Hour / time.Millisecond)

// UnusedPolicy returns the account's policy on unused tokens: off, and
// never set, for an account that has not chosen one.
func (s *Store) UnusedPolicy(ctx context.Context, accountID string) (UnusedPolicy, error) {
	var p UnusedPolicy
	var at sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT p.days, p.updated_at, p.updated_by, COALESCE(u.name, '')
		FROM unused_policies p LEFT JOIN users u ON u.id = p.updated_by
		WHERE p.account_id = ?`, accountID).Scan(&p.Days, &at, &p.UpdatedBy.ID, &p.UpdatedBy.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return UnusedPolicy{}, nil
	}
	p.UpdatedAt = millis(at)
	return p, err
}

// SetUnusedPolicy sets the account's policy on unused tokens to days (0:
// off), recording who set it and when, and returns it as stored. A period
// the policy does not offer is a ValidationError, and nothing changes.
func (s *Store) SetUnusedPolicy(ctx context.Context, accountID string, days int, by Actor) (UnusedPolicy, error) {
	if err := CheckUnusedDays(days); err != nil {
		return UnusedPolicy{}, err
	}
	if err := by.check(); err != nil {
		return UnusedPolicy{}, err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO unused_policies (account_id, days, updated_at, updated_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			accountID, days, s.now(), by.ID)
		return err
	})
	if err != nil {
		return UnusedPolicy{}, err
	}
	return s.UnusedPolicy(ctx, accountID)
}

// unusedToken is a token the policy of its account would disable now.
type unusedToken struct {
	accountID, id string
	days          int
}

// unusedTokensQuery finds, in every account whose policy is on, the active
// tokens not past their expiry date (the first argument) that were neither
// made to work (created, enabled again or renewed) nor used in the
// policy's days before now (the next two): last access (never: 0) and the
// start of its period both fall before the cutoff. By account, a batch at
// most.
const unusedTokensQuery = `SELECT t.account_id, t.id, p.days
	FROM unused_policies p JOIN tokens t ON t.account_id = p.account_id
	WHERE p.days > 0 AND t.status != 'deleted' AND t.status = 'active'
		AND (t.expires_at IS NULL OR t.expires_at > ?)
		AND COALESCE(t.active_since, t.created_at) < ? - CAST(p.days AS BIGINT) * 86400000
		AND COALESCE(t.last_access_at, 0) < ? - CAST(p.days AS BIGINT) * 86400000
	ORDER BY t.account_id, t.id
	LIMIT ?`

// unusedTokens reads the tokens the policies would disable at now, through q.
func (s *Store) unusedTokens(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, now int64) ([]unusedToken, error) {
	rows, err := q.QueryContext(ctx, unusedTokensQuery, now, now, now, unusedRunBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []unusedToken
	for rows.Next() {
		var u unusedToken
		if err := rows.Scan(&u.accountID, &u.id, &u.days); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DisableUnusedTokens runs every account's policy on unused tokens: each
// active token, not past its expiry date, that was neither created nor
// used within its account's period is disabled, through the one write of
// every status change, with an audit event by UnusedPolicyActor. It
// returns how many it disabled; more than a batch are left to the next
// run.
//
// Every instance of the server may run it at any time, at once: the tokens
// are read again in the write transaction, where no other run goes beside
// it (SQLite has one writer; on PostgreSQL a second run clashes, runs again
// and finds them disabled), so each token is disabled once, with one audit
// event.
func (s *Store) DisableUnusedTokens(ctx context.Context) (int, error) {
	now := s.now()
	// Most runs find nothing: a look on the read side spares them a write
	// transaction.
	if found, err := s.unusedTokens(ctx, s.read, now); err != nil || len(found) == 0 {
		return 0, err
	}
	var total int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		total = 0
		found, err := s.unusedTokens(ctx, tx, now)
		if err != nil {
			return err
		}
		for len(found) > 0 {
			// The rows come by account: one change, and one run, each.
			n := 1
			for n < len(found) && found[n].accountID == found[0].accountID {
				n++
			}
			ids := make([]string, n)
			for i, u := range found[:n] {
				ids[i] = u.id
			}
			acc, days := found[0].accountID, found[0].days
			found = found[n:]
			changed, _, err := s.changeTokens(ctx, tx, acc, ids, disableToken, UnusedPolicyActor(days),
				fmt.Sprintf("Not used for %s: disabled by the account's policy.", plural(days, "day")))
			if err != nil {
				return err
			}
			if len(changed) == 0 {
				continue
			}
			total += len(changed)
			if err := s.txExec(ctx, tx, `INSERT INTO unused_policy_runs (account_id, at, days, disabled) VALUES (?, ?, ?, ?)`,
				acc, now, days, len(changed)); err != nil {
				return err
			}
		}
		return s.txExec(ctx, tx, `DELETE FROM unused_policy_runs WHERE at < ?`, now-UnusedNoticeDays*dayMillis)
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// UnusedNotice is what an administrator has not been told yet of the
// policy's work on their account: how many tokens it disabled, and the
// shortest period it disabled them after.
type UnusedNotice struct {
	Disabled int
	Days     int
}

// latestPolicyRun is when the unused-token policy last disabled tokens of
// the account (0: never, or so long ago that its runs are gone), kept at
// the account's version: most accounts have nothing to tell, and each list
// view asks.
func (s *Store) latestPolicyRun(ctx context.Context, accountID string) (int64, error) {
	return keptRead(ctx, s, &s.policyRuns, accountID, func() (int64, error) {
		var at int64
		err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(at), 0) FROM unused_policy_runs WHERE account_id = ?`, accountID).Scan(&at)
		return at, err
	})
}

// TakeUnusedNotice returns what the policy disabled in the user's account
// since the user was last told, in the last UnusedNoticeDays days and
// since the user was made, and records that they have been told: the next
// call returns nothing until the policy disables more. Nothing to tell
// takes no write.
func (s *Store) TakeUnusedNotice(ctx context.Context, u User) (UnusedNotice, error) {
	const pending = `SELECT COALESCE(SUM(r.disabled), 0), COALESCE(MIN(r.days), 0), COALESCE(MAX(r.id), 0)
		FROM unused_policy_runs r
		WHERE r.account_id = ? AND r.at >= ? AND r.at >= (SELECT created_at FROM users WHERE id = ?)
			AND r.id > COALESCE((SELECT run_id FROM unused_policy_seen WHERE user_id = ?), 0)`
	var n UnusedNotice
	var last int64
	since := s.now() - UnusedNoticeDays*dayMillis
	if latest, err := s.latestPolicyRun(ctx, u.AccountID); err != nil || latest < since {
		return UnusedNotice{}, err // nothing to tell anyone of the account
	}
	if err := s.read.QueryRowContext(ctx, pending, u.AccountID, since, u.ID, u.ID).Scan(&n.Disabled, &n.Days, &last); err != nil {
		return UnusedNotice{}, err
	}
	if n.Disabled == 0 {
		return UnusedNotice{}, nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Another page of the same person's may have told them first: the
		// mark only moves forward.
		_, err := tx.ExecContext(ctx, `INSERT INTO unused_policy_seen (user_id, run_id) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET run_id = excluded.run_id WHERE excluded.run_id > unused_policy_seen.run_id`,
			u.ID, last)
		return err
	})
	if err != nil {
		return UnusedNotice{}, err
	}
	return n, nil
}

// ExpiryWarning is how long before its expiry date a token says when it
// expires.
const ExpiryWarning = 7 * 24 * time.Hour

// ExpiresSoon reports whether the token, not deleted, reaches its expiry
// date within ExpiryWarning of now, and has not yet.
func (t Token) ExpiresSoon(now time.Time) bool {
	return t.Status != StatusDeleted && !t.ExpiresAt.IsZero() && !t.pastExpiry(now) && t.ExpiresAt.Sub(now) <= ExpiryWarning
}
