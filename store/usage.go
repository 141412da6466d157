package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// How usage is counted and kept.
const (
	// UsageDays is how many days, today included, the usage of a token is
	// shown for, day by day.
	UsageDays = 30
	// UsageKeptDays is how many days the hourly counts are kept.
	UsageKeptDays = 90
	// MaxCallerAddress bounds the last caller's address as stored.
	MaxCallerAddress = 64
)

// hoursIn7Days is the window of "calls in the last 7 days": this hour and
// the 167 before it.
const hoursIn7Days = 7 * 24

// first7DaysHour is the first hour of the 7 days that end with hour.
func first7DaysHour(hour int64) int64 { return hour - hoursIn7Days + 1 }

// UsageHour is the hour of t, counted from 1970-01-01 00:00 UTC: the unit
// calls are counted in.
func UsageHour(t time.Time) int64 { return t.Unix() / 3600 }

// UsageKey is what a count is kept by: a token and an hour (UsageHour).
type UsageKey struct {
	TokenID string
	Hour    int64
}

// UsageCount is a number of calls made with a token, of calls refused
// because it was disabled or expired, and of the calls made with its
// previous secret (among Calls) while a rotation's grace period lasts.
type UsageCount struct{ Calls, Refused, Previous int64 }

// Caller is who called with a token: when, from which address, with which
// client (its User-Agent).
type Caller struct {
	At        time.Time
	Address   string
	UserAgent string
}

// UsageBatch is the usage one server saw since it last wrote: counts to add
// to the stored ones, and each token's latest caller.
type UsageBatch struct {
	// ID names the batch: one sent again with the same ID, because its
	// writer could not tell whether the first send was written, is added
	// once. "" is written every time.
	ID     string
	Counts map[UsageKey]UsageCount
	Last   map[string]Caller // by token ID
	// Previous is the latest call made with each token's previous secret,
	// by token ID; only its time is kept.
	Previous map[string]Caller
	// Refused is the latest refused call of each token, by token ID.
	Refused map[string]Caller
}

// Empty reports whether the batch holds nothing to write.
func (b UsageBatch) Empty() bool {
	return len(b.Counts) == 0 && len(b.Last) == 0 && len(b.Previous) == 0 && len(b.Refused) == 0
}

// RecordUsage adds a batch of usage to what is stored, in one write
// transaction: the hourly counts are added to (so batches of several
// servers add up), last access and the last caller move forward only, and
// the 7-day calls of each token called are counted again. Deleted tokens
// keep their tombstones as they are.
func (s *Store) RecordUsage(ctx context.Context, b UsageBatch) error {
	if b.Empty() {
		return nil
	}
	counts := make([][5]any, 0, len(b.Counts))
	var called []string
	seen := map[string]bool{}
	for k, n := range b.Counts {
		counts = append(counts, [5]any{k.TokenID, k.Hour, n.Calls, n.Refused, n.Previous})
		if n.Calls > 0 && !seen[k.TokenID] {
			seen[k.TokenID] = true
			called = append(called, k.TokenID)
		}
	}
	countsJSON, err := json.Marshal(counts)
	if err != nil {
		return err
	}
	lastJSON, err := callersJSON(b.Last)
	if err != nil {
		return err
	}
	refusedJSON, err := callersJSON(b.Refused)
	if err != nil {
		return err
	}
	previousJSON, err := callersJSON(b.Previous)
	if err != nil {
		return err
	}
	hour := UsageHour(s.Now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if b.ID != "" {
			res, err := tx.ExecContext(ctx, `INSERT INTO usage_batches (id, at) VALUES (?, ?) ON CONFLICT DO NOTHING`, b.ID, s.now())
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err // written already: nothing more to add
			}
		}
		if len(counts) > 0 {
			// "WHERE true" tells SQLite that ON CONFLICT is the upsert's,
			// not part of the SELECT's join.
			if err := s.txExec(ctx, tx, `INSERT INTO token_usage (token_id, hour, calls, refused, previous)
				SELECT value ->> 0, CAST(value ->> 1 AS BIGINT), CAST(value ->> 2 AS BIGINT), CAST(value ->> 3 AS BIGINT),
					CAST(value ->> 4 AS BIGINT)
				FROM `+s.d.jsonValues()+` WHERE true
				ON CONFLICT (token_id, hour) DO UPDATE SET calls = token_usage.calls + excluded.calls,
					refused = token_usage.refused + excluded.refused, previous = token_usage.previous + excluded.previous`,
				string(countsJSON)); err != nil {
				return err
			}
		}
		// One statement for each kind of latest call, whatever the number
		// of tokens.
		for _, l := range []struct {
			columns latestCall
			rows    string
			n       int
		}{{latestAccess, lastJSON, len(b.Last)}, {latestRefused, refusedJSON, len(b.Refused)},
			{latestPrevious, previousJSON, len(b.Previous)}} {
			if l.n == 0 {
				continue
			}
			if err := s.txExec(ctx, tx, l.columns.update(s.d), l.rows); err != nil {
				return err
			}
		}
		if len(called) > 0 {
			return s.txExec(ctx, tx, `UPDATE tokens SET calls_7d = `+calls7dOf+`
				WHERE id`+s.d.inStrings()+` AND status != 'deleted'`, first7DaysHour(hour), hour, jsonIDs(called))
		}
		return nil
	})
}

