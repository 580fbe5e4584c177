package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"os/signal"
	"syscall"
	"time"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/transport"
)

// Proxy timings.
const (
	defaultListen   = "127.0.0.1:8787"
	prefetchTimeout = 30 * time.Second // the first token, fetched before listening
	shutdownTimeout = 15 * time.Second // requests in flight get this long to finish
	readHeaderLimit = 30 * time.Second // a client must send its headers within this
)

// statusClientGone is the access log's status for a request whose client hung up
// before the answer came (the customary 499).
const statusClientGone = 499

// routeKey is the context key under which the proxy hands a request's route to the
// ReverseProxy's Rewrite.
type routeKey struct{}

// runProxy is "tokentrip proxy": serve an authenticating reverse proxy until
// SIGINT or SIGTERM.
func runProxy(ctx context.Context, env *environ, args []string) int {
	if configRequested(env, args) {
		return runProxyConfig(ctx, env, args) // several credentials: proxy_multi.go
	}
	var s settings
	c := proxyCLI(env, &s)
	if err := c.parse(args, &s); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(env.stdout, synopses["proxy"])
			return exitOK
		}
		return failure(env, "proxy", err)
	}
	if err := checkListen(s.listen, s.allowRemote); err != nil {
		return failure(env, "proxy", err)
	}
	logger, err := s.newLogger(env.stderr)
	if err != nil {
		return failure(env, "proxy", err)
	}
	tr, err := s.newTransport(logger, s.apiHosts())
	if err != nil {
		return failure(env, "proxy", asUsage(err))
	}
	defer tr.CloseIdleConnections()
	rt, err := newRouter(&s, tr.Source())
	if err != nil {
		return failure(env, "proxy", err)
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// One token before listening: rejected credentials stop the proxy here, with the
	// provider's own explanation, instead of failing every request later.
	pctx, cancel := context.WithTimeout(ctx, prefetchTimeout)
	_, err = tr.Source().Token(pctx)
	cancel()
	switch {
	case ctx.Err() != nil:
		logger.Info("stopped before listening")
		return exitOK
	case errors.Is(err, transport.ErrCredentialsRejected) || errors.Is(err, transport.ErrConfig):
		return failure(env, "proxy", err)
	case err != nil:
		logger.Warn("no token yet; serving anyway, requests will try again", "error", err.Error())
	}

	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return failure(env, "proxy", err)
	}
	srv := &http.Server{
		Handler:           accessLog(logger, proxyHandler(rt, tr, logger)),
		ReadHeaderTimeout: readHeaderLimit,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// This line says where the proxy listens, in a fixed form: scripts and tests
	// that start it on port 0 read the address from it.
	fmt.Fprintf(env.stderr, "tokentrip proxy listening on http://%s (%s)\n", ln.Addr(), s.provider)
	rt.logRoutes(logger)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return failure(env, "proxy", err)
	case <-ctx.Done():
	}
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

// proxyCLI is the flag set of "tokentrip proxy", filling s.
func proxyCLI(env *environ, s *settings) *cli {
	c := newCLI("proxy", "Serve an authenticating reverse proxy: local clients send plain requests, the proxy adds the credential.\n"+
		"Marketing Cloud: /rest/... goes to the tenant's REST instance (less /rest), /soap and /Service.asmx to its SOAP endpoint.\n"+
		"Acoustic: /XMLAPI and /rest/... go to the org's pod.", env)
	c.credentialFlags(s)
	c.str(&s.listen, "listen", "TOKENTRIP_LISTEN", "ADDR", defaultListen,
		"the address to serve on; port 0 picks a free one", forAll)
	c.boolean(&s.allowRemote, "allow-remote", "allow a --listen address that is not loopback: anyone who reaches it uses the credential")
	c.str(&s.restURL, "rest-url", "TOKENTRIP_REST_URL", "URL", "",
		"send /rest/... here instead of the tenant's REST instance (a sandbox or an emulator)", forMC)
	c.str(&s.soapURL, "soap-url", "TOKENTRIP_SOAP_URL", "URL", "",
		"send SOAP here instead of the tenant's SOAP endpoint (a URL without a path gets /Service.asmx)", forMC)
	c.logFlags(s, "info")
	c.str(new(string), "config", envConfig, "FILE", "",
		"serve several credentials, each under its own path prefix, from a config file instead of these flags (see --config FILE -h)", forAll)
	return c
}

