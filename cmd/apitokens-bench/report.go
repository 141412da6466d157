package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// row is one line of the table.
type row struct {
	ID       string  `json:"id"`
	Engine   string  `json:"engine"` // sqlite or postgres
	Scenario string  `json:"scenario"`
	Tokens   int     `json:"tokens"`
	RPS      float64 `json:"rps"`
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	PeakRSS  int64   `json:"peak_rss_bytes"`
	// CPUPerReqUs is the server's CPU time (user + system) per request, in
	// microseconds: unlike req/s, it does not depend on what else the
	// machine was doing.
	CPUPerReqUs         float64 `json:"cpu_per_request_us,omitempty"`
	BaselineRPS         float64 `json:"baseline_rps,omitempty"`
	BaselineP50         float64 `json:"baseline_p50_ms,omitempty"`
	BaselineCPUPerReqUs float64 `json:"baseline_cpu_per_request_us,omitempty"`
	Ratio               float64 `json:"ratio,omitempty"`
	Requests            int     `json:"requests"`
	NA                  bool    `json:"na,omitempty"`
	Note                string  `json:"note,omitempty"`
	Profile             string  `json:"profile,omitempty"`
}

func (r *row) fromLoad(res, base loadResult) {
	r.RPS, r.Requests = res.RPS, res.Requests
	r.P50Ms, r.P99Ms = millis(res.P50), millis(res.P99)
	r.BaselineRPS, r.BaselineP50 = base.RPS, millis(base.P50)
	if base.RPS > 0 {
		r.Ratio = res.RPS / base.RPS
	}
}

// target is one of the goals the numbers are held against.
type target struct {
	Target string `json:"target"`
	Want   string `json:"want"`
	Got    string `json:"got"`
	// Met is nil when the run did not measure what the target needs.
	Met *bool `json:"met"`
}

type seedTime struct {
	Engine  string  `json:"engine"`
	Tokens  int     `json:"tokens"`
	Seconds float64 `json:"seconds"`
}

// report is a run's results, as written to JSON.
type report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Host     struct {
		CPUs        int    `json:"cpus"`
		Kernel      string `json:"kernel"`
		LoadAtStart string `json:"load_at_start"`
		LoadAtEnd   string `json:"load_at_end"`
	} `json:"host"`
	Settings struct {
		Generator   string `json:"generator"`
		Threads     int    `json:"threads"`
		Connections int    `json:"connections"`
		Duration    string `json:"duration"`
		Tokens      []int  `json:"tokens"`
	} `json:"settings"`
	Binary struct {
		Path  string `json:"path"`
		Bytes int64  `json:"bytes"`
	} `json:"binary"`
	Seeding  []seedTime `json:"seeding"`
	Rows     []row      `json:"rows"`
	Targets  []target   `json:"targets"`
	Failures []string   `json:"failures,omitempty"`
}

func newReport(cfg config, gen generator, bin string, size int64) *report {
	r := &report{Started: time.Now().UTC()}
	r.Host.CPUs = runtime.NumCPU()
	r.Host.Kernel = readTrimmed("/proc/sys/kernel/osrelease")
	r.Host.LoadAtStart = loadAverage()
	r.Settings.Generator = gen.name()
	r.Settings.Threads, r.Settings.Connections = cfg.threads, cfg.connections
	r.Settings.Duration = cfg.duration.String()
	r.Settings.Tokens = cfg.tokens
	r.Binary.Path, r.Binary.Bytes = bin, size
	return r
}

func (r *report) add(x row) { r.Rows = append(r.Rows, x) }

func (r *report) finish() {
	r.Finished = time.Now().UTC()
	r.Host.LoadAtEnd = loadAverage()
	r.Targets = r.evaluate()
}

