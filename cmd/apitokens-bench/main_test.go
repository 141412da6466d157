package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"apitokens/store/storetest"
)

func TestMain(m *testing.M) {
	// The harness starts its baseline server by running itself again; under
	// go test, "itself" is this test binary.
	if os.Getenv(helloEnv) != "" {
		if err := serveHello(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// TestHarness runs the whole harness on a tiny configuration with the
// built-in generator, so that it cannot rot unnoticed: it builds the app,
// seeds it, signs in, loads every scenario, deletes through the browser
// flow, times start-up and writes the report, on SQLite and on PostgreSQL
// (with two instances there too).
func TestHarness(t *testing.T) {
	out := t.TempDir()
	cfg, err := parseConfig([]string{"--tokens", "120", "--duration", "400ms", "--generator", "go",
		"--threads", "1", "--connections", "2", "--deletes", "4", "--startup-runs", "2", "--out", out,
		"--db", storetest.ServerURL()})
	if err != nil {
		t.Fatal(err)
	}
	// The build is what the harness does first, but not what this test
	// measures: a cold compile of SQLite beside the other packages' race
	// tests can take minutes on a busy machine, so it gets what the test
	// binary's own deadline leaves once the run has its three minutes.
	const runTime = 3 * time.Minute
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 15*time.Minute)
	if d, ok := t.Deadline(); ok {
		buildCtx, cancelBuild = context.WithDeadline(context.Background(), d.Add(-runTime-30*time.Second))
	}
	defer cancelBuild()
	var stdout, progress bytes.Buffer
	if cfg.bin, err = buildApp(buildCtx, t.TempDir(), &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTime)
	defer cancel()
	rep, err := run(ctx, cfg, &stdout, &progress)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}

	byEngine := map[string]map[string]row{engineSQLite: {}, enginePostgres: {}}
	for _, r := range rep.Rows {
		if r.Tokens != 120 {
			t.Errorf("row %q measured %d tokens, want 120", r.Scenario, r.Tokens)
		}
		if byEngine[r.Engine] == nil {
			t.Fatalf("row %q on engine %q", r.Scenario, r.Engine)
		}
		byEngine[r.Engine][r.ID] = r
	}
	for _, id := range []string{idAPIValid + "-two", idListFirst + "-two"} {
		if r, ok := byEngine[enginePostgres][id]; !ok || r.Requests == 0 || r.CPUPerReqUs <= 0 {
			t.Errorf("PostgreSQL, two instances: %s: %+v, %v; want a measurement", id, r, ok)
		}
	}
	for engine, rows := range byEngine {
		t.Run(engine, func(t *testing.T) { checkRows(t, rows) })
	}
	if !strings.Contains(progress.String(), "postgres") {
		t.Errorf("no PostgreSQL in the progress:\n%s", progress.String())
	}
	if rep.Binary.Bytes < 1<<20 {
		t.Errorf("binary size %d bytes", rep.Binary.Bytes)
	}
	if len(rep.Targets) == 0 {
		t.Error("no targets evaluated")
	}

	// The table is printed, and written as Markdown and JSON.
	if !strings.Contains(stdout.String(), "| engine") || !strings.Contains(stdout.String(), "## Targets") {
		t.Errorf("printed:\n%s", stdout.String())
	}
	md, err := os.ReadFile(filepath.Join(out, rep.stem()+".md"))
	if err != nil || string(md) != stdout.String() {
		t.Errorf("Markdown file: %v; same as printed: %v", err, string(md) == stdout.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, rep.stem()+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Rows) != len(rep.Rows) || back.Settings.Generator != "built-in (Go)" {
		t.Errorf("JSON file: %v, %d rows, generator %q", err, len(back.Rows), back.Settings.Generator)
	}
}

func TestParseWrk(t *testing.T) {
	// wrk 4.1's report with --latency, with the lines it adds when some
	// answers are errors.
	const out = `Running 1s test @ http://127.0.0.1:40187/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   654.90us  568.54us   9.28ms   86.32%
    Req/Sec    12.56k     3.98k   28.79k    95.24%
  Latency Distribution
     50%  516.00us
     75%  829.00us
     90%    1.22ms
     99%    2.92ms
  26229 requests in 1.10s, 3.28MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 120
Requests/sec:  23854.76
Transfer/sec:      2.98MB
`
	got, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := loadResult{Requests: 26229, Seconds: 1.1, RPS: 23854.76, P50: 516 * time.Microsecond,
		P99: 2920 * time.Microsecond, Unexpected: 120, Errors: 5}
	if got != want {
		t.Fatalf("parseWrk = %+v, want %+v", got, want)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Fatal("a report without figures parsed")
	}
}

func TestExtrapolate(t *testing.T) {
	for _, tc := range []struct {
		name, first, second string
		hops                int
		want                string
	}{
		{"Offset", "/settings/api-tokens?offset=50", "/settings/api-tokens?offset=100", 1000, "/settings/api-tokens?offset=50000"},
		{"PageNumberBesideOtherParams", "/l?page=2&q=x", "/l?page=3&q=x", 10, "/l?page=11&q=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := extrapolate(tc.first, tc.second, tc.hops)
			if !ok || got != tc.want {
				t.Fatalf("extrapolate = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, first, second string }{
		{"Cursor", "/l?after=TKN-1234-5678", "/l?after=TKN-0042-0001"},
		{"TwoParamsChange", "/l?offset=50&x=1", "/l?offset=100&x=2"},
		{"Shrinking", "/l?offset=100", "/l?offset=50"},
		{"OtherPath", "/a?offset=50", "/b?offset=100"},
	} {
		t.Run("Err"+tc.name, func(t *testing.T) {
			if got, ok := extrapolate(tc.first, tc.second, 10); ok {
				t.Fatalf("extrapolated %q", got)
			}
		})
	}
}

// checkRows checks one engine's rows of the harness's run.
func checkRows(t *testing.T, rows map[string]row) {
	for _, id := range []string{idListFirst, idListDeep, idListSearch, idDetails} {
		r, ok := rows[id]
		if !ok {
			t.Errorf("no row for %s", id)
			continue
		}
		if r.Requests == 0 || r.RPS <= 0 || r.P50Ms <= 0 || r.P99Ms < r.P50Ms || r.PeakRSS <= 0 || r.CPUPerReqUs <= 0 ||
			r.BaselineRPS <= 0 || r.Ratio <= 0 {
			t.Errorf("%s: %+v, want requests, latencies, RSS and a baseline", id, r)
		}
	}
	if deep := rows[idListDeep]; !strings.Contains(deep.Note, "?") || strings.HasSuffix(deep.Note, ": "+listPath) {
		t.Errorf("deep page note %q: want the URL of a page past the first", deep.Note)
	}
	if search := rows[idListSearch]; !strings.Contains(search.Note, "filtered") && !strings.Contains(search.Note, "ignored") {
		t.Errorf("search note %q: want whether the list honoured q=", search.Note)
	}
	// The API may or may not be there; either way the table says which.
	for _, id := range []string{idAPIValid, idAPIDisabled, idAPIGarbage} {
		r, ok := rows[id]
		switch {
		case !ok:
			t.Errorf("no row for %s", id)
		case r.NA && !strings.Contains(r.Note, "no API"):
			t.Errorf("%s: not applicable, but the note %q does not say why", id, r.Note)
		case !r.NA && (r.Requests == 0 || r.Ratio <= 0):
			t.Errorf("%s: %+v, want a measurement", id, r)
		}
	}
	if d := rows[idDelete]; d.Requests != 4 || d.P50Ms <= 0 || d.P99Ms < d.P50Ms {
		t.Errorf("delete flow: %+v, want 4 timed deletes", d)
	}
	if s := rows[idStartup]; s.P50Ms <= 0 || s.PeakRSS <= 0 {
		t.Errorf("start-up: %+v, want a time and an RSS", s)
	}
}
