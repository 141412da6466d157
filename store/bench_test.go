package store

import (
	"context"
	"fmt"
	"testing"
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
