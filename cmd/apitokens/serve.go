package main

// The serve command: flags, the store, the listener, the server, and a
// graceful stop.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"apitokens/store"
	"apitokens/web"
	"apitokens/web/paths"
)

// The garbage collector's settings for serving, unless the environment
// sets its own (GOGC, GOMEMLIMIT): the heap may grow to five times what is
// live, which takes a third of the collector's share of each request's
// CPU, under a soft limit that keeps the process well inside 64 MiB at
// 100,000 tokens (make bench).
const (
	serveGCPercent   = 400
	serveMemoryLimit = 32 << 20
)

// tuneGC applies the collector's settings for serving.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, db := newFlags("serve")
	addr := fs.String("addr", envOr("APITOKENS_ADDR", "127.0.0.1:8080"), "address to listen on")
	demo := fs.Bool("demo", envBool("APITOKENS_DEMO"), "seed a demo account on first run")
	proxies := proxiesFlag{text: os.Getenv("APITOKENS_TRUST_PROXY")}
	if proxies.prefixes, proxies.err = parseTrustedProxies(proxies.text); proxies.err != nil {
		return fmt.Errorf("APITOKENS_TRUST_PROXY: %w", proxies.err)
	}
	fs.Var(&proxies, "trust-proxy", "take client addresses from X-Forwarded-For sent by these proxies (CIDR,…; alone: loopback)")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this loopback address (off by default)")
	publicURL := fs.String("public-url", os.Getenv("APITOKENS_PUBLIC_URL"), "the address people reach the server at (default: http:// and the listen address)")
	if err := parse(fs, args); err != nil {
		if proxies.bare && fs.NArg() > 0 {
			// "--trust-proxy 10.0.0.0/8" reads as the flag alone and an
			// argument: say how to write it.
			if _, perr := parseTrustedProxies(fs.Arg(0)); perr == nil {
				return usageError("serve: name the proxies after an equals sign: --trust-proxy=" + fs.Arg(0))
			}
		}
		return err
	}
	if proxies.err != nil {
		return usageError("serve: --trust-proxy: " + proxies.err.Error())
	}
	tuneGC()
	public, err := parsePublicURL(*publicURL)
	if err != nil {
		return err
	}
	pprofLn, err := listenProfiles(*pprofAddr)
	if err != nil {
		return err
	}
	if pprofLn != nil {
		defer pprofLn.Close()
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	st, keys, err := openStore(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, w := range keys.warnings {
		logger.Warn(w)
	}
	if *demo {
		if err := seedDemo(ctx, st, logger); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if public == nil {
		public = listenURL(ln.Addr())
	}
	srv, err := web.New(st, web.Config{
		SessionAuthKey:       keys.sessionAuth,
		SessionEncryptionKey: keys.sessionEncryption,
		TrustedProxies:       proxies.prefixes,
		PublicURL:            public,
		Logger:               logger,
	})
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "apitokens is listening on http://%s%s\n", ln.Addr(), paths.Tokens)
	if *demo {
		fmt.Fprintf(stdout, "demo sign-in: %s / %s (administrator), %s / %s (member)\n",
			store.DemoAccount.AdminEmail, store.DemoAccount.Password,
			store.DemoAccount.MemberEmail, store.DemoAccount.Password)
	}
	if pprofLn != nil {
		fmt.Fprintf(stdout, "pprof is listening on http://%s/debug/pprof/\n", pprofLn.Addr())
		go http.Serve(pprofLn, profileHandler())
	}
	return serveUntilStopped(ctx, ln, srv, logger)
}

// parsePublicURL checks --public-url; nil when none is given.
func parsePublicURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := web.ParsePublicURL(raw)
	if err != nil {
		return nil, usageError("serve: --public-url: " + err.Error())
	}
	return u, nil
}

// listenURL is the public URL when none is configured: http:// and the
// address listened on, where an unspecified host (0.0.0.0, ::) is this
// machine.
func listenURL(addr net.Addr) *url.URL {
	host, port, err := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); err != nil || ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
}

// listenProfiles listens for the profiles on addr, which must be a loopback
// address: they show secrets in memory and cost CPU. No address, no
// listener.
func listenProfiles(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	if !isLoopback(addr) {
		return nil, usageError("serve: --pprof must be a loopback address such as 127.0.0.1:6060")
	}
	return net.Listen("tcp", addr)
}

// seedDemo adds the demo account, unless it is there already.
func seedDemo(ctx context.Context, st *store.Store, logger *slog.Logger) error {
	seeded, err := st.SeedDemo(ctx)
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	if seeded {
		logger.Info("seeded demo account", "account", store.DemoAccount.AccountName)
	}
	return nil
}

// serveUntilStopped serves srv on ln until SIGINT or SIGTERM, then lets the
// requests in flight finish, so no write is cut in half, and writes what
// the server holds.
func serveUntilStopped(ctx context.Context, ln net.Listener, srv *web.Server, logger *slog.Logger) error {
	httpServer := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := httpServer.Shutdown(shutdownCtx)
	// Then write the usage of API calls left pending.
	return errors.Join(err, srv.Close())
}