// latestCall names the columns of a token that keep a latest call of a
// kind: its time and, for some, the caller's address and client; and since
// when (a column) a call counts, for calls that count only from then on.
type latestCall struct{ at, address, agent, since string }

var (
	latestAccess  = latestCall{at: "last_access_at", address: "last_caller_ip", agent: "last_caller_agent"}
	latestRefused = latestCall{at: "last_refused_at", address: "last_refused_ip", agent: "last_refused_agent"}
	// A call with the previous secret made before the last rotation was
	// made with the secret before that one, in a batch written late.
	latestPrevious = latestCall{at: "previous_last_at", since: "rotated_at"}
)

// update moves the latest call of each token in a JSON list of [id, at,
// address, agent] forward, never back: batches of several servers may
// land in any order. Tombstones are left as they are.
func (l latestCall) update(d dialect) string {
	set := l.at + ` = CAST(value ->> 1 AS BIGINT)`
	if l.address != "" {
		set += `, ` + l.address + ` = value ->> 2, ` + l.agent + ` = value ->> 3`
	}
	where := ``
	if l.since != "" {
		where = ` AND CAST(value ->> 1 AS BIGINT) >= tokens.` + l.since
	}
	return `UPDATE tokens SET ` + set + ` FROM ` + d.jsonValues() + `
		WHERE tokens.id = value ->> 0 AND tokens.status != 'deleted'
			AND (tokens.` + l.at + ` IS NULL OR tokens.` + l.at + ` < CAST(value ->> 1 AS BIGINT))` + where
}

// callersJSON is callers by token ID as the statements of RecordUsage take
// them: [[id, at, address, user agent], …], cleaned as they are kept.
func callersJSON(callers map[string]Caller) (string, error) {
	rows := make([][4]any, 0, len(callers))
	for id, c := range callers {
		rows = append(rows, [4]any{id, c.At.UnixMilli(), cleanAddress(c.Address), cleanUserAgent(c.UserAgent)})
	}
	b, err := json.Marshal(rows)
	return string(b), err
}

// calls7dOf counts again the calls of tokens (the row being updated) in
// the hours from and to, the next two arguments: an instance whose clock
// runs ahead counts no hour the others have not reached.
const calls7dOf = `(SELECT COALESCE(SUM(u.calls), 0) FROM token_usage u WHERE u.token_id = tokens.id AND u.hour BETWEEN ? AND ?)`

// callerColumns are a token's last caller, which scanCaller reads.
const callerColumns = `last_access_at, last_caller_ip, last_caller_agent`

func scanCaller(row *sql.Row) (Caller, error) {
	var at sql.NullInt64
	var ip, agent sql.NullString
	err := row.Scan(&at, &ip, &agent)
	return Caller{At: millis(at), Address: ip.String, UserAgent: agent.String}, err
}

// cleanAddress is what is kept of a caller's address: the address as the
// server's rules for proxies found it, which a client cannot choose, but
// bounded all the same.
func cleanAddress(ip string) string {
	ip = cleanUserAgent(ip)
	if len(ip) > MaxCallerAddress {
		ip = ip[:MaxCallerAddress]
	}
	return ip
}

// RollUpUsage does, once an hour whichever server asks first, what the
// passing of time asks of the stored usage: the 7-day calls of the tokens
// whose oldest counted hours have left the window are counted again,
// counts older than UsageKeptDays are dropped, and previous secrets past
// their grace period are wiped. Asked again within the hour,
// by this server or another, it does nothing.
func (s *Store) RollUpUsage(ctx context.Context) error {
	hour := UsageHour(s.Now())
	var rolled int64
	if err := s.read.QueryRowContext(ctx, `SELECT hour FROM usage_rollup WHERE id = 1`).Scan(&rolled); err != nil {
		return err
	}
	if rolled >= hour {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// Read again where no other roll-up can run beside this one: on
		// PostgreSQL a second one clashes, runs again and finds it done.
		if err := tx.QueryRowContext(ctx, `SELECT hour FROM usage_rollup WHERE id = 1`).Scan(&rolled); err != nil {
			return err
		}
		if rolled >= hour {
			return nil
		}
		since, left := first7DaysHour(hour), first7DaysHour(rolled)
		if err := s.txExec(ctx, tx, `UPDATE tokens SET calls_7d = `+calls7dOf+`
			WHERE status != 'deleted' AND calls_7d != 0 AND id IN (SELECT token_id FROM token_usage WHERE hour >= ? AND hour < ?)`,
			since, hour, left, since); err != nil {
			return err
		}
		if err := s.txExec(ctx, tx, `DELETE FROM token_usage WHERE hour <= ?`, hour-UsageKeptDays*24); err != nil {
			return err
		}
		if err := s.forgetPreviousSecrets(ctx, tx); err != nil {
			return err
		}
		// A batch is sent again within seconds, if at all.
		if err := s.txExec(ctx, tx, `DELETE FROM usage_batches WHERE at < ?`, s.Now().Add(-24*time.Hour).UnixMilli()); err != nil {
			return err
		}
		return s.txExec(ctx, tx, `UPDATE usage_rollup SET hour = ? WHERE id = 1`, hour)
	})
}

