package web_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The query strings below are those the platform's official Python client
// sends: its collections write limit, offset, order and select, then the
// filter its RQL builder made (values in single quotes), and its HTTP
// library escapes only what a URL cannot hold (a space is %20; quotes,
// parentheses, commas and '+' go as they are). A single token's select
// goes through urlencode instead (',' %2C, '+' %2B).

// TestAPIRQLAsTheOfficialClient: filter then fetch_one finds exactly one
// token; a filter that matches nothing finds nothing, never the whole
// account; select, order and paging as the client reads them.
func TestAPIRQLAsTheOfficialClient(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("E2E manager")
	c := app.api(t, secret)
	billing := app.module("billing")
	seeded, _ := app.createToken("E2E Seeded Token", billing)
	app.clock.Add(time.Minute)
	var batch []string
	for _, name := range []string{"Batch job", "Batch job", "batch export"} {
		tok, _ := app.createToken(name)
		batch = append(batch, tok.ID)
		app.clock.Add(time.Minute)
	}
	other := newAPIApp(t) // another database: nothing of it may show
	other.createToken("E2E Seeded Token")

	list := func(t *testing.T, query string) (apiPage, []map[string]json.RawMessage) {
		t.Helper()
		res := c.get(apiTokens + "?" + query)
		var page apiPage
		res.decode(t, http.StatusOK, &page)
		var raw struct{ Data []map[string]json.RawMessage }
		if err := json.Unmarshal(res.body, &raw); err != nil {
			t.Fatal(err)
		}
		return page, raw.Data
	}
	idsOf := func(p apiPage) []string {
		var out []string
		for _, tok := range p.Data {
			out = append(out, tok.ID)
		}
		return out
	}

	t.Run("FilterSelectIterate", func(t *testing.T) {
		// .filter(RQLQuery(id=…)).filter(RQLQuery(name="E2E Seeded Token")).select("-name").iterate()
		page, raw := list(t, "limit=100&offset=0&select=-name&and(eq(id,'"+seeded.ID+"'),eq(name,'E2E%20Seeded%20Token'))")
		if page.Meta.Pagination.Total != 1 || len(raw) != 1 || page.Data[0].ID != seeded.ID {
			t.Fatalf("got %+v", page)
		}
		if _, ok := raw[0]["name"]; ok {
			t.Errorf("select=-name still shows the name: %v", raw[0])
		}
		if _, ok := raw[0]["description"]; !ok {
			t.Errorf("select=-name removed other members: %v", raw[0])
		}
	})
	t.Run("SelectPlus", func(t *testing.T) {
		// The collection's select goes unescaped: its '+' is a plus.
		_, raw := list(t, "limit=100&offset=0&select=-*,+audit&eq(id,'"+seeded.ID+"')")
		if len(raw) != 1 || len(raw[0]) != 2 || raw[0]["audit"] == nil {
			t.Fatalf("select=-*,+audit: %v", raw)
		}
	})
	t.Run("FetchOne", func(t *testing.T) {
		page, _ := list(t, "limit=1&offset=0&and(eq(id,'"+seeded.ID+"'),eq(name,'E2E%20Seeded%20Token'))")
		if page.Meta.Pagination.Total != 1 || len(page.Data) != 1 || page.Data[0].Name != "E2E Seeded Token" {
			t.Fatalf("got %+v", page)
		}
	})
	t.Run("NoMatchIsNothing", func(t *testing.T) {
		for _, q := range []string{
			"limit=1&offset=0&and(eq(id,'" + seeded.ID + "'),eq(name,'Another%20name'))",
			"limit=100&offset=0&eq(id,'TKN-0000-0000')",
			"limit=100&offset=0&eq(name,'e2e%20seeded%20token')",
			"limit=100&offset=0&and(eq(status,'Active'),eq(status,'Disabled'))",
			// A value is a parameter of the SQL, never part of its text.
			`limit=100&offset=0&eq(name,"x'%20OR%20'1'='1")`,
			"limit=100&offset=0&eq(name,'x%22)%20OR%201=1%20--')",
		} {
			page, _ := list(t, q)
			if page.Meta.Pagination.Total != 0 || len(page.Data) != 0 {
				t.Errorf("%s: got %d tokens, want none", q, page.Meta.Pagination.Total)
			}
		}
	})
	t.Run("FilterThenDisable", func(t *testing.T) {
		// for token in .filter(RQLQuery(name__ilike="batch*")).iterate(): disable(token.id)
		page, _ := list(t, "limit=100&offset=0&ilike(name,'batch*')")
		if got := idsOf(page); !sameSet(got, batch) {
			t.Fatalf("matched %v, want %v", got, batch)
		}
		for _, id := range idsOf(page) {
			c.call(http.MethodPost, apiTokens+"/"+id+"/disable", nil).decode(t, http.StatusOK, &apiTokenJSON{})
		}
		disabled, _ := list(t, "limit=100&offset=0&eq(status,'Disabled')")
		if got := idsOf(disabled); !sameSet(got, batch) {
			t.Fatalf("disabled %v, want %v", got, batch)
		}
		// The docs' forms: shorthand, unquoted, and in() of the builder.
		for _, q := range []string{"status=Disabled", "eq(status,Disabled)", "in(status,('Disabled','Expired'))",
			"not(eq(status,'Active'))", "status=disabled"} {
			if got := idsOf(first(list(t, q))); !sameSet(got, batch) {
				t.Errorf("%s: %v, want %v", q, got, batch)
			}
		}
	})
	t.Run("ModulesDatesAndNull", func(t *testing.T) {
		for q, want := range map[string][]string{
			"any(modules,eq(id,'" + billing.ID + "'))":                            {seeded.ID},
			"limit=10&offset=0&modules.id='" + billing.ID + "'":                   {seeded.ID},
			"and(eq(icon,null()),eq(description,empty()),ilike(name,'*seeded*'))": {seeded.ID},
			"and(gt(audit.created.at,'" + app.clock.Now().Add(-150*time.Second).Format("2006-01-02T15:04:05+00:00") + "'),ilike(name,'*batch*'))": {batch[2], batch[1]},
			"and(eq(lastAccessAt,null()),ilike(name,\"batch%20e*\"))":                                                                             batch[2:],
		} {
			if got := idsOf(first(list(t, q))); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", q, got, want)
			}
		}
	})
	t.Run("OrderAndPages", func(t *testing.T) {
		// order_by("name", "-audit.created.at"), paged by 2 as iterate(batch_size=2) does
		var got []string
		for offset := 0; ; offset += 2 {
			page, _ := list(t, "limit=2&offset="+strconv.Itoa(offset)+"&order=name,-audit.created.at&ilike(name,'*batch*')")
			p := page.Meta.Pagination
			if p.Total != 3 || p.Offset != offset || p.Limit != 2 {
				t.Fatalf("pagination %+v at offset %d", p, offset)
			}
			got = append(got, idsOf(page)...)
			if offset+p.Limit >= p.Total {
				break
			}
		}
		// "batch export" sorts before "Batch job", ignoring case.
		want := []string{batch[2], batch[1], batch[0]}
		if !slices.Equal(got, want) {
			t.Fatalf("order=name,-audit.created.at: %v, want %v", got, want)
		}
	})
	t.Run("GetSelect", func(t *testing.T) {
		// .get(id, select=["-name", "+audit"]) sends the urlencoded select.
		for _, q := range []string{"select=-name%2C%2Baudit", "select=-name,+audit"} {
			res := c.get(apiTokens + "/" + seeded.ID + "?" + q)
			var raw map[string]json.RawMessage
			res.decode(t, http.StatusOK, &raw)
			if _, ok := raw["name"]; ok || raw["audit"] == nil || string(raw["id"]) != `"`+seeded.ID+`"` {
				t.Errorf("%s: %s", q, res.body)
			}
		}
		res := c.get(apiTokens + "/" + seeded.ID + "?select=-*,%2Bname")
		var raw map[string]json.RawMessage
		res.decode(t, http.StatusOK, &raw)
		if len(raw) != 2 || raw["name"] == nil {
			t.Errorf("select=-*,+name: %s", res.body)
		}
	})
	t.Run("Render", func(t *testing.T) {
		// .options(render=True) adds render(), which tokens have nothing for.
		if got := idsOf(first(list(t, "limit=100&offset=0&eq(id,'"+seeded.ID+"')&render()"))); !slices.Equal(got, []string{seeded.ID}) {
			t.Errorf("got %v", got)
		}
	})
}

