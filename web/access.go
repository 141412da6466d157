package web

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"apitokens/store"
)

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
