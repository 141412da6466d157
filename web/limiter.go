package web

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// failureLimit is how many failed attempts a client may make: a burst, then
// one more every interval; faster than that is refused with 429 before the
// attempt is looked at.
type failureLimit struct {
	burst    int
	interval time.Duration
	clients  int // how many clients are remembered; 0: limiterClients
}

// The limits, all in one place.
var (
	// bearerLimit: API calls with a bad token, per client address: ten,
	// then ten a minute.
	bearerLimit = failureLimit{burst: 10, interval: 6 * time.Second}
	// signInLimit: wrong passwords at sign-in, per client address: ten,
	// then one every 30 seconds.
	signInLimit = failureLimit{burst: 10, interval: 30 * time.Second}
	// confirmLimit: wrong passwords when confirming before a token value
	// is shown, per user: five, then one a minute.
	confirmLimit = failureLimit{burst: 5, interval: time.Minute}
)

// limiterClients bounds how many clients a limiter remembers.
const limiterClients = 10_000

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

// failureLimiter counts failed attempts per client in a leaky bucket: each
// failure adds one, and one drains away every interval.
type failureLimiter struct {
	mu       sync.Mutex
	burst    float64
	interval time.Duration
	max      int
	clients  map[string]*failureBucket
}

type failureBucket struct {
	level float64
	at    time.Time
}

func newFailureLimiter(l failureLimit) *failureLimiter {
	if l.clients == 0 {
		l.clients = limiterClients
	}
	return &failureLimiter{burst: float64(l.burst), interval: l.interval, max: l.clients,
		clients: map[string]*failureBucket{}}
}

// levelAt is the bucket's level at now, after draining.
func (l *failureLimiter) levelAt(b *failureBucket, now time.Time) float64 {
	return max(0, b.level-float64(now.Sub(b.at))/float64(l.interval))
}

// wait returns how long client must wait before it may try again; zero
// means now.
func (l *failureLimiter) wait(client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waitLocked(client, now)
}

func (l *failureLimiter) waitLocked(client string, now time.Time) time.Duration {
	b, ok := l.clients[client]
	if !ok {
		return 0
	}
	over := l.levelAt(b, now) - (l.burst - 1)
	if over <= 0 {
		return 0
	}
	return time.Duration(over * float64(l.interval))
}

// reserve counts an attempt of client as a failure before it is made, when
// client may try now, and returns zero; otherwise it returns how long to
// wait and counts nothing. A success then gives the count back with
// succeed. Counting first means attempts sent all at once cannot slip past
// the limit while the first of them is still being checked.
func (l *failureLimiter) reserve(client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.waitLocked(client, now); wait > 0 {
		return wait
	}
	l.failLocked(client, now)
	return 0
}

// succeed takes back the failure that reserve counted for an attempt that
// turned out right.
func (l *failureLimiter) succeed(client string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.clients[client]; ok {
		b.level, b.at = max(0, l.levelAt(b, now)-1), now
	}
}

// fail counts a failure of client.
func (l *failureLimiter) fail(client string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failLocked(client, now)
}

func (l *failureLimiter) failLocked(client string, now time.Time) {
	b, ok := l.clients[client]
	if !ok {
		if len(l.clients) >= l.max {
			l.evict(now)
		}
		b = &failureBucket{}
		l.clients[client] = b
	}
	b.level, b.at = l.levelAt(b, now)+1, now
}

// evict makes room: first every client whose failures have drained away,
// then, under a flood of addresses, the one with the fewest.
func (l *failureLimiter) evict(now time.Time) {
	var least string
	leastLevel := math.Inf(1)
	for client, b := range l.clients {
		level := l.levelAt(b, now)
		if level == 0 {
			delete(l.clients, client)
			continue
		}
		if level < leastLevel {
			least, leastLevel = client, level
		}
	}
	if len(l.clients) >= l.max {
		delete(l.clients, least)
	}
}