// TestAPIRQLErrors: a filter, order or select that cannot be used is a 400
// that names the field, operator or character and where it is, never a
// quiet whole list or a 500.
func TestAPIRQLErrors(t *testing.T) {
	app := newAPIApp(t)
	tok, secret := app.managerToken("E2E manager")
	c := app.api(t, secret)
	for _, tc := range []struct{ path, field, detail string }{
		{apiTokens + "?eq(colour,'red')", "filter", `unknown field "colour" at position 4`},
		{apiTokens + "?limit=10&frob(name,x)", "filter", `unknown operator "frob" at position 1`},
		{apiTokens + "?eq(name,'x", "filter", `never closed at position 9`},
		{apiTokens + "?and(eq(status,Active)", "filter", `expected ')', found the end at position 22`},
		{apiTokens + "?gt(status,Active)", "filter", `status can only be compared by eq, ne, in or out`},
		{apiTokens + "?lt(audit.created.at,'last%20week')", "filter", `"last week" is not a date and time`},
		{apiTokens + "?rql=eq(status,Active)", "filter", `unexpected "(" in the value "eq"`},
		{apiTokens + "?order=-secret", "order", `cannot order by "secret" at position 1`},
		{apiTokens + "?select=-name,+secret", "select", `"secret" is not a member of an API token at position 7`},
		{apiTokens + "/" + tok.ID + "?select=-id", "select", `id is always returned`},
	} {
		p := c.get(tc.path).problem(t, http.StatusBadRequest, "invalid-query")
		if !slices.Equal(p.fields(), []string{tc.field}) || !strings.Contains(p.Detail, tc.detail) {
			t.Errorf("%s: %+v; want %s: %q", tc.path, p, tc.field, tc.detail)
		}
	}
	p := c.get(apiTokens+"?eq(name,%zz)").problem(t, http.StatusBadRequest, "invalid-query")
	if !strings.Contains(p.Detail, "%zz") {
		t.Errorf("malformed escape: %+v", p)
	}
}

func first[A, B any](a A, _ B) A { return a }

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
