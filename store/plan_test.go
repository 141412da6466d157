package store

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"apitokens/store/storetest"
)

// tracedQuery is a statement the list or a bulk action ran, with its
// arguments, so that its plan can be asked for as it ran.
type tracedQuery struct {
	query string
	args  []any
}

// scanLine matches a plan line that reads a whole table or index. Reading
// the search's candidates (json_each, or the subquery c) or a statement's
// own VALUES is fine; the trigram index must be read through a MATCH (M) or
// by rowid (=). searchLine matches one that reads part of an index: a range
// of one must begin with the account (as every index of the list does), or
// it reads other accounts' rows; looking up keys one at a time is fine.
var (
	scanLine   = regexp.MustCompile(`^SCAN (\S+)( VIRTUAL TABLE INDEX \d+:(\S*))?`)
	allowed    = map[string]bool{"c": true, "json_each": true, "token_search": true}
	values     = regexp.MustCompile(`^SCAN \d+-ROW VALUES CLAUSE$`)
	searchLine = regexp.MustCompile(`^SEARCH \S+ USING (?:COVERING )?(?:INDEX \S+|PRIMARY KEY|INTEGER PRIMARY KEY) \((.*)\)`)
)

// unboundedRange reports whether a plan line reads a range of an index
// that does not begin with the account.
func unboundedRange(detail string) bool {
	m := searchLine.FindStringSubmatch(detail)
	return m != nil && strings.ContainsAny(m[1], "<>") && !strings.HasPrefix(m[1], "account_id=?")
}

// fullScans returns the lines of q's plan that read a whole table or index,
// or a range of one beyond the account.
func fullScans(s *Store, q tracedQuery) (scans, plan []string, err error) {
	rows, err := s.write.Query("EXPLAIN QUERY PLAN "+q.query, q.args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, nil, err
		}
		plan = append(plan, detail)
		m := scanLine.FindStringSubmatch(detail)
		if m != nil && !values.MatchString(detail) &&
			(!allowed[m[1]] || m[1] == "token_search" && !strings.ContainsAny(m[3], "M=")) || unboundedRange(detail) {
			scans = append(scans, detail)
		}
	}
	return scans, plan, rows.Err()
}

func checkPlan(t *testing.T, s *Store, q tracedQuery) {
	t.Helper()
	scans, plan, err := fullScans(s, q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q.query)
	}
	if len(scans) > 0 {
		t.Errorf("full scan %q in the plan of\n%s\nplan:\n  %s", scans, strings.Join(strings.Fields(q.query), " "),
			strings.Join(plan, "\n  "))
	}
}

// TestQueryPlans runs the list with every sort, in both orders, with every
// kind of filter, on the first page and from cursors both ways, under both
// plans, plus the bulk actions, and asks SQLite how it runs each statement:
// none may read a whole table or index.
func TestQueryPlans(t *testing.T) {
	f := newListFixture(t)
	seen := traceStatements(t, f, true)
	t.Logf("%d distinct statements checked", len(seen))
	if len(seen) < 100 {
		t.Fatalf("only %d distinct statements traced", len(seen))
	}
	for _, q := range seen {
		checkPlan(t, f.s, q)
	}

	// The triggers' statements, which a plan of the statement that fires
	// them does not show.
	tok, _ := f.createToken(t, "trigger check", f.modules[0])
	for _, q := range []string{
		`DELETE FROM token_modules WHERE token_id = ?`,
		`UPDATE tokens SET module_bits = module_bits | 1 WHERE id = ? AND status != 'deleted'`,
		`DELETE FROM token_search WHERE rowid = CAST(substr(?, 5, 4) || substr(?, 10, 4) AS INTEGER)`,
		`UPDATE token_counts SET n = n - 1 WHERE account_id = ? AND status = ?`,
		`SELECT bit FROM modules WHERE id = ?`,
	} {
		args := make([]any, strings.Count(q, "?"))
		for i := range args {
			args[i] = tok.ID
		}
		checkPlan(t, f.s, tracedQuery{q, args})
	}
}

