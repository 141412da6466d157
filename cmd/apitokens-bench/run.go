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

	"apitokens/store/storetest"
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
	engines := []string{engineSQLite}
	if cfg.postgres != "" {
		engines = append(engines, enginePostgres)
	}
	for _, n := range cfg.tokens {
		for _, engine := range engines {
			if err := benchTokens(ctx, cfg, gen, bin, hello, n, engine, tmp, rep, progress); err != nil {
				return rep, err
			}
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

// The engines a run can measure.
const (
	engineSQLite   = "sqlite"
	enginePostgres = "postgres"
)

// benchTokens measures every scenario against a fresh database of n tokens
// on engine.
func benchTokens(ctx context.Context, cfg config, gen generator, bin string, hello *process, n int, engine, tmp string, rep *report, progress io.Writer) error {
	dir := filepath.Join(tmp, engine+"-tokens-"+strconv.Itoa(n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// The database, and the key file every process on it shares.
	db := []string{"--db", filepath.Join(dir, "bench.db")}
	if engine == enginePostgres {
		dsn, drop, err := storetest.MakeDatabase(ctx, cfg.postgres, fmt.Sprintf("apitokens_bench_%d_%d", os.Getpid(), n))
		if err != nil {
			return err
		}
		defer drop()
		db = []string{"--db", dsn, "--keys", filepath.Join(dir, "bench.keys")}
	}
	const email = "load-test@example.com"
	password := "bench-" + randomHex(12)
	seed, err := seedDatabase(ctx, bin, db, email, password, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "\n%s: %d tokens seeded in %.1f s\n", engine, n, seed.Seconds)
	rep.Seeding = append(rep.Seeding, seedTime{Engine: engine, Tokens: n, Seconds: seed.Seconds})

	args := append([]string{"serve", "--addr", "127.0.0.1:0"}, db...)
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
	run := &tokenRun{engine: engine, cfg: cfg, gen: gen, hello: hello, srv: srv, b: b, n: n, rep: rep, progress: progress}
	scenarios := run.scenarios(seed)
	if err := prepareScenarios(ctx, cfg, b, n, scenarios); err != nil {
		return err
	}
	for _, sc := range scenarios {
		if cfg.only.MatchString(sc.name) {
			if err := run.load(ctx, sc); err != nil {
				return err
			}
		}
	}
	if cfg.only.MatchString("delete flow") && cfg.deletes > 0 {
		run.deleteFlow(ctx)
	}
	if engine == enginePostgres {
		// A second instance on the same database, loaded beside the first.
		other, err := startProcess(ctx, bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, db...), childEnv(),
			filepath.Join(dir, "app2.log"), false)
		if err != nil {
			return err
		}
		for _, sc := range scenarios {
			if (sc.id == idAPIValid || sc.id == idListFirst) && sc.na == "" && cfg.only.MatchString(sc.name+", two instances") {
				if err := run.loadTwo(ctx, sc, other); err != nil {
					other.stop()
					return err
				}
			}
		}
		other.stop()
	}
	srv.stop()

	if cfg.only.MatchString("start-up") {
		r, err := measureStartup(ctx, bin, db, dir, cfg.startupRuns)
		if err != nil {
			return err
		}
		r.Tokens, r.Engine = n, engine
		rep.add(r)
		fmt.Fprintf(progress, "%-34s median %s, max %s, %s\n", r.Scenario, ms(r.P50Ms), ms(r.P99Ms), mib(r.PeakRSS))
	}
	return nil
}

// seedDatabase makes a database with an administrator and n tokens, through
// the app's own commands.
func seedDatabase(ctx context.Context, bin string, db []string, email, password string, n int) (seeded, error) {
	const account = "Load test"
	var seed seeded
	if _, err := runApp(ctx, bin, password+"\n", append(append([]string{"user", "create"}, db...),
		"--account", account, "--email", email, "--name", "Load Tester", "--role", "admin")...); err != nil {
		return seed, err
	}
	out, err := runApp(ctx, bin, "", append(append([]string{"seed"}, db...), "--account", account, "--tokens", strconv.Itoa(n))...)
	if err != nil {
		return seed, err
	}
	if err := json.Unmarshal(out, &seed); err != nil || seed.Created != n {
		return seed, fmt.Errorf("apitokens seed printed %q: %v", out, err)
	}
	return seed, nil
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
func measureStartup(ctx context.Context, bin string, db []string, dir string, runs int) (row, error) {
	var times []time.Duration
	var peak int64
	client := &http.Client{Timeout: 5 * time.Second}
	for range runs {
		start := time.Now()
		p, err := startProcess(ctx, bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, db...),
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
