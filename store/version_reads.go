package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// versionReads shares one read of an account's version among the requests
// that ask for it at the same time, as a database shares one log flush among
// the commits waiting for it. A request never takes the answer of a read
// that began before it asked: that read may have missed a write committed
// just before the request came. So a request either begins a read, when
// none is running for the account, or joins the next one, which begins when
// the running one ends and answers everyone who asked in between.
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
	// begun is set, under the lock, as the read goes to the database:
	// from then on, nobody may join it.
	begun bool
	// next begins when this read ends; it is made by the first request to
	// ask after this one began, and joined by the others.
	next *versionRead
	// askers counts the requests this read answers.
	askers int
}

// versionReadTimeout bounds a read that answers others: it must not end
// when one of them goes away.
const versionReadTimeout = 10 * time.Second

// errVersionReadStopped answers the requests that waited for a read that
// stopped without an answer (it panicked).
var errVersionReadStopped = errors.New("store: the read of an account's version stopped without an answer")

// read answers with the account's version from a read that began after the
// call; read is the one read, for this account.
func (r *versionReads) read(ctx context.Context, accountID string, read func(context.Context) (int64, error)) (int64, error) {
	r.mu.Lock()
	if r.running == nil {
		r.running = map[string]*versionRead{}
	}
	running := r.running[accountID]
	if running == nil {
		// None runs: this request reads, for itself alone.
		mine := &versionRead{done: make(chan struct{}), begun: true, askers: 1}
		r.running[accountID] = mine
		r.mu.Unlock()
		r.run(ctx, accountID, mine, read)
		return mine.version, mine.err
	}
	wait := running
	if running.begun {
		if running.next == nil {
			running.next = &versionRead{done: make(chan struct{})}
		}
		wait = running.next
	}
	wait.askers++
	r.mu.Unlock()
	select {
	case <-wait.done:
		return wait.version, wait.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run makes the read, hands the account to the read queued behind it, if
// any, which it begins, and answers everyone waiting, whatever happens.
func (r *versionReads) run(ctx context.Context, accountID string, mine *versionRead, read func(context.Context) (int64, error)) {
	mine.err = errVersionReadStopped
	defer func() {
		r.mu.Lock()
		next := mine.next
		if next != nil {
			r.running[accountID] = next
		} else {
			delete(r.running, accountID)
		}
		r.mu.Unlock()
		close(mine.done)
		if next != nil {
			go r.runQueued(accountID, next, read)
		}
	}()
	mine.version, mine.err = read(ctx)
}

// runQueued makes a read that answers the requests that joined it, on no
// one request's context: none of them going away ends it.
func (r *versionReads) runQueued(accountID string, mine *versionRead, read func(context.Context) (int64, error)) {
	// A read that panics answers its askers errVersionReadStopped (run)
	// and must not take the server down from a goroutine of its own.
	defer func() { _ = recover() }()
	r.mu.Lock()
	mine.begun = true
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), versionReadTimeout)
	defer cancel()
	r.run(ctx, accountID, mine, read)
}
