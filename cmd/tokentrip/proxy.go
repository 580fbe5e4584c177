package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/tokentrip/tokentrip/internal/proxy"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/transport"
)

// Proxy timings.
const (
	defaultListen   = "127.0.0.1:8787"
	prefetchTimeout = 30 * time.Second // the first token, fetched before serving
	shutdownTimeout = 15 * time.Second // requests in flight get this long to finish
)

// runProxy is "tokentrip proxy": serve an authenticating reverse proxy until
// SIGINT or SIGTERM, for the credential its flags describe or, with --config, for
// every credential of a config file (proxy_multi.go). Both serve through
// serveProxy: one handler, one server, the same guards, caps and endpoints.
func runProxy(ctx context.Context, env *environ, args []string) int {
	if configRequested(env, args) {
		return runProxyConfig(ctx, env, args)
	}
	var s settings
	var f proxyFlags
	c := proxyCLI(env, &s, &f)
	if code, ok := c.parseArgs(args, &s); !ok {
		return code
	}
	// Every setting is checked before anything is looked up, bound or fetched.
	opts, logger, err := s.proxySetup(env, &f)
	if err != nil {
		return failure(env, "proxy", err)
	}

	// The credential's Transport: pooled upstream connections, its Source's events
	// and Acoustic's limiter waits counted, and request bodies kept for replays by
	// the proxy within its budget rather than by the Transport.
	upstream := proxy.NewUpstreamTransport(opts.MaxInFlight)
	defer upstream.CloseIdleConnections()
	s.proxyMachinery(opts.Metrics, upstream, s.provider)
	tr, err := s.newTransport(logger, s.apiHosts())
	if err != nil {
		return failure(env, "proxy", asUsage(err))
	}
	defer tr.CloseIdleConnections()
	rt, err := newRouter(&s, tr.Source())
	if err != nil {
		return failure(env, "proxy", err)
	}

	// Bind first, so that an address in use fails at once; clients that connect
	// before the first token is in wait in the listen queue.
	b, ok := listenProxy(ctx, s.listen, logger)
	if !ok {
		return exitFailure
	}
	defer b.close()
	ctx = b.ctx

	// One token before serving: rejected credentials stop the proxy here, with the
	// provider's own explanation, instead of failing every request later.
	pctx, cancel := context.WithTimeout(ctx, prefetchTimeout)
	_, err = tr.Source().Token(pctx)
	cancel()
	switch {
	case ctx.Err() != nil:
		logger.Info("stopped before listening")
		return exitOK
	case errors.Is(err, transport.ErrCredentialsRejected) || errors.Is(err, transport.ErrConfig):
		logger.Error("no token: stopping before serving", "error", err.Error())
		return exitFailure
	case err != nil:
		logger.Warn("no token yet; serving anyway, requests will try again", "error", err.Error())
	}

	backend := &proxy.Backend{Name: s.provider, Router: rt, Transport: tr}
	line := listening{s.provider, []any{"provider", s.provider}}
	return serveProxy(b, env, &s, opts, line, func() { rt.LogRoutes(logger) }, backend)
}

// proxySetup checks the listen address, the caps, the timeouts and the log
// settings, and returns the handler's options with their logger and metrics. A
// mistake is a usage error, found before any network call.
func (s *settings) proxySetup(env *environ, f *proxyFlags) (proxy.Options, *slog.Logger, error) {
	if err := checkListen(s.listen, s.allowRemote); err != nil {
		return proxy.Options{}, nil, err
	}
	opts, err := f.proxyLimits()
	if err != nil {
		return opts, nil, err
	}
	logger, err := s.newLogger(env.stderr)
	if err != nil {
		return opts, nil, err
	}
	opts.Logger = logger
	opts.Metrics = proxy.NewMetrics()
	return opts, logger, nil
}

// proxyMachinery makes the Transport that s describes the proxy's: its API calls
// through upstream, its Source's events and Acoustic's limiter waits counted under
// name, and request bodies kept for replays by the proxy, within its buffer
// budget, rather than by the Transport.
func (s *settings) proxyMachinery(m *proxy.Metrics, upstream http.RoundTripper, name string) {
	s.apiBase = upstream
	s.hook = m.SourceHook(name)
	s.transportOptions = transport.Options{ReplayLimit: -1}
	if s.provider == providerAcoustic {
		s.acousticLimiter = m.AcousticLimiter(name, acoustic.DefaultMaxInFlight)
	}
}

// bound is a proxy's listener and the context it serves in, which SIGINT and
// SIGTERM end.
type bound struct {
	ln          net.Listener
	ctx         context.Context
	stopSignals func() // restores the signals' default action
}

// close closes the listener and restores the signals' default action.
func (b *bound) close() {
	b.stopSignals()
	b.ln.Close()
}

