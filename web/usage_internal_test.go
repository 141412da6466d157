package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"apitokens/store"
	"apitokens/store/storetest"
)

// discardUsage is a store that takes every batch and keeps nothing: the
// recorder's own cost, without the database's.
type discardUsage struct{}

func (discardUsage) RecordUsage(context.Context, store.UsageBatch) error { return nil }
func (discardUsage) RollUpUsage(context.Context) error                   { return nil }

// BenchmarkUsageCalled is what counting costs an API call, with every
// goroutine calling with the one token, as a busy integration does.
func BenchmarkUsageCalled(b *testing.B) {
	r := &usageRecorder{store: discardUsage{}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		pending: newUsageBatch(), stop: make(chan struct{}), done: make(chan struct{})}
	r.run()
	defer r.close(context.Background())
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.called("TKN-1234-5678", now, "203.0.113.7", "python-httpx/0.28", false)
		}
	})
}

// lostAnswer is the real store, but the first write of usage it is given
// is written and answered with an error, as when a commit's answer is lost
// on its way back.
type lostAnswer struct {
	*store.Store
	lost bool
}

func (s *lostAnswer) RecordUsage(ctx context.Context, b store.UsageBatch) error {
	err := s.Store.RecordUsage(ctx, b)
	if err == nil && !s.lost {
		s.lost = true
		return errors.New("connection reset as the commit's answer came back")
	}
	return err
}

// TestUsageAnswerLost: a batch whose write succeeded but was reported as
// failed is sent again at the next flush, and counted once.
func TestUsageAnswerLost(t *testing.T) {
	st, err := store.Open(storetest.DSN(t), store.Keys{Digest: make([]byte, 32), Encryption: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	acc, err := st.CreateAccount(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, store.NewUser{AccountID: acc.ID, Email: "a@acme.test", Name: "Ada", Role: store.RoleAdmin, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := st.CreateToken(ctx, store.NewToken{AccountID: acc.ID, Name: "Counted"}, store.UserActor(u.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	r := &usageRecorder{store: &lostAnswer{Store: st}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		pending: newUsageBatch(), stop: make(chan struct{}), done: make(chan struct{})}
	now := st.Now()
	for range 3 {
		r.called(tok.ID, now, "203.0.113.7", "curl/8.5.0", false)
	}
	if err := r.flush(ctx); err == nil {
		t.Fatal("the lost answer was not reported")
	}
	r.called(tok.ID, now, "203.0.113.7", "curl/8.5.0", false)
	if err := r.close(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := st.TokenUsage(ctx, acc.ID, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Calls24h != 4 {
		t.Fatalf("4 calls, one batch of them sent twice, count %d", got.Calls24h)
	}
}
