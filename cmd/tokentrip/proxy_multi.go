package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	credpool "github.com/tokentrip/tokentrip/pool"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/transport"
)

// envConfig is the variable that stands in for --config.
const envConfig = "TOKENTRIP_CONFIG"

// upstreamIdlePerHost is how many idle connections the credentials of a
// --config proxy keep to each API host between them: at least the concurrency a
// busy local client reaches, so that calls reuse connections instead of paying a
// new TLS handshake each.
const upstreamIdlePerHost = 256

// errNoCredential is resolve's error for a path under no credential's prefix.
var errNoCredential = errors.New("no credential's prefix matches this path")

// configRequested reports whether the proxy is to serve a config file's
// credentials: --config is among args, or TOKENTRIP_CONFIG is set.
func configRequested(env *environ, args []string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "config" {
			return true
		}
	}
	return strings.TrimSpace(env.getenv(envConfig)) != ""
}

// proxyConfigCLI is the flag set of "tokentrip proxy --config FILE": the file
// holds the credentials; the flags say where to listen and what to log.
func proxyConfigCLI(env *environ, s *settings, path *string) *cli {
	c := newCLI("proxy", "Serve several credentials from one proxy, each under its own path prefix, as the config file (TOML) says:\n"+
		"/PREFIX/rest/..., /PREFIX/soap and /PREFIX/XMLAPI go to that credential's endpoints with that credential's token.\n"+
		"Each credential is built on its first request; secrets come from the variables and files the file names.", env)
	c.str(path, "config", envConfig, "FILE", "", "the config file naming each credential and its prefix", forAll)
	c.str(&s.listen, "listen", "TOKENTRIP_LISTEN", "ADDR", defaultListen,
		"the address to serve on; port 0 picks a free one", forAll)
	c.boolean(&s.allowRemote, "allow-remote", "allow a --listen address that is not loopback: anyone who reaches it uses the credentials")
	c.logFlags(s, "info")
	return c
}

