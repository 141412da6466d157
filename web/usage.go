package web

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
)

// usageFlushInterval is how often the usage of API calls is written: a
// process killed outright loses at most this much of its counts.
const usageFlushInterval = 5 * time.Second

// usageRecorder counts API calls per token and hour, notes each token's
// latest caller, and writes both in the background, in one transaction per
// batch, so that no API call waits for a write. Counts are added to the
// stored ones, so that several servers' batches add up.
type usageRecorder struct {
	store interface {
		RecordUsage(ctx context.Context, b store.UsageBatch) error
		RollUpUsage(ctx context.Context) error
	}
	log *slog.Logger

	mu      sync.Mutex
	pending store.UsageBatch // not written yet

	// unsure is a batch whose write failed: perhaps before its commit,
	// perhaps only the answer was lost. It is sent again, as it was and
	// under its ID, before anything newer, so that it is added once.
	unsure *store.UsageBatch

	start     sync.Once // the writer, once
	stopOnce  sync.Once
	stop      chan struct{}
	done      chan struct{}
	flushLock sync.Mutex // one flush at a time, so batches land in order; it guards unsure
}

func newUsageRecorder(st *store.Store, log *slog.Logger) *usageRecorder {
	return &usageRecorder{store: st, log: log, pending: newUsageBatch(),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// run starts the background writer, which also rolls the stored usage up
// each hour: that goes on while no API call comes, or the list's 7-day
// counts would stand still. close stops it.
func (r *usageRecorder) run() { r.start.Do(func() { go r.loop() }) }

func newUsageBatch() store.UsageBatch {
	return store.UsageBatch{Counts: map[store.UsageKey]store.UsageCount{}, Last: map[string]store.Caller{},
		Previous: map[string]store.Caller{}, Refused: map[string]store.Caller{}}
}

// called counts a call that token id authenticated at now, from address
// with the client userAgent; previous says it was made with the secret the
// token had before its rotation, which is counted apart as well.
func (r *usageRecorder) called(id string, now time.Time, address, userAgent string, previous bool) {
	k := store.UsageKey{TokenID: id, Hour: store.UsageHour(now)}
	caller := store.Caller{At: now, Address: address, UserAgent: userAgent}
	r.mu.Lock()
	n := r.pending.Counts[k]
	n.Calls++
	if previous {
		n.Previous++
		keepLatest(r.pending.Previous, id, caller)
	}
	r.pending.Counts[k] = n
	keepLatest(r.pending.Last, id, caller)
	r.mu.Unlock()
}

// refused counts a call refused at now with token id's own secret, from
// address with the client userAgent: the token is disabled or expired, or
// does not allow the address. Something still uses what was turned off, or
// uses it from elsewhere.
func (r *usageRecorder) refused(id string, now time.Time, address, userAgent string) {
	k := store.UsageKey{TokenID: id, Hour: store.UsageHour(now)}
	r.mu.Lock()
	n := r.pending.Counts[k]
	n.Refused++
	r.pending.Counts[k] = n
	keepLatest(r.pending.Refused, id, store.Caller{At: now, Address: address, UserAgent: userAgent})
	r.mu.Unlock()
}

// keepLatest keeps c as token id's caller in callers unless a later one is
// there: calls of one batch may be counted out of order.
func keepLatest(callers map[string]store.Caller, id string, c store.Caller) {
	if last, ok := callers[id]; !ok || !c.At.Before(last.At) {
		callers[id] = c
	}
}

func (r *usageRecorder) loop() {
	defer close(r.done)
	tick := time.NewTicker(usageFlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			// Each on its own deadline: a slow write of counts must not
			// leave the roll-up no time.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := r.flush(ctx); err != nil {
				r.log.Error("record token usage", slog.Any("err", err))
			}
			cancel()
			ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
			if err := r.store.RollUpUsage(ctx); err != nil {
				r.log.Error("roll up token usage", slog.Any("err", err))
			}
			cancel()
		}
	}
}

// flush writes what is pending, after a batch whose write failed before.
// A batch that fails is kept, and sent again as it was at the next flush.
func (r *usageRecorder) flush(ctx context.Context) error {
	r.flushLock.Lock()
	defer r.flushLock.Unlock()
	if r.unsure != nil {
		if err := r.store.RecordUsage(ctx, *r.unsure); err != nil {
			return err
		}
		r.unsure = nil
	}
	r.mu.Lock()
	batch := r.pending
	r.pending = newUsageBatch()
	r.mu.Unlock()
	if batch.Empty() {
		return nil
	}
	batch.ID = rand.Text()
	err := r.store.RecordUsage(ctx, batch)
	if err != nil {
		r.unsure = &batch
	}
	return err
}

// close stops the background writer and writes what is pending.
func (r *usageRecorder) close(ctx context.Context) error {
	r.stopOnce.Do(func() { close(r.stop) })
	// If the writer never started, make sure it never will.
	r.start.Do(func() { close(r.done) })
	<-r.done
	return r.flush(ctx)
}

// apiUsage is a token's usage in the API.
type apiUsage struct {
	Calls24h   int64         `json:"calls24h"`
	Calls7d    int64         `json:"calls7d"`
	Calls30d   int64         `json:"calls30d"`
	Refused30d int64         `json:"refused30d"`
	Days       []apiUsageDay `json:"days"`
	LastCaller *apiCaller    `json:"lastCaller"`
}

type apiUsageDay struct {
	Date    string `json:"date"`
	Calls   int64  `json:"calls"`
	Refused int64  `json:"refused"`
}

type apiCaller struct {
	At        time.Time `json:"at"`
	Address   string    `json:"address"`
	UserAgent string    `json:"userAgent"`
}

// handleAPITokenUsage answers what a token of the caller's account has been
// used for: totals, the last 30 days (oldest first) and the last caller.
func (s *Server) handleAPITokenUsage(c echo.Context) error {
	t := callerToken(c)
	u, err := s.store.TokenUsage(c.Request().Context(), t.AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	out := apiUsage{Calls24h: u.Calls24h, Calls7d: u.Calls7d, Calls30d: u.Calls30d, Refused30d: u.Refused30d,
		Days: make([]apiUsageDay, len(u.Days))}
	for i, d := range u.Days {
		out.Days[i] = apiUsageDay{Date: d.Date.Format(time.DateOnly), Calls: d.Calls, Refused: d.Refused}
	}
	if !u.Last.At.IsZero() {
		out.LastCaller = &apiCaller{At: u.Last.At.UTC(), Address: u.Last.Address, UserAgent: u.Last.UserAgent}
	}
	return c.JSON(http.StatusOK, out)
}
