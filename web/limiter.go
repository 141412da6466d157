package web

import (
	"context"
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// limiter counts attempts per key (an address, an account, a user) and
// says how long a key must wait. The server holds one per limit below; today
// each keeps its counts in memory (memoryLimiter), and a shared store can
// take its place behind the same methods.
type limiter interface {
	// wait returns how long key must wait before it may try again; zero
	// means now.
	wait(ctx context.Context, key string, now time.Time) (time.Duration, error)
	// reserve counts an attempt of key before it is made, when key may try
	// now, and returns zero; otherwise it returns how long to wait and
	// counts nothing. Counting first means attempts sent all at once cannot
	// slip past the limit while the first of them is still being checked.
	reserve(ctx context.Context, key string, now time.Time) (time.Duration, error)
	// succeed takes back the count reserve made for an attempt that turned
	// out right.
	succeed(ctx context.Context, key string, now time.Time) error
	// fail counts a failed attempt of key.
	fail(ctx context.Context, key string, now time.Time) error
}

// rate is a limit: a burst of attempts, then one more every interval;
// faster than that is refused with 429.
type rate struct {
	burst    int
	interval time.Duration
	keys     int // how many keys are remembered; 0: limiterKeys
}

// The limits, all in one place. Most count failures only, so that a client
// with the right credentials is never held back by the wrong ones of others.
var (
	// bearerLimit: API calls with a bad token, per client address: ten,
	// then ten a minute.
	bearerLimit = rate{burst: 10, interval: 6 * time.Second}
	// signInLimit: wrong passwords at sign-in from browsers that have not
	// signed in to the account before, per client address; and, from a
	// browser that has, per browser: ten, then one every 30 seconds.
	signInLimit = rate{burst: 10, interval: 30 * time.Second}
	// accountSignInLimit: wrong passwords for one email address from
	// browsers that have not signed in to it before, from any address: ten,
	// then one a minute, so that spreading guesses over many addresses
	// gains nothing.
	accountSignInLimit = rate{burst: 10, interval: time.Minute}
	// confirmLimit: wrong passwords when confirming before a token value
	// is shown, per user: five, then one a minute.
	confirmLimit = rate{burst: 5, interval: time.Minute}
	// revealLimit: token values shown, per user: ten, then ten a minute.
	revealLimit = rate{burst: 10, interval: 6 * time.Second}
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

// memoryLimiter counts attempts per key in a leaky bucket, in memory: each
// attempt adds one, and one drains away every interval.
type memoryLimiter struct {
	mu       sync.Mutex
	burst    float64
	interval time.Duration
	max      int
	keys     map[string]*bucket
}

type bucket struct {
	level float64
	at    time.Time
}

func newMemoryLimiter(r rate) *memoryLimiter {
	if r.keys == 0 {
		r.keys = limiterKeys
	}
	return &memoryLimiter{burst: float64(r.burst), interval: r.interval, max: r.keys,
		keys: map[string]*bucket{}}
}

// levelAt is the bucket's level at now, after draining.
func (l *memoryLimiter) levelAt(b *bucket, now time.Time) float64 {
	return max(0, b.level-float64(now.Sub(b.at))/float64(l.interval))
}

func (l *memoryLimiter) wait(_ context.Context, key string, now time.Time) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waitLocked(key, now), nil
}

func (l *memoryLimiter) waitLocked(key string, now time.Time) time.Duration {
	b, ok := l.keys[key]
	if !ok {
		return 0
	}
	over := l.levelAt(b, now) - (l.burst - 1)
	if over <= 0 {
		return 0
	}
	return time.Duration(over * float64(l.interval))
}

func (l *memoryLimiter) reserve(_ context.Context, key string, now time.Time) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.waitLocked(key, now); wait > 0 {
		return wait, nil
	}
	l.addLocked(key, now)
	return 0, nil
}

func (l *memoryLimiter) succeed(_ context.Context, key string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.keys[key]; ok {
		b.level, b.at = max(0, l.levelAt(b, now)-1), now
	}
	return nil
}

func (l *memoryLimiter) fail(_ context.Context, key string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addLocked(key, now)
	return nil
}

func (l *memoryLimiter) addLocked(key string, now time.Time) {
	b, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.max {
			l.evict(now)
		}
		b = &bucket{}
		l.keys[key] = b
	}
	b.level, b.at = l.levelAt(b, now)+1, now
}

// evict makes room: first every key whose attempts have drained away,
// then, under a flood of addresses, the one with the fewest.
func (l *memoryLimiter) evict(now time.Time) {
	var least string
	leastLevel := math.Inf(1)
	for key, b := range l.keys {
		level := l.levelAt(b, now)
		if level == 0 {
			delete(l.keys, key)
			continue
		}
		if level < leastLevel {
			least, leastLevel = key, level
		}
	}
	if len(l.keys) >= l.max {
		delete(l.keys, least)
	}
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