// refuseCredentialFlags turns away the flags of the single-credential proxy,
// which a config file replaces.
func refuseCredentialFlags(env *environ, args []string) error {
	var single, multi settings
	var path string
	own := map[string]bool{}
	for _, o := range proxyConfigCLI(env, &multi, &path).opts {
		own[o.name] = true
	}
	var theirs []string
	for _, o := range proxyCLI(env, &single).opts {
		if !own[o.name] {
			theirs = append(theirs, o.name)
		}
	}
	for _, a := range args {
		if a == "--" {
			return nil
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && slices.Contains(theirs, name) {
			return usagef("--%s: with --config (or %s), each credential's settings are in the config file", name, envConfig)
		}
	}
	return nil
}

// runProxyConfig is "tokentrip proxy --config FILE": serve every credential the
// file names under its prefix until SIGINT or SIGTERM. Nothing is sent before the
// first request: a credential's Source, breaker and token come with its first use.
func runProxyConfig(ctx context.Context, env *environ, args []string) int {
	var s settings
	var path string
	c := proxyConfigCLI(env, &s, &path)
	if err := refuseCredentialFlags(env, args); err != nil {
		return failure(env, "proxy", err)
	}
	if _, err := c.parseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(env.stdout, "--config FILE [--listen 127.0.0.1:8787] [flags]")
			return exitOK
		}
		return failure(env, "proxy", err)
	}
	if path == "" {
		return failure(env, "proxy", usagef("--config (or %s) names no file", envConfig))
	}
	if err := checkListen(s.listen, s.allowRemote); err != nil {
		return failure(env, "proxy", err)
	}
	logger, err := s.newLogger(env.stderr)
	if err != nil {
		return failure(env, "proxy", err)
	}
	creds, err := loadConfig(env, path)
	if err != nil {
		return failure(env, "proxy", err)
	}
	mp := newMultiProxy(creds, logger)
	defer mp.pool.CloseIdleConnections()

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return failure(env, "proxy", err)
	}
	srv := &http.Server{
		Handler:           accessLog(logger, mp),
		ReadHeaderTimeout: readHeaderLimit,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// The same fixed form as the single-credential proxy's line.
	fmt.Fprintf(env.stderr, "tokentrip proxy listening on http://%s (%d credentials)\n", ln.Addr(), len(creds))
	logger.Info("credentials are built on their first request", "credentials", len(creds), "config", path)
	for _, c := range creds {
		logger.Debug("credential", "credential", c.name, "prefix", c.prefix+"/", "provider", c.provider)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return failure(env, "proxy", err)
	case <-ctx.Done():
	}
	stop() // the default action again: a second SIGINT or SIGTERM ends the process at once
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

// multiProxy is the handler of a --config proxy: it finds the credential whose
// prefix a request's path starts with and hands the request, less the prefix, to
// that credential's proxy handler, built on first use.
type multiProxy struct {
	pool        credpool.Pool
	byPrefix    map[string]*pooled // exact, escaped prefixes
	depth       int                // the most segments in a prefix
	logger      *slog.Logger
	base        http.RoundTripper // every credential's API calls
	tokenClient *http.Client      // every credential's token requests
}

// pooled is one credential of a multiProxy: its settings until first use, then
// its handler.
type pooled struct {
	credential
	handler atomic.Pointer[http.Handler] // nil until built
}

// newMultiProxy puts creds, checked by loadConfig, in a pool. It builds nothing.
func newMultiProxy(creds []credential, logger *slog.Logger) *multiProxy {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = upstreamIdlePerHost
	base.MaxIdleConns = 0 // no cap across hosts: each tenant's hosts keep theirs, until IdleConnTimeout
	m := &multiProxy{
		byPrefix:    make(map[string]*pooled, len(creds)),
		logger:      logger,
		base:        base,
		tokenClient: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}
	for _, c := range creds {
		p := &pooled{credential: c}
		// loadConfig refused duplicate names, so Add cannot fail.
		_ = m.pool.Add(c.name, m.builder(p))
		m.byPrefix[c.prefix] = p
		m.depth = max(m.depth, strings.Count(c.prefix, "/"))
	}
	return m
}

// builder is the pool.Builder of p: its Transport over the shared base and token
// client, and with it the handler that routes p's requests.
func (m *multiProxy) builder(p *pooled) credpool.Builder {
	return func() (*transport.Transport, error) {
		logger := m.logger.With("credential", p.name)
		tr, err := p.sharedTransport(logger, m.base, m.tokenClient)
		if err != nil {
			return nil, err
		}
		rt, err := newRouter(&p.settings, tr.Source())
		if err != nil {
			return nil, err
		}
		h := http.StripPrefix(p.prefix, proxyHandler(rt, tr, logger))
		p.handler.Store(&h)
		logger.Info("credential built on its first request", "prefix", p.prefix+"/", "provider", p.provider)
		return tr, nil
	}
}

// sharedTransport is the credential's Transport, with its API calls sent through
// base and its token requests through tokenClient, which every credential shares.
func (c *credential) sharedTransport(logger *slog.Logger, base http.RoundTripper, tokenClient *http.Client) (*transport.Transport, error) {
	switch c.provider {
	case providerMCv1:
		cfg := c.mcv1Config(logger, c.apiHosts())
		cfg.Base, cfg.HTTPClient = base, tokenClient
		return mcv1.NewTransport(cfg)
	case providerMCv2:
		cfg := c.mcv2Config(logger, c.apiHosts())
		cfg.Base, cfg.HTTPClient = base, tokenClient
		return mcv2.NewTransport(cfg)
	default:
		// Each credential gets a limiter of its own, on top of the shared base.
		cfg := c.acousticConfig(logger)
		cfg.Base, cfg.HTTPClient = base, tokenClient
		return acoustic.NewTransport(cfg)
	}
}

// ServeHTTP routes the request to its credential.
func (m *multiProxy) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	for seg := range strings.SplitSeq(req.URL.Path, "/") {
		if seg == "." || seg == ".." {
			noteError(w, errDotSegments)
			http.Error(w, "tokentrip proxy: "+errDotSegments.Error(), http.StatusBadRequest)
			return
		}
	}
	p := m.match(req.URL.EscapedPath())
	if p == nil {
		noteError(w, errNoCredential)
		http.Error(w, "tokentrip proxy: "+errNoCredential.Error(), http.StatusNotFound)
		return
	}
	h := p.handler.Load()
	if h == nil {
		if _, err := m.pool.Transport(p.name); err != nil {
			// loadConfig checked the settings, so this is not expected; the error
			// names the credential and carries no secret.
			noteError(w, err)
			http.Error(w, "tokentrip proxy: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h = p.handler.Load() // stored by the build, before the pool published it
	}
	(*h).ServeHTTP(w, req)
	if rec, ok := w.(*recorder); ok {
		// The access log names the credential with the route.
		rec.route = strings.TrimSuffix(p.name+" "+rec.route, " ")
	}
}

// match finds the credential whose prefix the escaped path starts with, at a
// segment boundary. Prefixes are never nested, so there is at most one.
func (m *multiProxy) match(esc string) *pooled {
	segs := 0
	for i := 1; i <= len(esc) && segs < m.depth; i++ {
		if i < len(esc) && esc[i] != '/' {
			continue
		}
		segs++
		if p, ok := m.byPrefix[esc[:i]]; ok {
			return p
		}
	}
	return nil
}
