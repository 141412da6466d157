package templates

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"apitokens/store"
)

// listPage is a full first page of the list: 50 tokens with one to three
// modules each, a mix of states and of tokens never used, with the filter
// form, the pager and the bulk toolbar.
func listPage() (Page, ListView) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mods := []store.Module{{ID: "MOD-0000-0001", Name: "Access management"}, {ID: "MOD-0000-0002", Name: "Billing"},
		{ID: "MOD-0000-0003", Name: "Catalog"}, {ID: "MOD-0000-0004", Name: "Procurement"}}
	admin := store.User{ID: "USR-0000-0001", AccountID: "ACC-0000-0001", AccountName: "Acme", Name: "Ada Admin", Role: store.RoleAdmin}
	page := store.TokenPage{Total: 100_000, Limit: 50, Sort: store.SortCreated, Order: store.Descending,
		NextCursor: "eyJzIjoiY3JlYXRlZCJ9"}
	for i := range 50 {
		t := store.Token{
			ID:        fmt.Sprintf("TKN-%04d-%04d", i, i*7),
			AccountID: admin.AccountID,
			Name:      fmt.Sprintf("Storefront sync <%d> & co", i),
			Status:    store.StatusActive,
			Modules:   mods[i%4 : min(4, i%4+1+i%3)],
			CreatedAt: now.Add(-time.Duration(i) * time.Hour),
			CreatedBy: store.UserRef{ID: admin.ID, Name: admin.Name},
		}
		if i%10 == 9 {
			t.Status = store.StatusDisabled
		}
		if i%3 != 0 {
			t.LastAccessAt = now.Add(-time.Duration(i) * time.Minute)
		}
		page.Tokens = append(page.Tokens, t)
	}
	users := []store.User{admin, {ID: "USR-0000-0002", AccountID: admin.AccountID, Name: "Max Member", Role: store.RoleMember}}
	v := ListView{Page: page, Query: ListQuery{Status: "active"}, Modules: mods, Users: users}
	return Page{Title: "API tokens", CSRF: "csrf-token", User: admin, Now: now}, v
}

// BenchmarkTokenList renders the list page with 50 rows into a buffer, as
// the handler does, without a server or a database.
func BenchmarkTokenList(b *testing.B) {
	p, v := listPage()
	var buf bytes.Buffer
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := TokenList(p, v).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/page")
	// A row on its own, the page's chrome aside: the largest of the 50.
	largest := 0
	for _, tok := range v.Page.Tokens {
		var row bytes.Buffer
		if err := tokenRow(p, v, tok).Render(ctx, &row); err != nil {
			b.Fatal(err)
		}
		largest = max(largest, row.Len())
	}
	b.ReportMetric(float64(largest), "max-bytes/row")
	// What goes over the wire to a browser that accepts gzip, and the
	// ratio of the page to it.
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	w.Write(buf.Bytes())
	w.Close()
	b.ReportMetric(float64(gz.Len()), "gzip-bytes/page")
	b.ReportMetric(float64(buf.Len())/float64(gz.Len()), "ratio")
}

// TestTokenListFixture keeps the benchmark honest: the page it renders lists
// every token, escaped.
func TestTokenListFixture(t *testing.T) {
	p, v := listPage()
	var buf bytes.Buffer
	if err := TokenList(p, v).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, tok := range v.Page.Tokens {
		if !strings.Contains(html, tok.ID) {
			t.Fatalf("%s is not on the page", tok.ID)
		}
	}
	if strings.Contains(html, "<0>") || !strings.Contains(html, "Storefront sync &lt;0&gt; &amp; co") {
		t.Fatal("token names are not escaped")
	}
}

// TestTokenRowSize keeps a row of the list light, every column shown: it
// was 2.2 KB with a name written five times and an inline icon, and 1.4 KB
// with each menu link naming its action and origin and each cell its column.
// Rotate secret in the menu takes it from under 1 KB to about 1.05 KB.
func TestTokenRowSize(t *testing.T) {
	const maxRow = 1100 // bytes, names of about 30 characters
	p, v := listPage()
	for _, tok := range v.Page.Tokens {
		var buf bytes.Buffer
		if err := tokenRow(p, v, tok).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		if buf.Len() >= maxRow {
			t.Fatalf("the row of %s is %d bytes:\n%s", tok.ID, buf.Len(), buf.String())
		}
	}
}

// TestTokenRowHiddenColumn: the stylesheet finds a row's cells by their
// place (the phone layout labels them so), so a hidden column leaves an
// empty hidden cell and the columns after it keep their places.
func TestTokenRowHiddenColumn(t *testing.T) {
	p, v := listPage()
	v.Hidden = []string{ColumnModules}
	var buf bytes.Buffer
	if err := tokenRow(p, v, v.Page.Tokens[0]).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	row := buf.String()
	cells := strings.Split(row, "<td")[1:]
	if len(cells) != 9 || !strings.HasPrefix(cells[2], " hidden></td>") || !strings.Contains(cells[3], "Ada Admin") {
		t.Fatalf("with Modules hidden, the row's cells are out of place:\n%s", row)
	}
	if strings.Contains(row, "Access management") {
		t.Fatalf("the hidden column's value is in the row:\n%s", row)
	}
}
