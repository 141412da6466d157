package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// heldReads is a read of versions that a test lets end, one at a time.
type heldReads struct {
	began   chan int   // the read's number, as it begins
	release chan int64 // the version the read answers
	count   atomic.Int32
}

func newHeldReads() *heldReads {
	return &heldReads{began: make(chan int, 8), release: make(chan int64)}
}

func (h *heldReads) read(ctx context.Context) (int64, error) {
	h.began <- int(h.count.Add(1))
	select {
	case v := <-h.release:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

type versionAnswer struct {
	version int64
	err     error
}

func TestVersionReads(t *testing.T) {
	ask := func(r *versionReads, ctx context.Context, h *heldReads) chan versionAnswer {
		out := make(chan versionAnswer, 1)
		go func() {
			v, err := r.read(ctx, "ACC-1", h.read)
			out <- versionAnswer{v, err}
		}()
		return out
	}
	// waitQueued waits until n requests wait for the read queued behind
	// the running one.
	waitQueued := func(t *testing.T, r *versionReads, n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			r.mu.Lock()
			running := r.running["ACC-1"]
			queued := running != nil && running.next != nil && running.next.askers == n
			r.mu.Unlock()
			if queued {
				return
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatalf("%d requests not queued behind the running read after 5 s", n)
	}
	answer := func(t *testing.T, c chan versionAnswer) versionAnswer {
		t.Helper()
		select {
		case a := <-c:
			return a
		case <-time.After(5 * time.Second):
			t.Fatal("no answer after 5 s")
			return versionAnswer{}
		}
	}

	t.Run("NoAnswerFromAReadBegunBefore", func(t *testing.T) {
		var r versionReads
		h := newHeldReads()
		first := ask(&r, context.Background(), h)
		if n := <-h.began; n != 1 {
			t.Fatalf("read %d began", n)
		}
		// Two requests ask while read 1 runs: a write may have committed
		// after read 1 began and before they asked, so read 1's answer is
		// not theirs.
		second := ask(&r, context.Background(), h)
		waitQueued(t, &r, 1)
		third := ask(&r, context.Background(), h)
		waitQueued(t, &r, 2)
		if len(h.began) != 0 {
			t.Fatalf("read %d began beside the running one", <-h.began)
		}
		h.release <- 1
		if a := answer(t, first); a.version != 1 || a.err != nil {
			t.Fatalf("first: %+v", a)
		}
		if n := <-h.began; n != 2 {
			t.Fatalf("read %d began", n)
		}
		h.release <- 2
		for name, c := range map[string]chan versionAnswer{"second": second, "third": third} {
			if a := answer(t, c); a.version != 2 || a.err != nil {
				t.Errorf("%s: %+v, want the answer of read 2, which began after it asked", name, a)
			}
		}
		if n := h.count.Load(); n != 2 {
			t.Errorf("%d reads for three requests, want 2", n)
		}
		if len(r.running) != 0 {
			t.Errorf("running after all answered: %v", r.running)
		}
	})

	// No asker of a queued read is special: the first, which made it, may
	// leave like any other.
	t.Run("AskerGoneLeavesTheOthers", func(t *testing.T) {
		var r versionReads
		h := newHeldReads()
		first := ask(&r, context.Background(), h)
		<-h.began
		gone, cancel := context.WithCancel(context.Background())
		queuedIt := ask(&r, gone, h)
		waitQueued(t, &r, 1)
		follower := ask(&r, context.Background(), h)
		waitQueued(t, &r, 2)
		cancel()
		// Whoever queued the read may leave at once…
		if a := answer(t, queuedIt); !errors.Is(a.err, context.Canceled) {
			t.Errorf("the request that queued the read, gone: %+v, want context.Canceled", a)
		}
		h.release <- 1
		answer(t, first)
		<-h.began
		h.release <- 2
		// …and the read still answers the others.
		if a := answer(t, follower); a.version != 2 || a.err != nil {
			t.Errorf("follower: %+v, want read 2's answer", a)
		}
	})

	t.Run("PanickedReadFreesTheAccount", func(t *testing.T) {
		var r versionReads
		h := newHeldReads()
		var calls atomic.Int32
		read := func(ctx context.Context) (int64, error) {
			if calls.Add(1) == 2 {
				panic("driver")
			}
			return h.read(ctx)
		}
		asking := func() chan versionAnswer {
			out := make(chan versionAnswer, 1)
			go func() {
				v, err := r.read(context.Background(), "ACC-1", read)
				out <- versionAnswer{v, err}
			}()
			return out
		}
		first := asking()
		<-h.began
		waiter := asking()
		waitQueued(t, &r, 1)
		h.release <- 1
		answer(t, first)
		// The queued read panics in a goroutine of its own.
		if a := answer(t, waiter); !errors.Is(a.err, errVersionReadStopped) {
			t.Errorf("waiter of a read that panicked: %+v, want errVersionReadStopped", a)
		}
		later := asking()
		<-h.began
		h.release <- 3
		if a := answer(t, later); a.version != 3 || a.err != nil {
			t.Errorf("the next request after a read panicked: %+v", a)
		}
	})
}

// TestSharedVersionReadsSeeEveryWrite holds the rule on the real store
// while many requests share reads: whoever asks after a write committed
// gets its version or a newer one.
func TestSharedVersionReadsSeeEveryWrite(t *testing.T) {
	f := newFixture(t)
	other := f.secondInstance(t)
	tok, _ := f.createToken(t, "shared")
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := f.s.accountVersion(ctx, f.account.ID); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for i := range 30 {
		name := "shared " + string(rune('a'+i%26))
		if _, _, err := other.UpdateToken(ctx, f.account.ID, tok.ID, TokenUpdate{Name: name, Only: []string{FieldName}}, f.actor); err != nil {
			t.Fatal(err)
		}
		var written int64
		if err := other.read.QueryRowContext(ctx, `SELECT version FROM account_versions WHERE account_id = ?`, f.account.ID).Scan(&written); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.accountVersion(ctx, f.account.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got < written {
			t.Fatalf("write %d: read version %d after the write committed version %d", i, got, written)
		}
		page, err := f.s.TokenByID(ctx, f.account.ID, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		if page.Name != name {
			t.Fatalf("write %d: page shows %q after the rename to %q", i, page.Name, name)
		}
	}
}
