package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"apitokens/web/paths"
)

// tokenRun is the measuring of one token count: the app under load, the
// baseline beside it, and where the results go.
type tokenRun struct {
	engine   string // engineSQLite or enginePostgres
	cfg      config
	gen      generator
	hello    *process
	srv      *process
	b        *browser
	n        int
	rep      *report
	progress io.Writer
}

// scenarios are the loads measured at each token count.
func (run *tokenRun) scenarios(seed seeded) []scenario {
	cookie := [][2]string{{"Cookie", run.b.cookieHeader()}}
	bearer := func(secret string) [][2]string { return [][2]string{{"Authorization", "Bearer " + secret}} }
	return []scenario{
		{id: idListFirst, name: "list, first page", path: listPath, headers: cookie, want: http.StatusOK},
		{id: idListDeep, name: "list, deep page", headers: cookie, want: http.StatusOK},
		{id: idListSearch, name: "list, search ?q=" + run.cfg.search, path: listPath + "?q=" + run.cfg.search, headers: cookie, want: http.StatusOK},
		{id: idDetails, name: "details page", path: listPath + "/" + seed.Active.ID, headers: cookie, want: http.StatusOK},
		{id: idAPIValid, name: "API GET, valid bearer", path: paths.APIToken(seed.Active.ID), headers: bearer(seed.Active.Token), want: http.StatusOK},
		{id: idAPIDisabled, name: "API GET, disabled bearer", path: paths.APIToken(seed.Disabled.ID), headers: bearer(seed.Disabled.Token), want: http.StatusUnauthorized},
		{id: idAPIGarbage, name: "API GET, garbage bearer", path: paths.APIToken(seed.Active.ID), headers: bearer("garbage-" + randomHex(20)), want: http.StatusUnauthorized},
	}
}

// load measures one scenario beside a run of the baseline just before it.
func (run *tokenRun) load(ctx context.Context, sc scenario) error {
	cfg, srv, hello, rep, progress := run.cfg, run.srv, run.hello, run.rep, run.progress
	r := row{ID: sc.id, Engine: run.engine, Scenario: sc.name, Tokens: run.n, Note: sc.note}
	if sc.na != "" {
		r.NA, r.Note = true, sc.na
		rep.add(r)
		fmt.Fprintf(progress, "%-34s %s\n", sc.name, sc.na)
		return nil
	}
	helloCPU := hello.cpuTime()
	base, err := run.gen.run(ctx, loadSpec{url: hello.base + "/"})
	if err != nil {
		return fmt.Errorf("baseline before %s: %w", sc.name, err)
	}
	helloCPU = hello.cpuTime() - helloCPU
	srv.resetPeakRSS()
	appCPU := srv.cpuTime()
	var profiled chan error
	profilePath := ""
	if srv.pprof != "" {
		profilePath = filepath.Join(cfg.profileDir, fmt.Sprintf("%s-%s-%d.pprof", run.engine, sc.id, run.n))
		profiled = captureProfile(ctx, srv.pprof, cfg.duration, profilePath)
	}
	res, err := run.gen.run(ctx, loadSpec{url: srv.base + sc.path, headers: sc.headers})
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
	if err := run.check(ctx, sc, res, &r); err != nil {
		return err
	}
	rep.add(r)
	fmt.Fprintf(progress, "%-34s %9.0f req/s  p50 %8s  p99 %8s  %8s  %8s CPU/req  baseline %9.0f req/s  ×%.2f\n",
		sc.name, r.RPS, ms(r.P50Ms), ms(r.P99Ms), mib(r.PeakRSS), us(r.CPUPerReqUs), r.BaselineRPS, r.Ratio)
	return nil
}

