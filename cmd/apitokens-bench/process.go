package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a server the harness started: the app or the baseline.
type process struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	// pprof is the base URL of the app's profile listener, when asked for.
	pprof string
	// done is closed when the process has exited.
	done     chan struct{}
	stopOnce sync.Once
}

// addrLine finds the address a server prints when it listens.
var addrLine = regexp.MustCompile(`(\w+) is listening on (http://[0-9.:\[\]a-z]+)`)

// childEnv is the environment of the processes the harness starts: the
// caller's, without APITOKENS_* settings that would point the app elsewhere.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "APITOKENS_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// startProcess runs a server, with its log going to logPath, and waits until
// it prints the address it listens on (and, with wantPprof, that of pprof).
func startProcess(ctx context.Context, name string, args, env []string, logPath string, wantPprof bool) (*process, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if m := addrLine.FindStringSubmatch(sc.Text()); m != nil {
				switch m[1] {
				case "pprof":
					p.pprof = m[2]
				default:
					p.base = m[2]
				}
			}
			if !signalled && p.base != "" && (!wantPprof || p.pprof != "") {
				signalled = true
				found <- nil
			}
		}
		if !signalled {
			found <- fmt.Errorf("%s exited before listening; see %s", name, logPath)
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	select {
	case err := <-found:
		if err != nil {
			p.stop()
			return nil, err
		}
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not listen within 30 s; see %s", name, logPath)
	}
	p.base = strings.TrimSuffix(p.base, "/")
	return p, nil
}

// stop ends the process gracefully, then for good. Calling it again does
// nothing.
func (p *process) stop() {
	p.stopOnce.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// resetPeakRSS starts a new peak-RSS measurement (Linux: writing 5 to
// clear_refs resets VmHWM). It reports whether the reset worked; when it did
// not, VmHWM is the peak since the process started.
func (p *process) resetPeakRSS() bool {
	path := fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid)
	return os.WriteFile(path, []byte("5"), 0) == nil
}

// peakRSS is the process's peak resident set size, in bytes, since it started
// or since the last resetPeakRSS.
func (p *process) peakRSS() int64 {
	return procStatus(p.cmd.Process.Pid, "VmHWM")
}

// cpuTime is the CPU time the process has used, user and system. It is what
// a request costs the server however busy the rest of the machine is.
func (p *process) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it. utime and stime are fields 14 and 15, in clock ticks of
	// 1/100 s (USER_HZ on Linux).
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// procStatus reads a "kB" field of /proc/PID/status, in bytes; 0 if unknown.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// helloEnv, set in the environment, makes the harness binary (or its test
// binary) the baseline server instead.
const helloEnv = "APITOKENS_BENCH_HELLO"

// serveHello is the baseline: a bare net/http hello world, the most a Go
// server on this machine can answer with the same generator.
func serveHello() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("hello is listening on http://%s\n", ln.Addr())
	hello := []byte("Hello, World!\n")
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(hello)
	}))
}

// startHello starts the baseline server: this very executable, in hello mode.
func startHello(ctx context.Context, logPath string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startProcess(ctx, self, nil, childEnv(helloEnv+"=1"), logPath, false)
}