// listenProxy binds the proxy's address and catches SIGINT and SIGTERM from then
// on; a failure to bind is logged.
func listenProxy(ctx context.Context, addr string, logger *slog.Logger) (*bound, bool) {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		stop()
		logger.Error("cannot listen", "listen", addr, "error", err.Error())
		return nil, false
	}
	return &bound{ln: ln, ctx: ctx, stopSignals: stop}, true
}

// serveProxy serves backends on b's listener until b's context ends, then
// finishes the requests in flight: the one handler and server of every proxy,
// whatever its credentials. line is what the listening line says after the
// address; announced runs after that line.
func serveProxy(b *bound, env *environ, s *settings, opts proxy.Options, line listening, announced func(), backends ...*proxy.Backend) int {
	ctx, ln := b.ctx, b.ln
	logger := opts.Logger
	opts.Listen = ln.Addr().String()
	h, err := newProxyHandler(opts, backends...)
	if err != nil {
		logger.Error("cannot build the proxy", "error", err.Error())
		return exitFailure
	}
	srv := proxy.NewServer(h, slog.NewLogLogger(logger.Handler(), slog.LevelWarn))
	srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	announceListening(env, s, "proxy", "http://"+opts.Listen, line.what, line.attrs...)
	if announced != nil {
		announced()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		logger.Error("serving failed", "error", err.Error())
		return exitFailure
	case <-ctx.Done():
	}
	b.stopSignals() // the default action again: a second SIGINT or SIGTERM ends the process at once
	logger.Info("shutting down: finishing requests in flight", "grace", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown cut requests short", "error", err.Error())
		return exitFailure
	}
	logger.Info("stopped")
	return exitOK
}

// listening is what a listening line says after the address: a word or two in
// parentheses, and the same as attributes.
type listening struct {
	what  string
	attrs []any
}

// announceListening logs where a command serves, whatever --log-level says, in the
// chosen log format. Its message keeps a fixed form — "tokentrip CMD listening on
// URL (WHAT)" — which scripts and tests that start the command on port 0 read the
// address from; the url attribute holds the address alone, attrs say the rest.
func announceListening(env *environ, s *settings, cmd, url, what string, attrs ...any) {
	announce := *s
	announce.logLevel = "info"
	announcer, err := announce.newLogger(env.stderr)
	if err != nil {
		// The command checked its log settings before; text is the fallback.
		announcer = slog.New(slog.NewTextHandler(env.stderr, nil))
	}
	announcer.Info(fmt.Sprintf("tokentrip %s listening on %s (%s)", cmd, url, what), append([]any{"url", url}, attrs...)...)
}

// newProxyHandler builds the proxy's whole handler — guards, caps, health, metrics
// and access log — over the credentials it serves, each a Router and the Transport
// that signs its requests. The one-credential proxy passes one Backend; a --config
// proxy passes one per credential, each under its own path Prefix and built on
// its first request.
func newProxyHandler(opts proxy.Options, backends ...*proxy.Backend) (*proxy.Handler, error) {
	return proxy.New(opts, backends...)
}

// proxyCLI is the flag set of "tokentrip proxy", filling s and f.
func proxyCLI(env *environ, s *settings, f *proxyFlags) *cli {
	c := newCLI("proxy", "Serve an authenticating reverse proxy: local clients send plain requests, the proxy adds the credential.\n"+
		"Marketing Cloud: /rest/... goes to the tenant's REST instance (less /rest), /soap and /Service.asmx to its SOAP endpoint.\n"+
		"Acoustic: /XMLAPI and /rest/... go to the org's pod.\n"+
		"GET /-/healthz, /-/readyz and /-/metrics (Prometheus) report on the proxy itself.", env)
	c.credentialFlags(s)
	c.str(&s.listen, "listen", "TOKENTRIP_LISTEN", "ADDR", defaultListen,
		"the address to serve on; port 0 picks a free one", forAll)
	c.boolean(&s.allowRemote, "allow-remote", "allow a --listen address that is not loopback: anyone who reaches it uses the credential")
	c.str(&s.restURL, "rest-url", "TOKENTRIP_REST_URL", "URL", "",
		"send /rest/... here instead of the tenant's REST instance (a sandbox or an emulator)", forMC)
	c.str(&s.soapURL, "soap-url", "TOKENTRIP_SOAP_URL", "URL", "",
		"send SOAP here instead of the tenant's SOAP endpoint (a URL without a path gets /Service.asmx)", forMC)
	c.proxyLimitFlags(f)
	c.restPathsFlag(s)
	c.logFlags(s, "info")
	c.str(new(string), "config", envConfig, "FILE", "",
		"serve several credentials, each under its own path prefix, from a config file instead of these flags (see --config FILE -h)", forAll)
	return c
}
