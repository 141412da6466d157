package store

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"time"
)

// LimitBucket is what a limit on attempts remembers of one key (an
// address, a user): a leaky bucket's level, as reckoned at a time. Its
// rules, how fast it drains and how full it may get, are the caller's.
type LimitBucket struct {
	Level float64
	At    time.Time
}

// ChangeLimitBucket replaces the bucket of key under limit with what change
// makes of it, in one transaction, so that attempts counted at once by
// several instances all count. change returns the new bucket, when it will
// have drained away (after which it may be forgotten), and false to leave
// the bucket as it is; it may run more than once, and must depend on its
// argument alone.
func (s *Store) ChangeLimitBucket(ctx context.Context, limit, key string,
	change func(LimitBucket) (next LimitBucket, drained time.Time, ok bool)) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var b LimitBucket
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT level, at FROM limit_buckets WHERE name = ? AND key = ?`, limit, key).
			Scan(&b.Level, &at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			b.At = time.UnixMilli(at).UTC()
		}
		next, drained, ok := change(b)
		if !ok {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO limit_buckets (name, key, level, at, drained_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name, key) DO UPDATE SET level = excluded.level, at = excluded.at, drained_at = excluded.drained_at`,
			limit, key, next.Level, next.At.UnixMilli(), drained.UnixMilli())
		return err
	})
	if err == nil && rand.IntN(forgetEvery) == 0 {
		// Buckets drained away are forgotten now and then, outside the
		// transaction (where, on PostgreSQL, it would clash with every
		// other count at once), so that a flood of addresses leaves no
		// rows behind for long.
		_, err = s.write.ExecContext(ctx, `DELETE FROM limit_buckets WHERE drained_at < ?`, s.now())
	}
	return err
}

// forgetEvery is how many changes of buckets, on average, go by between
// forgettings of the drained ones.
const forgetEvery = 64
