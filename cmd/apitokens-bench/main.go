// Command apitokens-bench measures the app under load, side by side with a
// bare net/http hello-world server on the same machine, generator and
// settings.
//
//	apitokens-bench [--bin bin/apitokens] [--tokens 100,100000] [--db postgres://…] [--duration 5s]
//	    [--threads 2] [--connections 16] [--generator auto|wrk|go] [--deletes 200]
//	    [--startup-runs 7] [--run REGEXP] [--profile DIR] [--out bench/results]
//
// For each token count it seeds a fresh database (apitokens user create, then
// apitokens seed), a SQLite file and, with --db, a PostgreSQL database made
// on that server (measured again with two instances on it), starts the app on loopback, signs in through the login
// form, and loads each scenario right after loading the baseline, so that
// drift of a shared machine hits both. It prints one table and writes it, as
// Markdown and JSON, to the output directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if os.Getenv(helloEnv) != "" {
		if err := serveHello(); err != nil {
			fmt.Fprintln(os.Stderr, "hello:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parseConfig(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "apitokens-bench:", err)
		os.Exit(2)
	}
	if _, err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "apitokens-bench:", err)
		os.Exit(1)
	}
}

// config is what a run measures, and how.
type config struct {
	bin         string // the app's binary; built into a temporary directory when empty
	tokens      []int
	duration    time.Duration
	threads     int
	connections int
	generator   string // auto, wrk or go
	deletes     int
	startupRuns int
	search      string
	deepPage    int // hops of Next from the first page; 0: halfway through the list
	only        *regexp.Regexp
	profileDir  string
	out         string
	postgres    string // a PostgreSQL server's URL: measure that engine too
}

func parseConfig(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("apitokens-bench", flag.ContinueOnError)
	fs.StringVar(&cfg.bin, "bin", "", "the apitokens binary (default: go build one)")
	tokens := fs.String("tokens", "100,100000", "token counts to seed, comma-separated; each gets a fresh database")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each load run (wrk rounds to whole seconds)")
	fs.IntVar(&cfg.threads, "threads", 2, "load generator threads (wrk -t)")
	fs.IntVar(&cfg.connections, "connections", 16, "concurrent connections")
	fs.StringVar(&cfg.generator, "generator", "auto", "auto (wrk when installed), wrk, or go (built-in)")
	fs.IntVar(&cfg.deletes, "deletes", 200, "tokens deleted through the browser flow, per token count (at most half of them)")
	fs.IntVar(&cfg.startupRuns, "startup-runs", 7, "start-ups timed, per token count")
	fs.StringVar(&cfg.search, "search", "partner", "word searched for with ?q= (a tenth of seeded names contain \"Partner\")")
	fs.IntVar(&cfg.deepPage, "deep-page", 0, "how many pages in the deep page is (default: halfway)")
	only := fs.String("run", "", "measure only scenarios whose name matches this regular expression")
	fs.StringVar(&cfg.profileDir, "profile", "", "start the app with --pprof and save a CPU profile of each scenario here")
	fs.StringVar(&cfg.out, "out", "bench/results", "directory for the Markdown and JSON results")
	fs.StringVar(&cfg.postgres, "db", "", "a PostgreSQL server's postgres:// URL: measure PostgreSQL beside SQLite, in a database made for each token count")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(*tokens, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(s, "_", "")))
		if err != nil || n < 20 {
			return cfg, fmt.Errorf("--tokens: %q is not a count of at least 20", s)
		}
		cfg.tokens = append(cfg.tokens, n)
	}
	var err error
	if cfg.only, err = regexp.Compile(*only); err != nil {
		return cfg, fmt.Errorf("--run: %v", err)
	}
	switch {
	case cfg.duration < 100*time.Millisecond:
		return cfg, errors.New("--duration must be at least 100ms")
	case cfg.threads < 1 || cfg.connections < 1:
		return cfg, errors.New("--threads and --connections must be positive")
	case cfg.generator != "auto" && cfg.generator != "wrk" && cfg.generator != "go":
		return cfg, fmt.Errorf("--generator: %q is not auto, wrk or go", cfg.generator)
	case cfg.deletes < 0 || cfg.startupRuns < 1:
		return cfg, errors.New("--deletes must not be negative, --startup-runs must be positive")
	}
	return cfg, nil
}

// newGenerator picks the load generator: wrk when asked for or installed.
func newGenerator(cfg config) (generator, error) {
	s := loadSettings{threads: cfg.threads, connections: cfg.connections, duration: cfg.duration}
	if cfg.generator == "go" {
		return goGenerator{s}, nil
	}
	path, err := exec.LookPath("wrk")
	if err != nil {
		if cfg.generator == "wrk" {
			return nil, errors.New("wrk is not installed (apt-get install wrk), or use --generator go")
		}
		return goGenerator{s}, nil
	}
	return wrkGenerator{path, s}, nil
}

// buildApp builds the app into dir.
func buildApp(ctx context.Context, dir string, log io.Writer) (string, error) {
	bin := dir + "/apitokens"
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "apitokens/cmd/apitokens")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}
