package web

import (
	"context"
	"math"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"apitokens/store"
)

// limiter counts attempts per key (an address, an account, a user) and
// says how long a key must wait. The server holds one per limit below: on
// SQLite, where one process serves, each keeps its counts in memory
// (memoryLimiter); on PostgreSQL, where several instances may serve
// together, in the database (sharedLimiter), so that a budget of ten is ten
// across them all.
type limiter interface {
	// reserve counts an attempt of key before it is made, when key may try
	// now, and returns zero; otherwise it returns how long to wait and
	// counts nothing. Counting first means attempts sent all at once cannot
	// slip past the limit while the first of them is still being checked.
	reserve(ctx context.Context, key string, now time.Time) (time.Duration, error)
	// succeed takes back the count reserve made for an attempt that turned
	// out right.
	succeed(ctx context.Context, key string, now time.Time) error
}

// rate is a limit: a burst of attempts, then one more every interval;
// faster than that is refused with 429.
type rate struct {
	name     string // names the limit's buckets in the database
	burst    int
	interval time.Duration
	keys     int // how many keys memory remembers; 0: limiterKeys
}

// The arithmetic of a leaky bucket, for both limiters: each attempt adds
// one, and one drains away every interval.

// levelAt is b's level at now, after draining.
func (r rate) levelAt(b store.LimitBucket, now time.Time) float64 {
	if b.At.IsZero() {
		return 0
	}
	return max(0, b.Level-float64(now.Sub(b.At))/float64(r.interval))
}

// waitFor is how long a key with bucket b must wait at now before its next
// attempt.
func (r rate) waitFor(b store.LimitBucket, now time.Time) time.Duration {
	over := r.levelAt(b, now) - float64(r.burst-1)
	if over <= 0 {
		return 0
	}
	return time.Duration(over * float64(r.interval))
}

// plus is b with delta attempts added at now (a negative one takes back),
// and when it will have drained away.
func (r rate) plus(b store.LimitBucket, delta float64, now time.Time) (store.LimitBucket, time.Time) {
	level := max(0, r.levelAt(b, now)+delta)
	return store.LimitBucket{Level: level, At: now}, now.Add(time.Duration(level * float64(r.interval)))
}

// The limits, all in one place. Most count failures only, so that a client
// with the right credentials is never held back by the wrong ones of others.
var (
	// bearerLimit: API calls with a bad token, per client address: ten,
	// then ten a minute.
	bearerLimit = rate{name: "bearer", burst: 10, interval: 6 * time.Second}
	// signInLimit: wrong passwords at sign-in from browsers that have not
	// signed in to the account before, per client address; and, from a
	// browser that has, per browser: ten, then one every 30 seconds.
	signInLimit = rate{name: "sign-in", burst: 10, interval: 30 * time.Second}
	// signInBrowserLimit: the same, per browser.
	signInBrowserLimit = rate{name: "sign-in-browser", burst: signInLimit.burst, interval: signInLimit.interval}
	// accountSignInLimit: wrong passwords for one email address from
	// browsers that have not signed in to it before, from any address: ten,
	// then one a minute, so that spreading guesses over many addresses
	// gains nothing.
	accountSignInLimit = rate{name: "sign-in-account", burst: 10, interval: time.Minute}
	// confirmLimit: wrong passwords when confirming before a token value
	// is shown, per user: five, then one a minute.
	confirmLimit = rate{name: "confirm", burst: 5, interval: time.Minute}
	// revealLimit: token values shown, per user: ten, then ten a minute.
	revealLimit = rate{name: "reveal", burst: 10, interval: 6 * time.Second}
)

// limiterKeys bounds how many keys a memoryLimiter remembers.
const limiterKeys = 10_000

// clientKey is what failures are counted by: the address, or for IPv6 its
// /64, which one subscriber usually holds whole.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.String()
		}
	}
	return addr.String()
}

// accountKey is what wrong passwords for an account are counted by: the
// email address as the store finds it, whether or not it has an account, so
// that the limit tells nothing of which addresses do.
func accountKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// memoryLimiter counts attempts per key in a leaky bucket, in memory.
type memoryLimiter struct {
	mu   sync.Mutex
	rate rate
	keys map[string]store.LimitBucket
}

func newMemoryLimiter(r rate) *memoryLimiter {
	if r.keys == 0 {
		r.keys = limiterKeys
	}
	return &memoryLimiter{rate: r, keys: map[string]store.LimitBucket{}}
}

func (l *memoryLimiter) reserve(_ context.Context, key string, now time.Time) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.rate.waitFor(l.keys[key], now); wait > 0 {
		return wait, nil
	}
	l.addLocked(key, 1, now)
	return 0, nil
}

func (l *memoryLimiter) succeed(_ context.Context, key string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.keys[key]; ok {
		l.addLocked(key, -1, now)
	}
	return nil
}

