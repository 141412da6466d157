package store

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTokenFilterValidate(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	good := cursor{Sort: SortCreated, Order: Descending, Int: 1, ID: "TKN-1234-5678", Pos: 50}.encode()
	cases := []struct {
		name  string
		f     TokenFilter
		field string
	}{
		{"ErrStatus", TokenFilter{Status: "Deleted"}, "status"},
		{"ErrStatusUnknown", TokenFilter{Status: "paused"}, "status"},
		{"ErrModule", TokenFilter{ModuleID: "'; DROP TABLE tokens; --"}, "module"},
		{"ErrCreatedBy", TokenFilter{CreatedBy: "ACC-1234-5678"}, "createdBy"},
		{"ErrCreatedRange", TokenFilter{CreatedFrom: now, CreatedTo: now}, "created"},
		{"ErrLastAccess", TokenFilter{LastAccess: "7d"}, "lastAccess"},
		{"ErrQueryLong", TokenFilter{Query: strings.Repeat("x", MaxQuery+1)}, "query"},
		{"ErrQueryNUL", TokenFilter{Query: "a\x00b"}, "query"},
		{"ErrQueryUTF8", TokenFilter{Query: "a\xffb"}, "query"},
		{"ErrSort", TokenFilter{Sort: "secret"}, "sort"},
		{"ErrOrder", TokenFilter{Order: "up"}, "order"},
		{"ErrLimitNegative", TokenFilter{Limit: -1}, "limit"},
		{"ErrLimitHuge", TokenFilter{Limit: MaxPageSize + 1}, "limit"},
		{"ErrOffset", TokenFilter{Offset: -1}, "offset"},
		{"ErrBothCursors", TokenFilter{After: good, Before: good}, "cursor"},
		{"ErrCursorAndOffset", TokenFilter{After: good, Offset: 5}, "cursor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			var v *ValidationError
			if !errors.As(err, &v) || v.Fields[tc.field] == "" {
				t.Fatalf("Validate = %v, want a message for %s", err, tc.field)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		f := TokenFilter{Status: "expired", Query: "  sync  ", Sort: SortName, Order: Descending, Limit: 25,
			ModuleID: "MOD-1234-5678", CreatedBy: "TKN-1234-5678", LastAccess: NotUsedIn30Days,
			CreatedFrom: now, CreatedTo: now.Add(time.Hour)}
		if err := f.Validate(); err != nil || f.Status != StateExpired || f.Query != "sync" {
			t.Fatalf("Validate = %v; status %q, query %q", err, f.Status, f.Query)
		}
	})
}

func TestListTokensTamperedCursor(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		f.createToken(t, "t")
	}
	ctx := context.Background()
	page, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Limit: 1})
	if err != nil || page.NextCursor == "" {
		t.Fatalf("first page: %v", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(page.NextCursor)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := map[string]TokenFilter{
		"NotBase64":       {After: "%%%"},
		"NotJSON":         {After: enc("hello")},
		"TrailingData":    {After: enc(string(raw) + "{}")},
		"UnknownField":    {After: enc(strings.Replace(string(raw), `{`, `{"x":1,`, 1))},
		"BadID":           {After: enc(strings.Replace(string(raw), `"TKN-`, `"XYZ-`, 1))},
		"InjectedID":      {After: enc(strings.Replace(string(raw), `"i":"`, `"i":"' OR 1=1 --`, 1))},
		"NegativeKey":     {After: enc(`{"s":"created","o":"desc","n":-5,"i":"TKN-1234-5678"}`)},
		"TextForCreated":  {After: enc(`{"s":"created","o":"desc","t":"x","i":"TKN-1234-5678"}`)},
		"GroupOutOfRange": {Sort: SortStatus, After: enc(`{"s":"status","o":"asc","g":7,"i":"TKN-1234-5678"}`)},
		"OtherSort":       {Sort: SortName, After: page.NextCursor},
		"OtherOrder":      {Order: Ascending, Before: page.NextCursor},
		"TooLong":         {After: strings.Repeat("A", maxCursor+1)},
		"Truncated":       {After: page.NextCursor[:len(page.NextCursor)/2]},
	}
	for name, fl := range cases {
		t.Run("Err"+name, func(t *testing.T) {
			fl.Limit = 1
			_, err := f.s.ListTokens(ctx, f.account.ID, fl)
			var v *ValidationError
			if !errors.As(err, &v) || v.Fields["cursor"] == "" {
				t.Fatalf("ListTokens = %v, want a ValidationError for the cursor", err)
			}
		})
	}
	t.Run("ForgedCursorStaysInTheAccount", func(t *testing.T) {
		other := f.createAccount(t, "Other")
		theirs, _, err := f.s.CreateToken(ctx, NewToken{AccountID: other.ID, Name: "theirs"}, f.actor)
		if err != nil {
			t.Fatal(err)
		}
		forged := cursor{Sort: SortCreated, Order: Descending, Int: f.clock.Now().UnixMilli() + 1, ID: theirs.ID}.encode()
		page, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{After: forged})
		if err != nil || page.Total != 3 || slices.Contains(ids(page.Tokens), theirs.ID) {
			t.Fatalf("forged cursor: %v, %v", ids(page.Tokens), err)
		}
	})
}