// traceStatements runs the list with every sort, in both orders, with
// every kind of filter, on the first page and from cursors both ways, under
// both plans (when bothPlans; else the plan the counts choose), plus the
// bulk actions, and returns each distinct statement they ran with its
// arguments.
func traceStatements(t *testing.T, f *listFixture, bothPlans bool) map[string]tracedQuery {
	t.Helper()
	ctx := context.Background()
	seen := map[string]tracedQuery{}
	f.s.hooks.query = func(q string, args []any) {
		if _, ok := seen[q]; !ok {
			seen[q] = tracedQuery{q, slices.Clone(args)}
		}
	}
	filters := f.listFilters()
	filters["QueryByName3"] = TokenFilter{Query: "job"}
	// The start of any ID, as people type it: each must read the
	// account's IDs alone.
	for _, q := range []string{"TKN", "TKN-", "TKN-1", "tkn 1", "1"} {
		filters["QueryIDPrefix"+q] = TokenFilter{Query: q}
	}
	// RQL beyond the page's filters: IDs, terms checked row by row, the
	// modules by any() and all().
	for name, expr := range map[string]string{
		"RQLClientFilter": "and(eq(id,'" + f.apiID + "'),eq(name,'API maker'))",
		"RQLIDs":          "in(id,(" + f.apiID + ",TKN-0000-0000))",
		"RQLNameOnly":     "ilike(name,*123*)",
		"RQLResidual":     "and(eq(status,Active),or(ilike(description,*x*),ne(lastAccessAt,null())),eq(icon,null()))",
		"RQLStates":       "in(status,(Disabled,Expired))",
		"RQLModules":      "and(any(modules,ilike(name,*bill*)),all(modules,ne(id,MOD-0000-0000)),ne(modules,empty()))",
		"RQLDates":        "and(gt(audit.updated.at,2020-01-01),lt(expiresAt,2030-01-01),eq(audit.created.by.id," + f.admin.ID + "))",
	} {
		var fl TokenFilter
		if err := fl.ApplyRQL([]string{expr}); err != nil {
			t.Fatal(err)
		}
		filters[name] = fl
	}
	for name, fl := range filters {
		// Both directions walk the same indexes; they are checked once.
		orders := []SortOrder{""}
		if name == "All" {
			orders = []SortOrder{Ascending, Descending}
		}
		for _, sort := range []TokenSort{SortCreated, SortName, SortLastAccess, SortCalls, SortStatus} {
			for _, order := range orders {
				modes := []string{"walk", "driven"}
				if len(fl.Query) >= 3 {
					modes = append(modes, "in place")
				}
				if !bothPlans {
					modes = []string{"chosen"}
				}
				for _, mode := range modes {
					f.s.hooks.plan = func(p *plan) {
						if mode == "chosen" {
							return
						}
						p.driven = mode != "walk"
						p.drivenExpired = p.driven
						if mode == "in place" {
							p.candidates = ""
						}
					}
					fl := fl
					fl.Sort, fl.Order, fl.Limit = sort, order, 2
					first, err := f.s.ListTokens(ctx, f.account.ID, fl)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if first.NextCursor != "" {
						next := fl
						next.After = first.NextCursor
						second, err := f.s.ListTokens(ctx, f.account.ID, next)
						if err != nil {
							t.Fatal(err)
						}
						prev := fl
						prev.Before = second.PrevCursor
						if _, err := f.s.ListTokens(ctx, f.account.ID, prev); err != nil {
							t.Fatal(err)
						}
					}
					fl.Offset = 1
					if _, err := f.s.ListTokens(ctx, f.account.ID, fl); err != nil {
						t.Fatal(err)
					}
					fl.Offset = 0
					// Among many tokens, a filter may select more than a bulk
					// action takes: refused after its count, which was traced.
					var tooMany *ValidationError
					if _, err := f.s.TokenIDs(ctx, f.account.ID, fl); err != nil && !errors.As(err, &tooMany) {
						t.Fatal(err)
					}
				}
			}
		}
	}
	f.s.hooks.plan = nil
	// Sorts after the first, read by offset.
	for _, order := range []string{"name,-audit.updated.at", "-status,lastAccessAt,id", "audit.created.at,expiresAt"} {
		fl := TokenFilter{Limit: 2}
		if err := fl.ApplyRQLOrder(order); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.ListTokens(ctx, f.account.ID, fl); err != nil {
			t.Fatal(err)
		}
	}
	page, err := f.s.ListTokens(ctx, f.account.ID, TokenFilter{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	all := ids(page.Tokens)
	if _, err := f.s.BulkChangeTokens(ctx, f.account.ID, all[:3], ActionDisable, f.actor); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.BulkChangeTokens(ctx, f.account.ID, all[:3], ActionEnable, f.actor); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.BulkChangeTokens(ctx, f.account.ID, all[:3], ActionDelete, f.actor); err != nil {
		t.Fatal(err)
	}
	f.s.hooks.query = nil
	return seen
}

// TestQueryPlansCatchAFullScan makes sure the check above can fail.
func TestQueryPlansCatchAFullScan(t *testing.T) {
	f := newFixture(t)
	for _, q := range []string{
		`SELECT id FROM tokens WHERE name LIKE ?`,
		`SELECT rowid FROM token_search WHERE rowid != ?`,
		`SELECT id FROM tokens WHERE id >= ? AND id < ?`,
	} {
		args := make([]any, strings.Count(q, "?"))
		for i := range args {
			args[i] = "%x%"
		}
		scans, _, err := fullScans(f.s, tracedQuery{q, args})
		if err != nil || len(scans) == 0 {
			t.Errorf("%s: full scans %q, %v; want one", q, scans, err)
		}
	}
}

// TestRQLSamePlanAsPage: an RQL filter that says what a filter of the page
// says runs the very statements the page's does.
func TestRQLSamePlanAsPage(t *testing.T) {
	f := newListFixture(t)
	ctx := context.Background()
	var traced []string
	f.s.hooks.query = func(q string, _ []any) { traced = append(traced, q) }
	statements := func(fl TokenFilter) []string {
		traced = nil
		f.s.forgetKept() // each reads as it would at first
		if _, err := f.s.ListTokens(ctx, f.account.ID, fl); err != nil {
			t.Fatal(err)
		}
		return traced
	}
	for _, tc := range []struct {
		expr, order string
		page        TokenFilter
	}{
		{"and(eq(status,Active),ilike(name,*sync*))", "", TokenFilter{Status: StateActive, Query: "sync"}},
		{"any(modules,eq(id," + f.modules[1].ID + "))", "name", TokenFilter{ModuleID: f.modules[1].ID, Sort: SortName}},
		{"eq(audit.created.by.id," + f.second.ID + ")", "-lastAccessAt", TokenFilter{CreatedBy: f.second.ID, Sort: SortLastAccess}},
		{"eq(status,Expired)", "status", TokenFilter{Status: StateExpired, Sort: SortStatus}},
		{"and(ge(audit.created.at,2025-01-01),lt(audit.created.at,2025-06-01))", "-audit.created.at",
			TokenFilter{CreatedFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), CreatedTo: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}},
		{"eq(lastAccessAt,null())", "", TokenFilter{LastAccess: NeverUsed}},
	} {
		var fl TokenFilter
		if err := fl.ApplyRQL([]string{tc.expr}); err != nil {
			t.Fatal(err)
		}
		if tc.order != "" {
			if err := fl.ApplyRQLOrder(tc.order); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := statements(fl), statements(tc.page); !slices.Equal(got, want) {
			t.Errorf("%s order %q runs\n  %s\nwhere the page runs\n  %s", tc.expr, tc.order,
				strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
}

// TestPostgresQueryPlans holds PostgreSQL to TestQueryPlans' promise, with
// 100,000 tokens in the account and statistics gathered: every statement of
// the list and of the bulk actions has a way through an index that begins
// with the account, and none must read the whole tokens table, other
// accounts' rows and all. Each plan is asked for with sequential scans
// discouraged: with every token in one account, PostgreSQL rightly reads
// the table itself for a statement that reads most of the account anyway
// (the status sort by offset, a filter on the description), which costs
// what reading the account's range of an index costs, and is the same on
// SQLite; a sequential scan that remains has no other way.
func TestPostgresQueryPlans(t *testing.T) {
	f := newListFixtureOn(t, storetest.PostgresDSN(t))
	start := time.Now()
	seedMany(t, f.fixture, 100_000)
	// Statistics, and the visibility map that lets an index be read alone,
	// as autovacuum keeps them.
	f.exec(t, `VACUUM ANALYZE`)
	t.Logf("seeded in %v", time.Since(start))
	seen := traceStatements(t, f, false)
	t.Logf("traced in %v", time.Since(start))
	t.Logf("%d distinct statements checked", len(seen))
	if len(seen) < 100 {
		t.Fatalf("only %d distinct statements traced", len(seen))
	}
	for _, q := range seen {
		checkPostgresPlan(t, f.s, q)
	}
}

// checkPostgresPlan fails the test when q's plan reads the tokens table
// whole.
func checkPostgresPlan(t *testing.T, s *Store, q tracedQuery) {
	t.Helper()
	tx, err := s.read.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	var plan string
	if err := tx.QueryRow(`EXPLAIN (FORMAT JSON) `+q.query, q.args...).Scan(&plan); err != nil {
		t.Fatalf("%v\n%s", err, q.query)
	}
	var nodes []map[string]any
	if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
		t.Fatal(err)
	}
	var walk func(n map[string]any) bool
	walk = func(n map[string]any) bool {
		if n["Node Type"] == "Seq Scan" && n["Relation Name"] == "tokens" {
			return true
		}
		children, _ := n["Plans"].([]any)
		for _, c := range children {
			if m, ok := c.(map[string]any); ok && walk(m) {
				return true
			}
		}
		return false
	}
	for _, n := range nodes {
		if root, _ := n["Plan"].(map[string]any); walk(root) {
			var text []string
			rows, err := tx.Query(`EXPLAIN `+q.query, q.args...)
			if err == nil {
				text, _ = scanStrings(rows)
			}
			t.Errorf("a sequential scan of tokens in the plan of\n%s\nplan:\n  %s", strings.Join(strings.Fields(q.query), " "),
				strings.Join(text, "\n  "))
		}
	}
}
