package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingPolicies is a store whose runs of the policies are counted, and
// answer what they are told to.
type countingPolicies struct {
	mu       sync.Mutex
	runs     int
	disabled int
	err      error
	ran      chan struct{}
}

func (c *countingPolicies) DisableUnusedTokens(context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs++
	select {
	case c.ran <- struct{}{}:
	default:
	}
	return c.disabled, c.err
}

// TestUnusedPolicyJob runs the job on a short interval: it runs the
// policies on each tick, logs what they did without naming a token, and
// stops on close; closed before it started, it never starts.
func TestUnusedPolicyJob(t *testing.T) {
	var logs bytes.Buffer
	st := &countingPolicies{disabled: 3, ran: make(chan struct{}, 1)}
	j := newUnusedPolicyJob(st, slog.New(slog.NewTextHandler(&logs, nil)), time.Millisecond)
	j.run()
	select {
	case <-st.ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the job did not run the policies")
	}
	// close returns once the loop has ended: no run goes on after it.
	j.close()
	st.mu.Lock()
	st.err = errors.New("database unavailable")
	st.mu.Unlock()
	if got := logs.String(); !strings.Contains(got, `msg="disabled unused tokens" tokens=3`) {
		t.Fatalf("log: %s", got)
	}
	// A run that fails is logged; one stopped by close is not a failure.
	j.once()
	if got := logs.String(); strings.Contains(got, "level=ERROR") {
		t.Fatalf("a run stopped by close is logged as an error: %s", got)
	}
	failing := newUnusedPolicyJob(st, j.log, time.Hour)
	failing.once()
	if got := logs.String(); !strings.Contains(got, `level=ERROR msg="disable unused tokens" err="database unavailable"`) {
		t.Fatalf("log of a failed run: %s", got)
	}

	idle := newUnusedPolicyJob(st, j.log, time.Millisecond)
	idle.close()
	idle.run()
	select {
	case <-idle.done:
	default:
		t.Fatal("a job closed before it started is not done")
	}
}