// UsageDay is a day's calls (UTC).
type UsageDay struct {
	Date    time.Time // midnight UTC
	Calls   int64
	Refused int64
}

// Usage is what a token has been used for: the calls of the last 24 hours,
// 7 days and UsageDays days, the refused ones, day by day, and the last
// caller.
type Usage struct {
	Calls24h, Calls7d, Calls30d int64
	Refused7d, Refused30d       int64
	// Days are the last UsageDays days, today last; Calls30d and
	// Refused30d are their sums.
	Days []UsageDay
	// Last is the latest call that authenticated; zero when there was none.
	Last Caller
}

// TokenUsage returns the usage of a live token of the account: ErrNotFound
// for any other, as every read of a token does.
func (s *Store) TokenUsage(ctx context.Context, accountID, id string) (Usage, error) {
	now := s.Now().UTC()
	u := Usage{Days: make([]UsageDay, UsageDays)}
	today := now.Truncate(24 * time.Hour)
	for i := range u.Days {
		u.Days[i].Date = today.AddDate(0, 0, i-UsageDays+1)
	}
	var err error
	u.Last, err = scanCaller(s.read.QueryRowContext(ctx, `SELECT `+callerColumns+` FROM tokens
		WHERE id = ? AND account_id = ? AND status != 'deleted'`, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return Usage{}, ErrNotFound
	}
	if err != nil {
		return Usage{}, err
	}
	hour := UsageHour(now)
	first := UsageHour(u.Days[0].Date)
	rows, err := s.read.QueryContext(ctx, `SELECT hour, calls, refused FROM token_usage
		WHERE token_id = ? AND hour >= ? AND hour <= ?`, id, first, hour)
	if err != nil {
		return Usage{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var h, calls, refused int64
		if err := rows.Scan(&h, &calls, &refused); err != nil {
			return Usage{}, err
		}
		day := &u.Days[(h-first)/24]
		day.Calls += calls
		day.Refused += refused
		u.Calls30d += calls
		u.Refused30d += refused
		if h >= first7DaysHour(hour) {
			u.Calls7d += calls
			u.Refused7d += refused
		}
		if h > hour-24 {
			u.Calls24h += calls
		}
	}
	return u, rows.Err()
}

// UsageSummary is what a group of tokens was used for lately: what a
// person is told before they disable or delete them.
type UsageSummary struct {
	Calls7d, Refused7d int64
	// Last is the latest call with any of them that authenticated; zero
	// when none ever did.
	Last Caller
}

// SummarizeUsage sums the usage of the account's live tokens among ids over
// the last 7 days, and finds their latest caller. IDs of other accounts'
// tokens, or of none, count for nothing.
func (s *Store) SummarizeUsage(ctx context.Context, accountID string, ids []string) (UsageSummary, error) {
	var sum UsageSummary
	if len(ids) == 0 {
		return sum, nil
	}
	list := jsonIDs(ids)
	hour := UsageHour(s.Now())
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(u.calls), 0), COALESCE(SUM(u.refused), 0)
		FROM tokens t`+s.d.join()+`token_usage u ON u.token_id = t.id
		WHERE t.id`+s.d.inStrings()+` AND t.account_id = ? AND t.status != 'deleted' AND u.hour BETWEEN ? AND ?`,
		list, accountID, first7DaysHour(hour), hour).Scan(&sum.Calls7d, &sum.Refused7d); err != nil {
		return sum, err
	}
	last, err := scanCaller(s.read.QueryRowContext(ctx, `SELECT `+callerColumns+` FROM tokens
		WHERE id`+s.d.inStrings()+` AND account_id = ? AND status != 'deleted' AND last_access_at IS NOT NULL
		ORDER BY last_access_at DESC LIMIT 1`, list, accountID))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return sum, err
	}
	sum.Last = last
	return sum, nil
}
