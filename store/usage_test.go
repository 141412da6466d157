package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// calls is a batch of n calls of each token at the time at.
func calls(at time.Time, n int64, ids ...string) UsageBatch {
	b := UsageBatch{Counts: map[UsageKey]UsageCount{}, Last: map[string]Caller{}}
	for _, id := range ids {
		b.Counts[UsageKey{id, UsageHour(at)}] = UsageCount{Calls: n}
		b.Last[id] = Caller{At: at, Address: "203.0.113.7", UserAgent: "python-httpx/0.28"}
	}
	return b
}

func (f *fixture) usage(t *testing.T, id string) Usage {
	t.Helper()
	u, err := f.s.TokenUsage(context.Background(), f.account.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) record(t *testing.T, b UsageBatch) {
	t.Helper()
	if err := f.s.RecordUsage(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func TestTokenUsage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, _ := f.createToken(t, "used")
	var first time.Time // the first call counted

	t.Run("NeverUsed", func(t *testing.T) {
		u := f.usage(t, tok.ID)
		if !u.Last.At.IsZero() || u.Calls30d != 0 || len(u.Days) != UsageDays {
			t.Fatalf("usage of a token never used: %+v", u)
		}
		if today := f.clock.Now().Truncate(24 * time.Hour); !u.Days[UsageDays-1].Date.Equal(today) ||
			!u.Days[0].Date.Equal(today.AddDate(0, 0, -UsageDays+1)) {
			t.Fatalf("days run from %v to %v, want the 30 days to %v", u.Days[0].Date, u.Days[UsageDays-1].Date, today)
		}
	})

	t.Run("DayBoundary", func(t *testing.T) {
		// The fixture's clock is at noon: 23:30 is on the same day,
		// 00:30 on the next, and each hour is counted on its own day.
		f.clock.Add(11*time.Hour + 30*time.Minute)
		late := f.clock.Now()
		first = late
		f.record(t, calls(late, 3, tok.ID))
		f.clock.Add(time.Hour)
		early := f.clock.Now()
		f.record(t, calls(early, 5, tok.ID))
		b := calls(early, 0, tok.ID)
		b.Counts[UsageKey{tok.ID, UsageHour(early)}] = UsageCount{Refused: 2}
		f.record(t, b)

		u := f.usage(t, tok.ID)
		yesterday, today := u.Days[UsageDays-2], u.Days[UsageDays-1]
		if yesterday.Calls != 3 || today.Calls != 5 || today.Refused != 2 {
			t.Fatalf("yesterday %+v, today %+v; want 3 calls, then 5 and 2 refused", yesterday, today)
		}
		if u.Calls24h != 8 || u.Calls7d != 8 || u.Calls30d != 8 || u.Refused30d != 2 || u.Refused7d != 2 {
			t.Fatalf("totals %+v", u)
		}
		if !u.Last.At.Equal(early.Truncate(time.Millisecond)) || u.Last.Address != "203.0.113.7" || u.Last.UserAgent != "python-httpx/0.28" {
			t.Fatalf("last caller %+v", u.Last)
		}
		if got := f.tokenByID(t, f.account.ID, tok.ID).Calls7d; got != 8 {
			t.Fatalf("the token's 7-day calls are %d, want 8", got)
		}
	})

	t.Run("WindowsSlide", func(t *testing.T) {
		// A day later, the calls are past 24 hours but within 7 days.
		f.clock.Add(24 * time.Hour)
		if u := f.usage(t, tok.ID); u.Calls24h != 0 || u.Calls7d != 8 {
			t.Fatalf("a day later: %+v", u)
		}
		// Eight days later they have left the 7-day window: the list's
		// count follows once the hour's roll-up has run.
		f.clock.Add(7 * 24 * time.Hour)
		if u := f.usage(t, tok.ID); u.Calls7d != 0 || u.Calls30d != 8 {
			t.Fatalf("eight days later: %+v", u)
		}
		if err := f.s.RollUpUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if got := f.tokenByID(t, f.account.ID, tok.ID).Calls7d; got != 0 {
			t.Fatalf("after the roll-up the token's 7-day calls are %d, want 0", got)
		}
	})

	t.Run("TrimmedAfter90Days", func(t *testing.T) {
		if n := f.queryInt(t, `SELECT COUNT(*) FROM token_usage WHERE token_id = ?`, tok.ID); n != 2 {
			t.Fatalf("%d hours stored, want 2", n)
		}
		// 90 days after the first hour counted, it goes; the second,
		// an hour younger, stays until the next hour.
		f.clock.Add(first.Add(UsageKeptDays * 24 * time.Hour).Sub(f.clock.Now()))
		if err := f.s.RollUpUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.queryInt(t, `SELECT COUNT(*) FROM token_usage WHERE token_id = ?`, tok.ID); n != 1 {
			t.Fatalf("%d hours stored after 90 days, want the later one", n)
		}
		f.clock.Add(time.Hour)
		if err := f.s.RollUpUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.queryInt(t, `SELECT COUNT(*) FROM token_usage WHERE token_id = ?`, tok.ID); n != 0 {
			t.Fatalf("%d hours stored past 90 days, want none", n)
		}
		// Last access and its caller stay: the token was used once.
		if u := f.usage(t, tok.ID); u.Last.At.IsZero() || u.Calls30d != 0 {
			t.Fatalf("usage after the trim: %+v", u)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		other := f.createAccount(t, "Other")
		if _, err := f.s.TokenUsage(ctx, other.ID, tok.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another account's token: %v", err)
		}
		gone, _ := f.createToken(t, "gone")
		if _, err := f.s.DeleteToken(ctx, f.account.ID, gone.ID, f.actor); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.TokenUsage(ctx, f.account.ID, gone.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a deleted token: %v", err)
		}
	})
}

// TestUsageAddsUp writes batches of the same token and hour from two store
// handles at once, as two servers do: every call is counted.
func TestUsageAddsUp(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.createToken(t, "shared")
	second, err := Open(f.path, f.keys)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.Now = f.clock.Now
	now := f.clock.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		s := f.s
		if i%2 == 1 {
			s = second
		}
		wg.Go(func() {
			errs <- s.RecordUsage(context.Background(), calls(now, 25, tok.ID))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if u := f.usage(t, tok.ID); u.Calls24h != 1000 {
		t.Fatalf("40 batches of 25 calls counted %d", u.Calls24h)
	}
	if got := f.tokenByID(t, f.account.ID, tok.ID).Calls7d; got != 1000 {
		t.Fatalf("the token's 7-day calls are %d, want 1000", got)
	}
}

// TestRollUpOnce runs the hourly roll-up from two store handles at once:
// it is done once, and again only an hour later.
func TestRollUpOnce(t *testing.T) {
	f := newFixture(t)
	second, err := Open(f.path, f.keys)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.Now = f.clock.Now
	var wg sync.WaitGroup
	for _, s := range []*Store{f.s, second, f.s, second} {
		wg.Go(func() {
			if err := s.RollUpUsage(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, want := f.queryInt(t, `SELECT hour FROM usage_rollup`), int(UsageHour(f.clock.Now())); got != want {
		t.Fatalf("rolled up to hour %d, want %d", got, want)
	}
}

func TestSummarizeUsage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, _ := f.createToken(t, "a")
	b, _ := f.createToken(t, "b")
	never, _ := f.createToken(t, "never")
	now := f.clock.Now()
	f.record(t, calls(now.Add(-3*24*time.Hour), 10, a.ID))
	f.record(t, calls(now.Add(-time.Hour), 4, b.ID))
	f.record(t, calls(now.Add(-8*24*time.Hour), 100, a.ID)) // before the 7 days
	// Counted by an instance whose clock runs two hours ahead: not in the
	// 7 days that end now, as the Usage tab does not show it either.
	f.record(t, UsageBatch{Counts: map[UsageKey]UsageCount{{b.ID, UsageHour(now.Add(2 * time.Hour))}: {Calls: 1000}}})

	other := f.createAccount(t, "Other")
	cases := []struct {
		name      string
		accountID string
		ids       []string
		calls     int64
		last      time.Time
	}{
		{"Both", f.account.ID, []string{a.ID, b.ID, never.ID}, 14, now.Add(-time.Hour)},
		{"One", f.account.ID, []string{a.ID}, 10, now.Add(-3 * 24 * time.Hour)},
		{"NeverUsed", f.account.ID, []string{never.ID}, 0, time.Time{}},
		{"AnotherAccount", other.ID, []string{a.ID, b.ID}, 0, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sum, err := f.s.SummarizeUsage(ctx, tc.accountID, tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Calls7d != tc.calls || !sum.Last.At.Equal(tc.last) {
				t.Fatalf("summary %+v, want %d calls, last at %v", sum, tc.calls, tc.last)
			}
		})
	}
}

// TestUsageBatchAddedOnce sends a batch twice under its ID, as a writer
// that could not tell whether the first send was written does: it is added
// once. The IDs are kept a day.
func TestUsageBatchAddedOnce(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.createToken(t, "sent twice")
	b := calls(f.clock.Now(), 7, tok.ID)
	b.ID = "batch-1"
	f.record(t, b)
	f.record(t, b)
	if u := f.usage(t, tok.ID); u.Calls24h != 7 {
		t.Fatalf("a batch of 7 calls sent twice counts %d", u.Calls24h)
	}
	other := calls(f.clock.Now(), 5, tok.ID)
	other.ID = "batch-2"
	f.record(t, other)
	if u := f.usage(t, tok.ID); u.Calls24h != 12 {
		t.Fatalf("another batch: %d calls, want 12", u.Calls24h)
	}
	f.clock.Add(25 * time.Hour)
	if err := f.s.RollUpUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := f.queryInt(t, `SELECT COUNT(*) FROM usage_batches`); n != 0 {
		t.Fatalf("%d batch IDs kept after a day", n)
	}
}