func (l *memoryLimiter) addLocked(key string, delta float64, now time.Time) {
	if _, ok := l.keys[key]; !ok && len(l.keys) >= l.rate.keys {
		l.evict(now)
	}
	l.keys[key], _ = l.rate.plus(l.keys[key], delta, now)
}

// evict makes room: first every key whose attempts have drained away,
// then, under a flood of addresses, the one with the fewest.
func (l *memoryLimiter) evict(now time.Time) {
	var least string
	leastLevel := math.Inf(1)
	for key, b := range l.keys {
		level := l.rate.levelAt(b, now)
		if level == 0 {
			delete(l.keys, key)
			continue
		}
		if level < leastLevel {
			least, leastLevel = key, level
		}
	}
	if len(l.keys) >= l.rate.keys {
		delete(l.keys, least)
	}
}

// sharedLimiter counts attempts per key in the database's buckets, which
// every instance of the server reads and changes in one transaction at a
// time. Only attempts are counted there: a valid API call reads no bucket.
//
// A key found over its limit is remembered here until the time it must
// wait for has passed: its next attempts, refused anyway, cost no database
// read (a flood of garbage secrets from one address reads nothing). This
// instance may so refuse a little longer than the database would (another
// instance may have taken a count back meanwhile), never shorter: no
// attempt the database would refuse is let in here.
type sharedLimiter struct {
	store   *store.Store
	rate    rate
	blocked sync.Map // key → time.Time until which it must wait
	// remembered counts the keys stored in blocked, which is emptied past
	// limiterKeys: forgetting costs a read, never a refusal.
	remembered atomic.Int64
}

// blockedFor is how long key must still wait, as last found over its limit.
func (l *sharedLimiter) blockedFor(key string, now time.Time) time.Duration {
	v, ok := l.blocked.Load(key)
	if !ok {
		return 0
	}
	if until := v.(time.Time); until.After(now) {
		return until.Sub(now)
	}
	l.blocked.Delete(key)
	return 0
}

// block remembers that key must wait from now.
func (l *sharedLimiter) block(key string, now time.Time, wait time.Duration) {
	if wait <= 0 {
		return
	}
	if l.remembered.Add(1) > limiterKeys {
		l.blocked.Clear()
		l.remembered.Store(0)
	}
	l.blocked.Store(key, now.Add(wait))
}

func (l *sharedLimiter) reserve(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if wait := l.blockedFor(key, now); wait > 0 {
		return wait, nil
	}
	var wait time.Duration
	err := l.store.ChangeLimitBucket(ctx, l.rate.name, key, func(b store.LimitBucket) (store.LimitBucket, time.Time, bool) {
		if wait = l.rate.waitFor(b, now); wait > 0 {
			return b, time.Time{}, false
		}
		next, drained := l.rate.plus(b, 1, now)
		return next, drained, true
	})
	l.block(key, now, wait)
	return wait, err
}

func (l *sharedLimiter) succeed(ctx context.Context, key string, now time.Time) error {
	return l.store.ChangeLimitBucket(ctx, l.rate.name, key, func(b store.LimitBucket) (store.LimitBucket, time.Time, bool) {
		if b.At.IsZero() {
			return b, time.Time{}, false // nothing to take back
		}
		next, drained := l.rate.plus(b, -1, now)
		return next, drained, true
	})
}

// newLimiter is the limiter of r for the store's engine (in memory without
// one, as the route table's own tests build the server).
func newLimiter(st *store.Store, r rate) limiter {
	if st != nil && st.Shared() {
		return &sharedLimiter{store: st, rate: r}
	}
	return newMemoryLimiter(r)
}

// limitedBy is one limit an attempt counts against: the limiter, the key
// it counts by, and what a client it refuses is told went wrong too often.
type limitedBy struct {
	limiter limiter
	key     string
	what    string
}

// reserveAll reserves an attempt against every limit, or against none:
// when one refuses, the counts made already are taken back, and the error
// is its refusal, a *problem with status 429.
func reserveAll(ctx context.Context, now time.Time, limits ...limitedBy) error {
	for i, l := range limits {
		wait, err := l.limiter.reserve(ctx, l.key, now)
		if err == nil && wait == 0 {
			continue
		}
		if undo := succeedAll(ctx, now, limits[:i]...); err == nil {
			err = undo
		}
		if err != nil {
			return err
		}
		return tooManyAttempts(l.what, wait)
	}
	return nil
}

// succeedAll takes back the counts reserveAll made for an attempt that
// turned out right.
func succeedAll(ctx context.Context, now time.Time, limits ...limitedBy) error {
	for _, l := range limits {
		if err := l.limiter.succeed(ctx, l.key, now); err != nil {
			return err
		}
	}
	return nil
}