// loadTwo measures a scenario on two instances of the app at once, the
// first and other, on one database: each gets the generator's full load,
// and the row adds up their requests and CPU time.
func (run *tokenRun) loadTwo(ctx context.Context, sc scenario, other *process) error {
	base, err := run.gen.run(ctx, loadSpec{url: run.hello.base + "/"})
	if err != nil {
		return fmt.Errorf("baseline before %s: %w", sc.name, err)
	}
	// The other instance's session: a browser signed in on the first is
	// signed in on both, so the same cookie serves.
	cpuBefore := run.srv.cpuTime() + other.cpuTime()
	var wg sync.WaitGroup
	results := make([]loadResult, 2)
	errs := make([]error, 2)
	for i, p := range []*process{run.srv, other} {
		wg.Go(func() { results[i], errs[i] = run.gen.run(ctx, loadSpec{url: p.base + sc.path, headers: sc.headers}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s, two instances: %w", sc.name, err)
	}
	cpu := run.srv.cpuTime() + other.cpuTime() - cpuBefore
	sum := loadResult{Requests: results[0].Requests + results[1].Requests,
		RPS: results[0].RPS + results[1].RPS, P50: max(results[0].P50, results[1].P50), P99: max(results[0].P99, results[1].P99),
		Unexpected: results[0].Unexpected + results[1].Unexpected, Errors: results[0].Errors + results[1].Errors}
	r := row{ID: sc.id + "-two", Engine: run.engine, Scenario: sc.name + ", two instances", Tokens: run.n,
		Note: "both instances loaded at once on one database, each by its own generator; req/s summed, p50/p99 the worse"}
	r.fromLoad(sum, base)
	r.CPUPerReqUs = perRequest(cpu, sum.Requests)
	r.PeakRSS = max(run.srv.peakRSS(), other.peakRSS())
	if err := run.check(ctx, sc, sum, &r); err != nil {
		return err
	}
	run.rep.add(r)
	fmt.Fprintf(run.progress, "%-34s %9.0f req/s  p50 %8s  p99 %8s  %8s CPU/req\n",
		r.Scenario, r.RPS, ms(r.P50Ms), ms(r.P99Ms), us(r.CPUPerReqUs))
	return nil
}

// check makes sure a scenario measured what it meant to: the answer it
// wanted, every time. What went wrong becomes a failure of the report.
func (run *tokenRun) check(ctx context.Context, sc scenario, res loadResult, r *row) error {
	rep, n := run.rep, run.n
	// wrk tells 2xx and 3xx apart from the rest, no more: ask again, so
	// that a session lost halfway (every page a 303 to the sign-in)
	// cannot pass for a fast page.
	after, _, _, err := run.b.probe(ctx, sc.path, sc.headers)
	switch {
	case err != nil:
		return fmt.Errorf("%s, after the run: %w", sc.name, err)
	case sc.want == http.StatusUnauthorized && after == http.StatusTooManyRequests:
		// The app refuses an address that keeps failing before it reads
		// the database: say which answer was measured.
		r.Note = "after the first failures, 429 from the failure limiter, before any database read"
	case after != sc.want:
		rep.Failures = append(rep.Failures, fmt.Sprintf("%s (%d tokens): after the run, GET %s answered %d, want %d",
			sc.name, n, sc.path, after, sc.want))
		r.Note = strings.TrimPrefix(r.Note+"; MISBEHAVED: see failures", "; ")
	}
	// Every answer should have the status the probe saw; wrk only counts
	// those outside 2xx and 3xx.
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
	return nil
}

// deleteFlow deletes tokens one after another as a person would, and times
// each: the POST and the list it redirects to.
func (run *tokenRun) deleteFlow(ctx context.Context) {
	srv, rep, n := run.srv, run.rep, run.n
	count := min(run.cfg.deletes, n/2)
	srv.resetPeakRSS()
	appCPU := srv.cpuTime()
	start := time.Now()
	times, posts, err := run.b.deleteFlow(ctx, count)
	elapsed := time.Since(start)
	durability := "synchronous=FULL"
	if run.engine == enginePostgres {
		durability = "PostgreSQL's default fsync at commit"
	}
	r := row{ID: idDelete, Engine: run.engine, Scenario: "delete flow (POST + redirected GET)", Tokens: n,
		Note: fmt.Sprintf("%d deletes, one browser, %s; the POST alone: p50 %s, p99 %s",
			len(times), durability, ms(millis(percentile(posts, 50))), ms(millis(percentile(posts, 99))))}
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
	fmt.Fprintf(run.progress, "%-34s %9.0f deletes/s  p50 %7s  p99 %7s  %6s\n", r.Scenario, r.RPS, ms(r.P50Ms), ms(r.P99Ms), mib(r.PeakRSS))
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
			sc.na = "n/a (no API: " + paths.APITokens + "/{id} answers 404)"
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