// checkListen refuses an address that is not loopback unless remote clients were
// explicitly allowed: whoever reaches the proxy acts with its credential.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--listen %q: want host:port, such as %s", addr, defaultListen)
	}
	if !transport.IsLoopback(host) && !allowRemote {
		shown := host
		if shown == "" {
			shown = "every interface"
		}
		return usagef("--listen %s: %s is not a loopback address, and anyone who reaches the proxy uses its credential; add --allow-remote if that is what you want", addr, shown)
	}
	return nil
}

// proxyHandler resolves each request's route and forwards it through the library's
// Transport, which adds the credential.
func proxyHandler(rt *router, tr *transport.Transport, logger *slog.Logger) http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			r := pr.In.Context().Value(routeKey{}).(route)
			u := *r.target
			u.RawQuery = pr.In.URL.RawQuery
			pr.Out.URL = &u
			pr.Out.Host = ""
			// The proxy supplies the credential: whatever the local client sent is
			// dropped rather than forwarded.
			pr.Out.Header.Del("Authorization")
			pr.Out.Header.Del("Proxy-Authorization")
			// Without the client's Accept-Encoding, the base transport negotiates
			// compression itself and decompresses the answer, so that the verdict
			// can read a SOAP fault or an XML API error out of it; the hop to the
			// local client is loopback, where size does not matter.
			pr.Out.Header.Del("Accept-Encoding")
		},
		Transport:    tr,
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		ErrorHandler: proxyError,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r, err := rt.resolve(req.Context(), req.URL)
		if err != nil {
			noteError(w, err)
			http.Error(w, "tokentrip proxy: "+err.Error(), statusOf(err))
			return
		}
		noteRoute(w, r.name)
		rp.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), routeKey{}, r)))
	})
}

// proxyError answers a request the Transport could not complete.
func proxyError(w http.ResponseWriter, req *http.Request, err error) {
	if req.Context().Err() != nil {
		// The local client went away; there is no one to answer.
		noteError(w, req.Context().Err())
		w.WriteHeader(statusClientGone)
		return
	}
	noteError(w, err)
	http.Error(w, "tokentrip proxy: "+err.Error(), upstreamStatus(err))
}

// upstreamStatus is the status for a request that failed on the way out: 400 for
// an envelope the credential cannot be injected into, 503 while token fetches are
// paused, 502 otherwise.
func upstreamStatus(err error) int {
	var envErr *envelope.Error
	var backoff *transport.BackoffError
	switch {
	case errors.As(err, &envErr):
		return http.StatusBadRequest
	case errors.Is(err, transport.ErrCircuitOpen), errors.As(err, &backoff):
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadGateway
	}
}

// logRoutes logs where each route goes, once the token (and with it, for mcv2,
// the instance URLs) is known.
func (r *router) logRoutes(logger *slog.Logger) {
	if r.provider == providerAcoustic {
		logger.Info("route", "from", "/XMLAPI", "to", r.api.JoinPath("XMLAPI").String())
		logger.Info("route", "from", "/rest/...", "to", r.api.JoinPath("rest").String()+"/...")
		return
	}
	tok, _ := r.src.Current() // never waits: without a token, the token-bound routes stay unnamed
	if base, err := r.restBase(tok); err == nil {
		logger.Info("route", "from", "/rest/...", "to", base.String()+"...")
	}
	if ep, err := r.soapEndpoint(tok); err == nil {
		logger.Info("route", "from", "/soap, /Service.asmx", "to", ep.String())
	}
}
