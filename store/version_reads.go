package store

import (
	"context"
	"sync"
	"time"
)

// versionReads shares one read of an account's version among the requests
// that ask for it at the same time, as a database shares one log flush among
// the commits waiting for it. A request never takes the answer of a read
// that began before it asked: that read may have missed a write committed
// just before the request came. So a request either begins a read, when
// none is running for the account, or waits for the next one, which begins
// when the running one ends and answers everyone who asked in between.
// Under load on PostgreSQL, where a read is a round trip, this turns one
// read a request into one read for every few; SQLite reads alone.
type versionReads struct {
	mu      sync.Mutex
	running map[string]*versionRead
}

// versionRead is one read of one account's version.
type versionRead struct {
	done    chan struct{}
	version int64
	err     error
	// next begins when this read ends; it is made by the first request to
	// ask while this one runs, and joined by the others.
	next *versionRead
	// askers counts the requests this read answers.
	askers int
}

// versionReadTimeout bounds a shared read, which must not end when the
// request that began it goes away: the others wait for its answer.
const versionReadTimeout = 10 * time.Second

// read answers with the account's version from a read that began after the
// call; read is the one read, made by one of the callers.
func (r *versionReads) read(ctx context.Context, accountID string, read func(context.Context) (int64, error)) (int64, error) {
	r.mu.Lock()
	if r.running == nil {
		r.running = map[string]*versionRead{}
	}
	running := r.running[accountID]
	if running == nil {
		mine := &versionRead{done: make(chan struct{}), askers: 1}
		r.running[accountID] = mine
		r.mu.Unlock()
		return r.run(ctx, accountID, mine, read)
	}
	if next := running.next; next != nil {
		next.askers++
		r.mu.Unlock()
		select {
		case <-next.done:
			return next.version, next.err
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	mine := &versionRead{done: make(chan struct{}), askers: 1}
	running.next = mine
	r.mu.Unlock()
	// Others wait for this read; it begins when the running one ends, even
	// if this request is gone by then.
	<-running.done
	return r.run(ctx, accountID, mine, read)
}

// run makes the read, hands the account to the read queued behind it, and
// answers everyone waiting.
func (r *versionReads) run(ctx context.Context, accountID string, mine *versionRead, read func(context.Context) (int64, error)) (int64, error) {
	readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), versionReadTimeout)
	mine.version, mine.err = read(readCtx)
	cancel()
	r.mu.Lock()
	if mine.next != nil {
		r.running[accountID] = mine.next
	} else {
		delete(r.running, accountID)
	}
	r.mu.Unlock()
	close(mine.done)
	return mine.version, mine.err
}
