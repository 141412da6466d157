package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// seedTokens gives the fixture's account n tokens with a module each.
func seedTokens(b *testing.B, f *fixture, n int) []Token {
	b.Helper()
	tokens := make([]Token, 0, n)
	for i := range n {
		tok, _, err := f.s.CreateToken(context.Background(), NewToken{AccountID: f.account.ID,
			Name: fmt.Sprintf("token %d", i), ModuleIDs: []string{f.modules[i%len(f.modules)].ID}}, f.actor)
		if err != nil {
			b.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	return tokens
}

func BenchmarkListTokens(b *testing.B) {
	f := newFixture(b)
	seedTokens(b, f, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		page, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Limit: 50})
		if err != nil || len(page.Tokens) != 50 {
			b.Fatalf("%d tokens, %v", len(page.Tokens), err)
		}
	}
}

func BenchmarkTokenBySecret(b *testing.B) {
	f := newFixture(b)
	seedTokens(b, f, 100)
	_, secret, err := f.s.CreateToken(context.Background(), NewToken{AccountID: f.account.ID, Name: "hot"}, f.actor)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.s.TokenBySecret(ctx, secret); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeleteToken is one durable delete (synchronous=FULL): the write
// transaction, its audit event and the fsync of the WAL.
func BenchmarkDeleteToken(b *testing.B) {
	f := newFixture(b)
	tokens := seedTokens(b, f, b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.s.DeleteToken(ctx, f.account.ID, tokens[i].ID, f.actor); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListTokens100k lists an account of 100,000 tokens (seeded once,
// in a few seconds, by seedMany): the first page and page 1,000 of 50 (its
// cursor found once, by walking there), in each order, going forward and
// back, and filtered and searched views. Every view must stay under 5 ms;
// the broad ones say what counting many matches costs.
func BenchmarkListTokens100k(b *testing.B) {
	f := newFixture(b)
	all := seedMany(b, f, 100_000)
	ctx := context.Background()
	// page1000 walks 999 pages and returns the cursors around page 1,000.
	page1000 := func(fl TokenFilter) (after, before string) {
		page, err := f.s.ListTokens(ctx, f.account.ID, fl)
		for range 999 {
			if err != nil {
				b.Fatal(err)
			}
			fl.After = page.NextCursor
			page, err = f.s.ListTokens(ctx, f.account.ID, fl)
		}
		if err != nil || page.Offset != 999*DefaultPageSize {
			b.Fatalf("page 1,000 starts at %d, %v", page.Offset, err)
		}
		return fl.After, page.NextCursor
	}
	type view struct {
		name string
		f    TokenFilter
		want int // tokens on the page
	}
	var views []view
	for _, sort := range []TokenSort{SortCreated, SortName, SortLastAccess, SortCalls, SortStatus} {
		after, before := page1000(TokenFilter{Sort: sort})
		views = append(views,
			view{"Sort=" + string(sort) + "/Page1", TokenFilter{Sort: sort}, DefaultPageSize},
			view{"Sort=" + string(sort) + "/Page1000", TokenFilter{Sort: sort, After: after}, DefaultPageSize},
			view{"Sort=" + string(sort) + "/Page1000Back", TokenFilter{Sort: sort, Before: before}, DefaultPageSize})
	}
	views = append(views,
		view{"Search=name/Page1", TokenFilter{Query: "sync 12"}, DefaultPageSize},
		view{"Search=name/SortName", TokenFilter{Query: "sync 12", Sort: SortName}, DefaultPageSize},
		view{"Search=ID", TokenFilter{Query: all[12345]}, 1},
		view{"Search=IDPrefix", TokenFilter{Query: all[12345][:9]}, -1},
		view{"Search=short", TokenFilter{Query: "bi", Sort: SortName}, DefaultPageSize},
		view{"Search=broad", TokenFilter{Query: "sync"}, DefaultPageSize},
		view{"Status=disabled", TokenFilter{Status: StateDisabled}, DefaultPageSize},
		view{"Status=expired", TokenFilter{Status: StateExpired, Sort: SortName}, DefaultPageSize},
		view{"CreatedBy", TokenFilter{CreatedBy: f.admin.ID, Sort: SortName}, DefaultPageSize},
		view{"Created=30days", TokenFilter{CreatedFrom: f.clock.Now().AddDate(0, 0, -30)}, DefaultPageSize},
		view{"LastAccess=never", TokenFilter{LastAccess: NeverUsed}, DefaultPageSize},
		view{"LastAccess=90days", TokenFilter{LastAccess: NotUsedIn90Days}, DefaultPageSize},
		view{"Module", TokenFilter{ModuleID: f.modules[1].ID}, DefaultPageSize},
		view{"Module+Active", TokenFilter{ModuleID: f.modules[1].ID, Status: StateActive}, DefaultPageSize},
		view{"Offset=50000(API paging)", TokenFilter{Offset: 50_000}, DefaultPageSize},
	)
	// The REST API's RQL for the views above (the same plan, so about the
	// same cost), the official client's filter then fetch_one, and terms
	// and orders no page filter has.
	named, err := f.s.TokenByID(ctx, f.account.ID, all[12345])
	if err != nil {
		b.Fatal(err)
	}
	rqlView := func(name, expr, order string, want int) view {
		fl := TokenFilter{}
		if err := fl.ApplyRQL([]string{expr}); err != nil {
			b.Fatal(err)
		}
		if order != "" {
			if err := fl.ApplyRQLOrder(order); err != nil {
				b.Fatal(err)
			}
		}
		return view{"RQL=" + name, fl, want}
	}
	views = append(views,
		rqlView("Search=name", "ilike(name,'*sync 12*')", "", DefaultPageSize),
		rqlView("Status=disabled", "eq(status,Disabled)", "", DefaultPageSize),
		rqlView("CreatedBy", "eq(audit.created.by.id,'"+f.admin.ID+"')", "name", DefaultPageSize),
		rqlView("Module+Active", "and(any(modules,eq(id,'"+f.modules[1].ID+"')),eq(status,Active))", "", DefaultPageSize),
		rqlView("IDAndName(fetch_one)", "and(eq(id,'"+named.ID+"'),eq(name,'"+named.Name+"'))", "", 1),
		rqlView("IDs", "in(id,('"+all[1]+"','"+all[2]+"','"+all[3]+"'))", "", 3),
		rqlView("Residual=modules.name", "any(modules,ilike(name,'*bill*'))", "", DefaultPageSize),
		rqlView("Residual=ne(lastAccessAt)", "and(eq(status,Active),ne(lastAccessAt,null()))", "-lastAccessAt", DefaultPageSize),
		rqlView("Order=-status,name", "eq(status,Active)", "-status,-audit.created.at", DefaultPageSize),
	)
	for _, v := range views {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			var page TokenPage
			for b.Loop() {
				var err error
				if page, err = f.s.ListTokens(ctx, f.account.ID, v.f); err != nil {
					b.Fatal(err)
				}
			}
			if v.want >= 0 && len(page.Tokens) != v.want || len(page.Tokens) == 0 {
				b.Fatalf("%d tokens on the page, want %d", len(page.Tokens), v.want)
			}
			b.ReportMetric(float64(page.Total), "matches")
		})
	}
	b.Run("TokenIDs=expired", func(b *testing.B) {
		for b.Loop() {
			if ids, err := f.s.TokenIDs(ctx, f.account.ID, TokenFilter{Status: StateExpired}); err != nil || len(ids) == 0 {
				b.Fatalf("%d IDs, %v", len(ids), err)
			}
		}
	})
}

// BenchmarkBulkDelete deletes 10,000 tokens in one call, as "select all
// matching this filter, then Delete" does, in an account of 20,000 or more.
// It reports how long the bulk action's transactions held the write
// connection (the median, the 99th percentile and the longest: how long
// another writer may wait) and, with a writer disabling and enabling a token
// all the while, the longest that writer waited.
func BenchmarkBulkDelete(b *testing.B) {
	f := newFixture(b)
	seedMany(b, f, 10_000)
	ctx := context.Background()
	var held []time.Duration
	f.s.hooks.batch = func(_ int, d time.Duration) { held = append(held, d) }
	other, _ := f.createToken(b, "concurrent writer")
	var waited time.Duration
	for range b.N {
		b.StopTimer()
		ids := seedMany(b, f, 10_000)
		stop := make(chan struct{})
		done := make(chan time.Duration)
		go func() {
			var worst time.Duration
			for i := 0; ; i++ {
				select {
				case <-stop:
					done <- worst
					return
				default:
				}
				status := StatusDisabled
				if i%2 == 1 {
					status = StatusActive
				}
				began := time.Now()
				if _, _, err := f.s.SetTokenStatus(ctx, f.account.ID, other.ID, status, f.actor); err != nil {
					b.Error(err)
				}
				worst = max(worst, time.Since(began))
			}
		}()
		b.StartTimer()
		r, err := f.s.BulkChangeTokens(ctx, f.account.ID, ids, ActionDelete, f.actor)
		b.StopTimer()
		close(stop)
		waited = max(waited, <-done)
		if err != nil || len(r.Changed) != len(ids) {
			b.Fatalf("%d of %d deleted, %v", len(r.Changed), len(ids), err)
		}
	}
	slices.Sort(held)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(len(held))/float64(b.N), "tx/op")
	b.ReportMetric(ms(held[len(held)/2]), "p50-tx-ms")
	b.ReportMetric(ms(held[len(held)*99/100]), "p99-tx-ms")
	b.ReportMetric(ms(held[len(held)-1]), "max-tx-ms")
	b.ReportMetric(ms(waited), "max-write-wait-ms")
}

// BenchmarkSearchBesideBigAccount searches a small account, by ID prefix
// and by name, beside another account of 100,000 tokens: what the other
// account holds must cost the search nothing.
func BenchmarkSearchBesideBigAccount(b *testing.B) {
	f := newFixture(b)
	seedMany(b, f, 100_000)
	small := f.createAccount(b, "Small account")
	ctx := context.Background()
	for i := range 50 {
		if _, _, err := f.s.CreateToken(ctx, NewToken{AccountID: small.ID, Name: fmt.Sprintf("sync %d", i)}, f.actor); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []string{"TKN", "TKN-", "TKN-1", "1", "sync"} {
		b.Run("Query="+q, func(b *testing.B) {
			b.ReportAllocs()
			var page TokenPage
			for b.Loop() {
				var err error
				if page, err = f.s.ListTokens(ctx, small.ID, TokenFilter{Query: q}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(page.Total), "matches")
		})
	}
}

// BenchmarkAuditTrail reads an account of 100,000 tokens' trail the ways
// the pages do: one token's history (its details page), the account's
// first page, and a name search.
func BenchmarkAuditTrail(b *testing.B) {
	f := newFixture(b)
	ids := seedMany(b, f, 100_000)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		f    AuditFilter
	}{
		{"OneToken", AuditFilter{TokenID: ids[len(ids)/2], Limit: 25}},
		{"Account", AuditFilter{Limit: 25}},
		{"ObjectName", AuditFilter{Object: "partner", Limit: 25}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var page AuditPage
			for b.Loop() {
				var err error
				if page, err = f.s.AuditTrail(ctx, f.account.ID, tc.f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(page.Total), "matches")
		})
	}
}

// BenchmarkRecordUsage writes what a server counted in 5 s of calls with
// 1,000 tokens: a call and a caller each.
func BenchmarkRecordUsage(b *testing.B) {
	f := newFixture(b)
	tokens := seedTokens(b, f, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		f.clock.Add(time.Second)
		batch := UsageBatch{Counts: map[UsageKey]UsageCount{}, Last: map[string]Caller{}}
		for _, t := range tokens {
			batch.Counts[UsageKey{t.ID, UsageHour(f.clock.Now())}] = UsageCount{Calls: 1}
			batch.Last[t.ID] = Caller{At: f.clock.Now(), Address: "203.0.113.7", UserAgent: "python-httpx/0.28"}
		}
		if err := f.s.RecordUsage(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}
