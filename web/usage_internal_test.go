package web

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"apitokens/store"
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
			r.called("TKN-1234-5678", now, "203.0.113.7", "python-httpx/0.28")
		}
	})
}