func readTrimmed(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// loadAverage is the 1, 5 and 15-minute load average: how busy the shared
// machine was besides this run.
func loadAverage() string {
	f := strings.Fields(readTrimmed("/proc/loadavg"))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// find is the SQLite row of a scenario at a token count.
func (r *report) find(id string, tokens int) (row, bool) { return r.findOn(engineSQLite, id, tokens) }

// findOn is the row of a scenario at a token count on an engine.
func (r *report) findOn(engine, id string, tokens int) (row, bool) {
	for _, x := range r.Rows {
		if x.Engine == engine && x.ID == id && x.Tokens == tokens && !x.NA && (x.Requests > 0 || x.P50Ms > 0) {
			return x, true
		}
	}
	return row{}, false
}

// cpuTargets are the most server CPU a request of a scenario may take.
var cpuTargets = []struct {
	id    string
	maxUs int
}{
	{idListFirst, 300}, {idListDeep, 300}, {idDetails, 80}, {idAPIValid, 40},
}

// evaluate holds the run against the targets of a 2-core machine shared by
// generator and server.
func (r *report) evaluate() []target {
	var out []target
	add := func(name, want, got string, met *bool) {
		out = append(out, target{Target: name, Want: want, Got: got, Met: met})
	}
	verdict := func(ok bool) *bool { return &ok }
	counts := r.Settings.Tokens
	small, large := counts[0], counts[0]
	for _, n := range counts {
		small, large = min(small, n), max(large, n)
	}
	for _, n := range counts {
		name := fmt.Sprintf("API bearer GET, %d tokens", n)
		if x, ok := r.find(idAPIValid, n); ok {
			add(name, "≥ 0.35 × baseline", fmt.Sprintf("%.2f ×", x.Ratio), verdict(x.Ratio >= 0.35))
		} else {
			add(name, "≥ 0.35 × baseline", "not measured (no API?)", nil)
		}
	}
	for _, n := range counts {
		if x, ok := r.find(idListFirst, n); ok {
			add(fmt.Sprintf("list, first page, %d tokens", n), "≥ 0.15 × baseline",
				fmt.Sprintf("%.2f ×", x.Ratio), verdict(x.Ratio >= 0.15))
		}
	}
	if small != large {
		a, okA := r.find(idListFirst, small)
		b, okB := r.find(idListFirst, large)
		if okA && okB && b.RPS > 0 {
			slow := a.RPS / b.RPS
			add(fmt.Sprintf("list, first page, %d vs %d tokens", large, small), "≤ 1.3 × slower",
				fmt.Sprintf("%.2f × slower (%.0f vs %.0f req/s)", slow, b.RPS, a.RPS), verdict(slow <= 1.3))
		}
	}
	if a, ok := r.find(idListFirst, large); ok {
		if d, ok := r.find(idListDeep, large); ok && d.RPS > 0 {
			slow := a.RPS / d.RPS
			add(fmt.Sprintf("list, deep page vs first, %d tokens", large), "the same (≤ 1.3 × slower)",
				fmt.Sprintf("%.2f × slower (%.0f vs %.0f req/s)", slow, d.RPS, a.RPS), verdict(slow <= 1.3))
		}
	}
	// What a request must cost: server CPU per request, on each engine.
	for _, engine := range []string{engineSQLite, enginePostgres} {
		for _, n := range counts {
			for _, c := range cpuTargets {
				if x, ok := r.findOn(engine, c.id, n); ok && x.CPUPerReqUs > 0 {
					add(fmt.Sprintf("%s, %s, %d tokens, CPU", engine, x.Scenario, n), fmt.Sprintf("≤ %d µs a request", c.maxUs),
						us(x.CPUPerReqUs), verdict(x.CPUPerReqUs <= float64(c.maxUs)))
				}
			}
		}
	}
	for _, n := range counts {
		if x, ok := r.find(idDelete, n); ok {
			add(fmt.Sprintf("delete flow, %d tokens", n), "median < 5 ms, p99 < 20 ms",
				fmt.Sprintf("median %s, p99 %s", ms(x.P50Ms), ms(x.P99Ms)), verdict(x.P50Ms < 5 && x.P99Ms < 20))
		}
	}
	// PostgreSQL beside SQLite: its round trips cost time, not much CPU.
	for _, n := range counts {
		for _, id := range []string{idAPIValid, idListFirst} {
			s, okS := r.find(id, n)
			p, okP := r.findOn(enginePostgres, id, n)
			if okS && okP && s.RPS > 0 {
				add(fmt.Sprintf("PostgreSQL, %s, %d tokens", p.Scenario, n), "≥ 0.6 × SQLite's req/s",
					fmt.Sprintf("%.2f × (%.0f vs %.0f req/s)", p.RPS/s.RPS, p.RPS, s.RPS), verdict(p.RPS/s.RPS >= 0.6))
			}
		}
		if x, ok := r.findOn(enginePostgres, idDelete, n); ok {
			add(fmt.Sprintf("PostgreSQL, delete flow, %d tokens", n), "median < 10 ms",
				"median "+ms(x.P50Ms), verdict(x.P50Ms < 10))
		}
	}
	var peak int64
	for _, x := range r.Rows {
		if x.Engine == engineSQLite && x.Tokens == large && x.ID != idStartup {
			peak = max(peak, x.PeakRSS)
		}
	}
	if peak > 0 {
		add(fmt.Sprintf("peak RSS under load, %d tokens", large), "< 64 MiB", mib(peak), verdict(peak < 64<<20))
	}
	if x, ok := r.find(idStartup, large); ok {
		add(fmt.Sprintf("start-up, %d tokens", large), "< 200 ms", "median "+ms(x.P50Ms), verdict(x.P50Ms < 200))
	}
	return out
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ms(v float64) string {
	if v == 0 {
		return "—"
	}
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

func us(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f µs", v)
}

func mib(b int64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// baselineCPU is the median CPU time per request of the baseline runs.
func (r *report) baselineCPU() float64 {
	var v []float64
	for _, x := range r.Rows {
		if x.BaselineCPUPerReqUs > 0 {
			v = append(v, x.BaselineCPUPerReqUs)
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// stem names the result files after the start of the run.
func (r *report) stem() string { return r.Started.Format("20060102-150405") }

// markdown is the report as printed and written: one table of scenarios, one
// of targets.
func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# apitokens benchmark, %s\n\n", r.Started.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Generator %s, %d threads, %d connections, %s per run, on loopback; the baseline (a bare net/http hello world) "+
		"is loaded just before each scenario with the same settings. Host: %d CPUs, Linux %s, load average %s at start, %s at end "+
		"(the generator, both servers and anything else running share the CPUs). Binary: %s.\n\n",
		r.Settings.Generator, r.Settings.Threads, r.Settings.Connections, r.Settings.Duration,
		r.Host.CPUs, r.Host.Kernel, r.Host.LoadAtStart, r.Host.LoadAtEnd, mib(r.Binary.Bytes))
	table := [][]string{{"engine", "scenario", "tokens", "req/s", "p50", "p99", "peak RSS", "CPU/req", "baseline req/s", "× baseline", "note"}}
	for _, x := range r.Rows {
		rps, base, ratio := "—", "—", "—"
		if x.RPS > 0 {
			rps = fmt.Sprintf("%.0f", x.RPS)
		}
		if x.BaselineRPS > 0 {
			base = fmt.Sprintf("%.0f", x.BaselineRPS)
			ratio = fmt.Sprintf("%.2f", x.Ratio)
		}
		if x.NA {
			rps = "n/a"
		}
		table = append(table, []string{x.Engine, x.Scenario, fmt.Sprint(x.Tokens), rps, ms(x.P50Ms), ms(x.P99Ms),
			mib(x.PeakRSS), us(x.CPUPerReqUs), base, ratio, x.Note})
	}
	writeTable(&b, table)
	if len(r.Seeding) > 0 {
		var parts []string
		for _, s := range r.Seeding {
			parts = append(parts, fmt.Sprintf("%s, %d tokens in %.1f s", s.Engine, s.Tokens, s.Seconds))
		}
		fmt.Fprintf(&b, "\nSeeding (apitokens seed): %s. Delete-flow req/s are deletes per second of one sequential browser. "+
			"CPU/req is the server's user + system CPU time per request (the baseline's is %s), which unlike req/s does not "+
			"depend on what else the machine is running.\n", strings.Join(parts, ", "), us(r.baselineCPU()))
	}
	b.WriteString("\n## Targets\n\n")
	targets := [][]string{{"target", "want", "got", "met"}}
	for _, t := range r.Targets {
		met := "not measured"
		if t.Met != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*t.Met]
		}
		targets = append(targets, []string{t.Target, t.Want, t.Got, met})
	}
	writeTable(&b, targets)
	if len(r.Failures) > 0 {
		b.WriteString("\n## Failures\n\n")
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	return b.String()
}

// writeTable writes a Markdown table with its columns aligned, so that it
// reads as well in a terminal as rendered.
func writeTable(b *strings.Builder, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		b.WriteString("|")
		for i, c := range r {
			fmt.Fprintf(b, " %s%s |", c, strings.Repeat(" ", width[i]-len([]rune(c))))
		}
		b.WriteString("\n")
	}
	line(rows[0])
	sep := make([]string, len(width))
	for i, w := range width {
		sep[i] = strings.Repeat("-", w)
	}
	line(sep)
	for _, r := range rows[1:] {
		line(r)
	}
}

// write saves the report as <stem>.md and <stem>.json in dir.
func (r *report) write(dir, md string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, r.stem()+".md"), []byte(md), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, r.stem()+".json"), append(js, '\n'), 0o644)
}
