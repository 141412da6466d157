package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadSpec is what a load run sends, over and over.
type loadSpec struct {
	url     string
	headers [][2]string // name, value
}

// loadResult is what a load run measured.
type loadResult struct {
	Requests int
	Seconds  float64
	RPS      float64
	P50, P99 time.Duration
	// Unexpected counts answers outside 2xx and 3xx (wrk's "Non-2xx or 3xx
	// responses"); Errors counts connection errors and timeouts.
	Unexpected int
	Errors     int
}

// generator drives a server at a fixed concurrency for a fixed time.
type generator interface {
	name() string
	run(ctx context.Context, spec loadSpec) (loadResult, error)
}

type loadSettings struct {
	threads, connections int
	duration             time.Duration
}

// wrkGenerator is Debian's wrk: the same C load generator the issue of a
// fair comparison calls for, cheaper per request than any Go client.
type wrkGenerator struct {
	path string
	loadSettings
}

func (g wrkGenerator) name() string { return "wrk" }

func (g wrkGenerator) run(ctx context.Context, spec loadSpec) (loadResult, error) {
	// wrk counts whole seconds.
	secs := max(1, int(math.Round(g.duration.Seconds())))
	args := []string{"-t", strconv.Itoa(min(g.threads, g.connections)), "-c", strconv.Itoa(g.connections),
		"-d", strconv.Itoa(secs) + "s", "--latency", "--timeout", "5s"}
	for _, h := range spec.headers {
		args = append(args, "-H", h[0]+": "+h[1])
	}
	args = append(args, spec.url)
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, g.path, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return loadResult{}, fmt.Errorf("wrk: %v: %s", err, strings.TrimSpace(errOut.String()))
	}
	return parseWrk(out.String())
}

// parseWrk reads the report wrk prints with --latency.
func parseWrk(out string) (loadResult, error) {
	var r loadResult
	var haveRPS, haveP50, haveP99 bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "50%":
			r.P50, haveP50 = parseWrkDuration(f[1]), true
		case len(f) == 2 && f[0] == "99%":
			r.P99, haveP99 = parseWrkDuration(f[1]), true
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			r.Requests, _ = strconv.Atoi(f[0])
			r.Seconds = parseWrkDuration(strings.TrimSuffix(f[3], ",")).Seconds()
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.RPS, _ = strconv.ParseFloat(f[1], 64)
			haveRPS = true
		case len(f) == 5 && f[0] == "Non-2xx":
			r.Unexpected, _ = strconv.Atoi(f[4])
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				n, _ := strconv.Atoi(strings.TrimSuffix(f[i+1], ","))
				r.Errors += n
			}
		}
	}
	if !haveRPS || !haveP50 || !haveP99 {
		return r, fmt.Errorf("wrk printed no Requests/sec or latency distribution:\n%s", out)
	}
	return r, nil
}

// parseWrkDuration reads wrk's "1.23ms", "850.00us", "1.02s", "1.00m".
func parseWrkDuration(s string) time.Duration {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0
			}
			return time.Duration(f * float64(u.unit))
		}
	}
	return 0
}

// goGenerator is the built-in load generator, for machines without wrk: one
// goroutine per connection, each sending its next request when the last
// answer is read (closed loop, like wrk). It costs more CPU per request than
// wrk, which on a shared machine lowers both the app's and the baseline's
// figures; ratios stay comparable within a run.
type goGenerator struct{ loadSettings }

func (g goGenerator) name() string { return "built-in (Go)" }

func (g goGenerator) run(ctx context.Context, spec loadSpec) (loadResult, error) {
	tr := &http.Transport{
		MaxIdleConnsPerHost: g.connections,
		MaxConnsPerHost:     g.connections,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, g.duration)
	defer cancel()
	type worker struct {
		lat                []time.Duration
		unexpected, errors int
	}
	workers := make([]worker, g.connections)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &workers[i]
		wg.Go(func() {
			for ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, spec.url, nil)
				if err != nil {
					w.errors++
					return
				}
				for _, h := range spec.headers {
					req.Header.Set(h[0], h[1])
				}
				t0 := time.Now()
				resp, err := tr.RoundTrip(req)
				if err != nil {
					if ctx.Err() == nil {
						w.errors++
					}
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil {
					if ctx.Err() == nil {
						w.errors++
					}
					continue
				}
				w.lat = append(w.lat, time.Since(t0))
				if resp.StatusCode < 200 || resp.StatusCode >= 400 {
					w.unexpected++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	r := loadResult{Seconds: elapsed.Seconds()}
	for _, w := range workers {
		all = append(all, w.lat...)
		r.Unexpected += w.unexpected
		r.Errors += w.errors
	}
	r.Requests = len(all)
	r.RPS = float64(r.Requests) / elapsed.Seconds()
	r.P50, r.P99 = percentile(all, 50), percentile(all, 99)
	return r, nil
}

// percentile returns the p-th percentile of ds (nearest rank); it sorts ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(p/100*float64(len(ds)))) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}
