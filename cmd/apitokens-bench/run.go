package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Scenario IDs, which the targets refer to.
const (
	idListFirst   = "list-first"
	idListDeep    = "list-deep"
	idListSearch  = "list-search"
	idDetails     = "details"
	idAPIValid    = "api-valid"
	idAPIDisabled = "api-disabled"
	idAPIGarbage  = "api-garbage"
	idDelete      = "delete"
	idStartup     = "startup"
)

// apiPath is the REST API's token resource.
const apiPath = "/public/v1/accounts/api-tokens"

// seeded is what apitokens seed prints.
type seeded struct {
	Account  string  `json:"account"`
	Created  int     `json:"created"`
	Seconds  float64 `json:"seconds"`
	Active   seedTok `json:"active"`
	Disabled seedTok `json:"disabled"`
}

type seedTok struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// scenario is one load run against the app.
type scenario struct {
	id, name string
	path     string
	headers  [][2]string
	want     int // the status every answer should have
	note     string
	na       string // why the scenario does not apply, if it does not
}

// run measures everything cfg asks for and writes the report. It returns an
// error when a scenario did not behave (wrong status, failed delete) after
// the report is written, so that a broken page cannot pass as a fast one.
func run(ctx context.Context, cfg config, stdout, progress io.Writer) (*report, error) {
	tmp, err := os.MkdirTemp("", "apitokens-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := cfg.bin
	if bin == "" {
		fmt.Fprintln(progress, "building the app…")
		if bin, err = buildApp(ctx, tmp, progress); err != nil {
			return nil, err
		}
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return nil, err
	}
	info, err := os.Stat(bin)
	if err != nil {
		return nil, err
	}
	gen, err := newGenerator(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.profileDir != "" {
		if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
			return nil, err
		}
	}
	hello, err := startHello(ctx, filepath.Join(tmp, "hello.log"))
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer hello.stop()

	rep := newReport(cfg, gen, bin, info.Size())
	fmt.Fprintf(progress, "generator %s, %d threads, %d connections, %s per run; baseline at %s\n",
		gen.name(), cfg.threads, cfg.connections, cfg.duration, hello.base)
	for _, n := range cfg.tokens {
		if err := benchTokens(ctx, cfg, gen, bin, hello, n, tmp, rep, progress); err != nil {
			return rep, err
		}
	}
	rep.finish()
	md := rep.markdown()
	fmt.Fprint(stdout, md)
	if cfg.out != "" {
		if err := rep.write(cfg.out, md); err != nil {
			return rep, err
		}
		fmt.Fprintf(progress, "results written to %s\n", filepath.Join(cfg.out, rep.stem()+".{md,json}"))
	}
	if len(rep.Failures) > 0 {
		return rep, fmt.Errorf("%d scenario(s) misbehaved:\n  %s", len(rep.Failures), strings.Join(rep.Failures, "\n  "))
	}
	return rep, nil
}

// runApp runs an admin subcommand of the app and returns what it printed.
func runApp(ctx context.Context, bin, stdin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("apitokens %s: %v: %s", strings.Join(args[:2], " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// benchTokens measures every scenario against a fresh database of n tokens.
func benchTokens(ctx context.Context, cfg config, gen generator, bin string, hello *process, n int, tmp string, rep *report, progress io.Writer) error {
	dir := filepath.Join(tmp, "tokens-"+strconv.Itoa(n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	db := filepath.Join(dir, "bench.db")
	const account, email = "Load test", "load-test@example.com"
	password := "bench-" + randomHex(12)
	if _, err := runApp(ctx, bin, password+"\n", "user", "create", "--db", db,
		"--account", account, "--email", email, "--name", "Load Tester", "--role", "admin"); err != nil {
		return err
	}
	out, err := runApp(ctx, bin, "", "seed", "--db", db, "--account", account, "--tokens", strconv.Itoa(n))
	if err != nil {
		return err
	}
	var seed seeded
	if err := json.Unmarshal(out, &seed); err != nil || seed.Created != n {
		return fmt.Errorf("apitokens seed printed %q: %v", out, err)
	}
	fmt.Fprintf(progress, "\n%d tokens seeded in %.1f s\n", n, seed.Seconds)
	rep.Seeding = append(rep.Seeding, seedTime{Tokens: n, Seconds: seed.Seconds})

	args := []string{"serve", "--db", db, "--addr", "127.0.0.1:0"}
	if cfg.profileDir != "" {
		args = append(args, "--pprof", "127.0.0.1:0")
	}
	srv, err := startProcess(ctx, bin, args, childEnv(), filepath.Join(dir, "app.log"), cfg.profileDir != "")
	if err != nil {
		return err
	}
	defer srv.stop()
	b, err := signIn(ctx, srv.base, email, password)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	cookie := [][2]string{{"Cookie", b.cookieHeader()}}
	bearer := func(secret string) [][2]string { return [][2]string{{"Authorization", "Bearer " + secret}} }

	scenarios := []scenario{
		{id: idListFirst, name: "list, first page", path: listPath, headers: cookie, want: http.StatusOK},
		{id: idListDeep, name: "list, deep page", headers: cookie, want: http.StatusOK},
		{id: idListSearch, name: "list, search ?q=" + cfg.search, path: listPath + "?q=" + cfg.search, headers: cookie, want: http.StatusOK},
		{id: idDetails, name: "details page", path: listPath + "/" + seed.Active.ID, headers: cookie, want: http.StatusOK},
		{id: idAPIValid, name: "API GET, valid bearer", path: apiPath + "/" + seed.Active.ID, headers: bearer(seed.Active.Token), want: http.StatusOK},
		{id: idAPIDisabled, name: "API GET, disabled bearer", path: apiPath + "/" + seed.Disabled.ID, headers: bearer(seed.Disabled.Token), want: http.StatusUnauthorized},
		{id: idAPIGarbage, name: "API GET, garbage bearer", path: apiPath + "/" + seed.Active.ID, headers: bearer("garbage-" + randomHex(20)), want: http.StatusUnauthorized},
	}
	if err := prepareScenarios(ctx, cfg, b, n, scenarios); err != nil {
		return err
	}
	for _, sc := range scenarios {
		if !cfg.only.MatchString(sc.name) {
			continue
		}
		r := row{ID: sc.id, Scenario: sc.name, Tokens: n, Note: sc.note}
		if sc.na != "" {
			r.NA, r.Note = true, sc.na
			rep.add(r)
			fmt.Fprintf(progress, "%-34s %s\n", sc.name, sc.na)
			continue
		}
		helloCPU := hello.cpuTime()
		base, err := gen.run(ctx, loadSpec{url: hello.base + "/"})
		if err != nil {
			return fmt.Errorf("baseline before %s: %w", sc.name, err)
		}
		helloCPU = hello.cpuTime() - helloCPU
		srv.resetPeakRSS()
		appCPU := srv.cpuTime()
		var profiled chan error
		profilePath := ""
		if srv.pprof != "" {
			profilePath = filepath.Join(cfg.profileDir, fmt.Sprintf("%s-%d.pprof", sc.id, n))
			profiled = captureProfile(ctx, srv.pprof, cfg.duration, profilePath)
		}
		res, err := gen.run(ctx, loadSpec{url: srv.base + sc.path, headers: sc.headers})
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		if profiled != nil {
			if err := <-profiled; err != nil {
				fmt.Fprintf(progress, "  profile of %s: %v\n", sc.name, err)
				profilePath = ""
			}
		}
		appCPU = srv.cpuTime() - appCPU
		r.fromLoad(res, base)
		r.PeakRSS = srv.peakRSS()
		r.CPUPerReqUs = perRequest(appCPU, res.Requests)
		r.BaselineCPUPerReqUs = perRequest(helloCPU, base.Requests)
		r.Profile = profilePath
		// wrk tells 2xx and 3xx apart from the rest, no more: ask again,
		// so that a session lost halfway (every page a 303 to the
		// sign-in) cannot pass for a fast page.
		after, _, _, err := b.probe(ctx, sc.path, sc.headers)
		switch {
		case err != nil:
			return fmt.Errorf("%s, after the run: %w", sc.name, err)
		case sc.want == http.StatusUnauthorized && after == http.StatusTooManyRequests:
			// The app refuses an address that keeps failing before it
			// reads the database: say which answer was measured.
			r.Note = "after the first failures, 429 from the failure limiter, before any database read"
		case after != sc.want:
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s (%d tokens): after the run, GET %s answered %d, want %d",
				sc.name, n, sc.path, after, sc.want))
			r.Note = strings.TrimPrefix(r.Note+"; MISBEHAVED: see failures", "; ")
		}
		// Every answer should have the status the probe saw; wrk only
		// counts those outside 2xx and 3xx.
		wantUnexpected := 0
		if sc.want >= 400 {
			wantUnexpected = res.Requests
		}
		if res.Unexpected != wantUnexpected || res.Errors > 0 || res.Requests == 0 {
			msg := fmt.Sprintf("%s (%d tokens): %d requests, %d outside 2xx/3xx (want %d), %d connection errors",
				sc.name, n, res.Requests, res.Unexpected, wantUnexpected, res.Errors)
			rep.Failures = append(rep.Failures, msg)
			r.Note = strings.TrimPrefix(r.Note+"; MISBEHAVED: see failures", "; ")
		}
		rep.add(r)
		fmt.Fprintf(progress, "%-34s %9.0f req/s  p50 %8s  p99 %8s  %8s  %8s CPU/req  baseline %9.0f req/s  ×%.2f\n",
			sc.name, r.RPS, ms(r.P50Ms), ms(r.P99Ms), mib(r.PeakRSS), us(r.CPUPerReqUs), r.BaselineRPS, r.Ratio)
	}

	if cfg.only.MatchString("delete flow") && cfg.deletes > 0 {
		count := min(cfg.deletes, n/2)
		srv.resetPeakRSS()
		appCPU := srv.cpuTime()
		start := time.Now()
		times, posts, err := b.deleteFlow(ctx, count)
		elapsed := time.Since(start)
		r := row{ID: idDelete, Scenario: "delete flow (POST + redirected GET)", Tokens: n,
			Note: fmt.Sprintf("%d deletes, one browser, synchronous=FULL; the POST alone: p50 %s, p99 %s",
				len(times), ms(millis(percentile(posts, 50))), ms(millis(percentile(posts, 99))))}
		if err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("delete flow (%d tokens): %v", n, err))
			r.Note += "; MISBEHAVED: see failures"
		}
		if len(times) > 0 {
			r.Requests = len(times)
			r.RPS = float64(len(times)) / elapsed.Seconds()
			r.P50Ms, r.P99Ms = millis(percentile(times, 50)), millis(percentile(times, 99))
		}
		r.PeakRSS = srv.peakRSS()
		r.CPUPerReqUs = perRequest(srv.cpuTime()-appCPU, len(times))
		rep.add(r)
		fmt.Fprintf(progress, "%-34s %9.0f deletes/s  p50 %7s  p99 %7s  %6s\n", r.Scenario, r.RPS, ms(r.P50Ms), ms(r.P99Ms), mib(r.PeakRSS))
	}
	srv.stop()

	if cfg.only.MatchString("start-up") {
		r, err := measureStartup(ctx, bin, db, dir, cfg.startupRuns)
		if err != nil {
			return err
		}
		r.Tokens = n
		rep.add(r)
		fmt.Fprintf(progress, "%-34s median %s, max %s, %s\n", r.Scenario, ms(r.P50Ms), ms(r.P99Ms), mib(r.PeakRSS))
	}
	return nil
}

// prepareScenarios fills in what must be found on the live server: the deep
// page's URL, whether the search and the API exist. A scenario whose probe
// answers otherwise than expected is a failure, except the API, which may
// not be there yet.
func prepareScenarios(ctx context.Context, cfg config, b *browser, n int, scenarios []scenario) error {
	for i := range scenarios {
		sc := &scenarios[i]
		if !cfg.only.MatchString(sc.name) {
			continue
		}
		if sc.id == idListDeep {
			hops := cfg.deepPage
			if hops <= 0 {
				hops = max(1, n/50/2)
			}
			path, how, err := b.deepPage(ctx, hops)
			if err != nil {
				return fmt.Errorf("find the deep page: %w", err)
			}
			sc.path, sc.note = path, how+": "+path
		}
		status, body, _, err := b.probe(ctx, sc.path, sc.headers)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		switch {
		case strings.HasPrefix(sc.id, "api-") && status == http.StatusNotFound:
			sc.na = "n/a (no API: " + apiPath + "/{id} answers 404)"
		case status != sc.want:
			return fmt.Errorf("%s: GET %s answered %d, want %d", sc.name, sc.path, status, sc.want)
		case sc.id == idListSearch:
			sc.note = searchNote(body, cfg.search)
		}
	}
	// Without the API, none of its scenarios applies.
	for i := range scenarios {
		if scenarios[i].id == idAPIValid && scenarios[i].na != "" {
			for j := range scenarios {
				if strings.HasPrefix(scenarios[j].id, "api-") {
					scenarios[j].na = scenarios[i].na
				}
			}
		}
	}
	return nil
}

// perRequest is the CPU time per request, in microseconds.
func perRequest(cpu time.Duration, requests int) float64 {
	if requests == 0 {
		return 0
	}
	return float64(cpu) / float64(time.Microsecond) / float64(requests)
}

// probe sends one request as the load generator will: only the scenario's
// headers, no cookie jar, no redirects followed.
func (b *browser) probe(ctx context.Context, path string, headers [][2]string) (int, string, string, error) {
	plain := &browser{base: b.base, client: &http.Client{
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	return plain.get(ctx, path, headers...)
}

// captureProfile saves a CPU profile of the app taken while a scenario runs.
func captureProfile(ctx context.Context, pprofBase string, d time.Duration, path string) chan error {
	done := make(chan error, 1)
	secs := max(1, int(d/time.Second))
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet,
			fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", pprofBase, secs), nil)
		if err != nil {
			done <- err
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("pprof answered %s", resp.Status)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		done <- errors.Join(err, f.Close())
	}()
	return done
}

// measureStartup times, runs times, the app from exec to its first 200 on
// /healthz, on the database just measured.
func measureStartup(ctx context.Context, bin, db, dir string, runs int) (row, error) {
	var times []time.Duration
	var peak int64
	client := &http.Client{Timeout: 5 * time.Second}
	for range runs {
		start := time.Now()
		p, err := startProcess(ctx, bin, []string{"serve", "--db", db, "--addr", "127.0.0.1:0"},
			childEnv(), filepath.Join(dir, "startup.log"), false)
		if err != nil {
			return row{}, err
		}
		ok := false
		for deadline := start.Add(10 * time.Second); time.Now().Before(deadline); {
			resp, err := client.Get(p.base + "/healthz")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok = true
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		elapsed := time.Since(start)
		peak = max(peak, p.peakRSS())
		p.stop()
		if !ok {
			return row{}, errors.New("start-up: /healthz did not answer 200 within 10 s")
		}
		times = append(times, elapsed)
	}
	worst := millis(percentile(times, 100))
	return row{ID: idStartup, Scenario: "start-up to first /healthz 200",
		P50Ms: millis(percentile(times, 50)), P99Ms: worst, PeakRSS: peak,
		Note: fmt.Sprintf("median of %d runs; p99 column: slowest", runs)}, nil
}
