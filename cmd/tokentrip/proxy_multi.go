package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/tokentrip/tokentrip/internal/proxy"
	credpool "github.com/tokentrip/tokentrip/pool"
	"github.com/tokentrip/tokentrip/transport"
)

// envConfig is the variable that stands in for --config.
const envConfig = "TOKENTRIP_CONFIG"

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
// holds the credentials; the flags say where to listen, the guards, caps and
// timeouts of the proxy, and what to log.
func proxyConfigCLI(env *environ, s *settings, f *proxyFlags, path *string) *cli {
	c := newCLI("proxy", "Serve several credentials from one proxy, each under its own path prefix, as the config file (TOML) says:\n"+
		"/PREFIX/rest/..., /PREFIX/soap and /PREFIX/XMLAPI go to that credential's endpoints with that credential's token.\n"+
		"Each credential is built on its first request; secrets come from the variables and files the file names.\n"+
		"GET /-/healthz, /-/readyz (every credential built so far) and /-/metrics (Prometheus) report on the proxy itself.", env)
	c.str(path, "config", envConfig, "FILE", "", "the config file naming each credential and its prefix", forAll)
	c.str(&s.listen, "listen", "TOKENTRIP_LISTEN", "ADDR", defaultListen,
		"the address to serve on; port 0 picks a free one", forAll)
	c.boolean(&s.allowRemote, "allow-remote", "allow a --listen address that is not loopback: anyone who reaches it uses the credentials")
	c.proxyLimitFlags(f)
	c.logFlags(s, "info")
	return c
}

// refuseCredentialFlags turns away the flags of the single-credential proxy,
// which a config file replaces.
func refuseCredentialFlags(env *environ, args []string) error {
	var single, multi settings
	var f proxyFlags
	var path string
	own := map[string]bool{}
	for _, o := range proxyConfigCLI(env, &multi, &f, &path).opts {
		own[o.name] = true
	}
	var theirs []string
	for _, o := range proxyCLI(env, &single, &f).opts {
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
// file names under its prefix until SIGINT or SIGTERM, through the same handler
// and server as the one-credential proxy. Nothing is sent before the first
// request: a credential's Source, breaker and token come with its first use.
func runProxyConfig(ctx context.Context, env *environ, args []string) int {
	var s settings
	var f proxyFlags
	var path string
	c := proxyConfigCLI(env, &s, &f, &path)
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
	opts, logger, err := s.proxySetup(env, &f)
	if err != nil {
		return failure(env, "proxy", err)
	}
	creds, err := loadConfig(env, path)
	if err != nil {
		return failure(env, "proxy", err)
	}
	upstream := proxy.NewUpstreamTransport(opts.MaxInFlight)
	defer upstream.CloseIdleConnections()
	cp := newConfigProxy(creds, logger, opts.Metrics, upstream)
	defer cp.pool.CloseIdleConnections()

	b, ok := listenProxy(ctx, s.listen, logger)
	if !ok {
		return exitFailure
	}
	defer b.close()
	line := listening{fmt.Sprintf("%d credentials", len(creds)), []any{"credentials", len(creds)}}
	return serveProxy(b, env, &s, opts, line, func() {
		logger.Info("credentials are built on their first request", "credentials", len(creds), "config", path)
		for _, c := range creds {
			logger.Debug("credential", "credential", c.name, "prefix", c.prefix+"/", "provider", c.provider)
		}
	}, cp.backends...)
}

// configProxy holds the credentials of a --config proxy, each a proxy.Backend
// under its prefix whose Router and Transport a pool.Pool builds on first use.
type configProxy struct {
	pool     credpool.Pool
	backends []*proxy.Backend // one per credential, in the file's order
	creds    []*pooled        // the same order

	// What every credential's build shares.
	logger      *slog.Logger
	metrics     *proxy.Metrics
	upstream    http.RoundTripper // every credential's API calls
	tokenClient *http.Client      // every credential's token requests
}

// pooled is one credential of a configProxy: its settings until first use, then
// its Router.
type pooled struct {
	credential
	router atomic.Pointer[proxy.Router] // nil until built
}

// newConfigProxy puts creds, checked by loadConfig, in a pool. It builds nothing,
// sends nothing and starts no goroutine.
func newConfigProxy(creds []credential, logger *slog.Logger, metrics *proxy.Metrics, upstream http.RoundTripper) *configProxy {
	cp := &configProxy{
		backends:    make([]*proxy.Backend, 0, len(creds)),
		creds:       make([]*pooled, 0, len(creds)),
		logger:      logger,
		metrics:     metrics,
		upstream:    upstream,
		tokenClient: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}
	for _, c := range creds {
		p := &pooled{credential: c}
		// loadConfig refused duplicate names, so Add cannot fail.
		_ = cp.pool.Add(c.name, cp.builder(p))
		cp.creds = append(cp.creds, p)
		cp.backends = append(cp.backends, &proxy.Backend{Name: c.name, Prefix: c.prefix, Build: cp.buildOf(p)})
	}
	return cp
}

// buildOf is the proxy.Backend's Build of p: the pool builds p's Transport, and
// with it its Router, once, however many first requests arrive together.
func (cp *configProxy) buildOf(p *pooled) func() (*proxy.Router, *transport.Transport, error) {
	return func() (*proxy.Router, *transport.Transport, error) {
		tr, err := cp.pool.Transport(p.name)
		if err != nil {
			return nil, nil, err
		}
		return p.router.Load(), tr, nil // stored by the build, before the pool published tr
	}
}

// builder is the pool.Builder of p: its Transport over the shared upstream pool
// and token client, its Source's events and Acoustic's limiter waits counted
// under its name, and its Router.
func (cp *configProxy) builder(p *pooled) credpool.Builder {
	return func() (*transport.Transport, error) {
		logger := cp.logger.With("credential", p.name)
		s := p.settings
		s.proxyMachinery(cp.metrics, cp.upstream, p.name)
		s.tokenClient = cp.tokenClient
		tr, err := s.newTransport(logger, s.apiHosts())
		if err != nil {
			return nil, err
		}
		rt, err := newRouter(&s, tr.Source())
		if err != nil {
			return nil, err
		}
		p.router.Store(rt)
		logger.Info("credential built on its first request", "prefix", p.prefix+"/", "provider", s.provider)
		// The Transport holds what it needs; the settings, with their secret, go.
		p.settings = settings{}
		return tr, nil
	}
}
