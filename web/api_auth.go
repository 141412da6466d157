package web

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
)

// Limits on failed authentications from one client address: a burst of
// authFailureBurst, then one more every authFailureInterval (ten a minute);
// anything faster is refused with 429 before the database is read. At most
// authFailureClients addresses are remembered.
const (
	authFailureBurst    = 10
	authFailureInterval = 6 * time.Second
	authFailureClients  = 10_000
)

// requireToken authenticates the call by its bearer token. Only the
// Authorization header counts: a token in the query string, a cookie or the
// body is never looked at, since those end up in logs and caches. Every
// rejection looks the same to the caller; the reason goes to the log.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		client, now := clientKey(c.RealIP()), s.now()
		// Only failures are counted, after the fact: reserving a count for
		// every call would throttle a busy, honest client, and a guessed
		// secret (190 random bits) is no threat the count must race.
		if wait := s.api.failures.wait(client, now); wait > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			return problemTooManyFailures.with("Too many requests from this address failed to authenticate. Wait as long as Retry-After says, then try again with a valid token.")
		}
		secret, ok := bearerSecret(c.Request())
		if !ok {
			// RFC 6750: no error code when no credentials were sent.
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, "Bearer")
			return errInvalidToken()
		}
		t, err := s.store.TokenBySecret(c.Request().Context(), secret)
		var rejected *store.SecretRejected
		if errors.As(err, &rejected) {
			s.api.failures.fail(client, now)
			s.log.LogAttrs(c.Request().Context(), slog.LevelWarn, "API token rejected",
				slog.String("reason", rejected.Reason), slog.String("token", rejected.TokenID),
				slog.String("ip", c.RealIP()), slog.String("path", c.Request().URL.Path))
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
			return errInvalidToken()
		}
		if err != nil {
			return err
		}
		c.Set(ctxToken, t)
		s.api.access.record(t, now)
		return next(c)
	}
}

// errInvalidToken is the one answer to every failed authentication.
func errInvalidToken() *problem {
	return problemUnauthorized.with("Send an active API token in the Authorization header: Authorization: Bearer <token>.")
}

// bearerSecret returns the credentials of a Bearer Authorization header. ok
// is false when there are none; a header that is there but unusable (empty,
// or sent twice) yields "" so that it is rejected like a wrong secret.
func bearerSecret(r *http.Request) (secret string, ok bool) {
	values := r.Header.Values(echo.HeaderAuthorization)
	if len(values) == 0 {
		return "", false
	}
	if len(values) > 1 {
		return "", true
	}
	scheme, credentials, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(credentials), true
}

// requireModule lets through only tokens scoped to the module with the key.
func (s *Server) requireModule(key string) echo.MiddlewareFunc {
	name := key
	for _, m := range store.DefaultModules {
		if m.Key == key {
			name = m.Name
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			for _, m := range callerToken(c).Modules {
				if m.Key == key {
					return next(c)
				}
			}
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer error="insufficient_scope"`)
			return problemInsufficientScope.with("This API token is not allowed to manage API tokens: it needs the " + name + " module.")
		}
	}
}

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

// failureLimiter counts failed authentications per client in a leaky
// bucket: each failure adds one, and one drains away every interval.
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

func newFailureLimiter(burst int, interval time.Duration, maxClients int) *failureLimiter {
	return &failureLimiter{burst: float64(burst), interval: interval, max: maxClients,
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

// How last access is recorded: to the minute, written in batches.
const (
	accessResolution    = time.Minute
	accessFlushInterval = 5 * time.Second
)

// accessRecorder remembers when tokens authenticated and writes it in the
// background, in one transaction per batch, so that no API call waits for a
// write. A token's last access moves at most once per accessResolution.
type accessRecorder struct {
	store interface {
		RecordTokenAccess(ctx context.Context, at map[string]time.Time) error
	}
	now func() time.Time
	log *slog.Logger

	mu      sync.Mutex
	pending map[string]time.Time // not written yet
	recent  map[string]time.Time // recorded within accessResolution

	start     sync.Once
	stopOnce  sync.Once
	stop      chan struct{}
	done      chan struct{}
	flushLock sync.Mutex // one flush at a time, so batches land in order
}

func newAccessRecorder(st *store.Store, now func() time.Time, log *slog.Logger) *accessRecorder {
	return &accessRecorder{store: st, now: now, log: log,
		pending: map[string]time.Time{}, recent: map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// record notes that t authenticated at now.
func (r *accessRecorder) record(t store.Token, now time.Time) {
	if now.Sub(t.LastAccessAt) < accessResolution {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.recent[t.ID]; ok && now.Sub(last) < accessResolution {
		return
	}
	r.recent[t.ID] = now
	r.pending[t.ID] = now
	r.start.Do(func() { go r.loop() })
}

func (r *accessRecorder) loop() {
	defer close(r.done)
	tick := time.NewTicker(accessFlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := r.flush(ctx); err != nil {
				r.log.Error("record token last access", slog.Any("err", err))
			}
			cancel()
		}
	}
}

// flush writes what is pending. A batch that fails is kept for the next
// flush.
func (r *accessRecorder) flush(ctx context.Context) error {
	r.flushLock.Lock()
	defer r.flushLock.Unlock()
	r.mu.Lock()
	batch := r.pending
	r.pending = map[string]time.Time{}
	now := r.now()
	for id, at := range r.recent {
		if now.Sub(at) >= accessResolution {
			delete(r.recent, id)
		}
	}
	r.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := r.store.RecordTokenAccess(ctx, batch)
	if err != nil {
		r.mu.Lock()
		for id, at := range batch {
			if later, ok := r.pending[id]; !ok || later.Before(at) {
				r.pending[id] = at
			}
		}
		r.mu.Unlock()
	}
	return err
}

// close stops the background writer and writes what is pending.
func (r *accessRecorder) close(ctx context.Context) error {
	r.stopOnce.Do(func() { close(r.stop) })
	// If the writer never started, make sure it never will.
	r.start.Do(func() { close(r.done) })
	<-r.done
	return r.flush(ctx)
}

// FlushAccess writes the last-access times of API calls made since the
// last write. A background writer does this every few seconds; tests call
// it to see the result at once.
func (s *Server) FlushAccess(ctx context.Context) error { return s.api.access.flush(ctx) }

// Close stops the server's background work and writes what it holds. Call
// it once the HTTP server has stopped taking requests.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.api.access.close(ctx)
}
