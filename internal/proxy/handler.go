package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokentrip/tokentrip/transport"
)

// Backend is one credential the proxy serves: where its requests go and the
// Transport that puts the credential on them, given as they are or made on first
// use by Build.
type Backend struct {
	// Name names the credential in logs, readiness answers and metric labels: an
	// operator's name, never a client id.
	Name string
	// Prefix, when set ("/emea"), selects the Backend for paths under it, which its
	// Router sees without the prefix. The Backend without one takes every other path.
	Prefix string
	// Router maps paths to the credential's endpoints.
	Router *Router
	// Transport sends the requests. Build it with a negative
	// transport.Options.ReplayLimit: the
	// proxy itself keeps the bodies that a replay needs, within its buffer budget.
	Transport *transport.Transport
	// Build, set instead of Router and Transport, makes them on the Backend's first
	// request, so that a proxy of many credentials holds no Source, breaker, token
	// or goroutine for one nobody uses. Until then the Backend counts neither in
	// readiness nor in the per-credential metrics. Requests that arrive during the
	// first build call Build too, and a failed build is tried again by the next
	// request: Build must hand every caller the same Router and Transport (a
	// pool.Pool's Builder, which runs once, does that) and must send nothing.
	Build func() (*Router, *transport.Transport, error)
}

// Options are a proxy handler's settings. Zero fields take the defaults.
type Options struct {
	// Listen is the address the proxy listens on, as bound (the port chosen for
	// port 0): requests must name it, or one of AllowedHosts, in their Host.
	Listen string
	// AllowedHosts are further Host values to accept: "name" (any port) or
	// "name:port", for clients that reach the proxy by another name.
	AllowedHosts []string
	// MaxInFlight caps the requests forwarded at once; past it the proxy answers 503.
	MaxInFlight int
	// MaxBuffered caps the bytes of request bodies held in memory at once; a body
	// that does not fit is answered 503.
	MaxBuffered int64
	// ReplayLimit is the largest body kept so that a rejected request can be
	// replayed (default DefaultReplayLimit); larger ones are streamed.
	ReplayLimit int64
	// MaxDecompressed is the largest size a gzip or deflate body may decompress to.
	MaxDecompressed int64
	// Timeouts bound the client's exchange; NewServer applies them.
	Timeouts Timeouts
	// Logger receives the access log and the refusals (nil: no logging).
	Logger *slog.Logger
	// Metrics receives the requests' metrics and serves /-/metrics (nil: new ones).
	Metrics *Metrics
}

// Handler is the proxy: it serves /-/healthz, /-/readyz and /-/metrics, refuses
// what a browser, a rebinding page or an attacker could send, caps what is in
// flight and buffered, and forwards the rest through its Backends' Transports.
type Handler struct {
	backends        []*backendProxy          // in the order given
	byPrefix        map[string]*backendProxy // by escaped prefix
	depth           int                      // the most segments in a prefix
	fallback        *backendProxy            // the Backend without a prefix, if any
	rp              http.Handler             // forwards through the request's Transport
	hosts           hostRules
	gate            gate
	budget          budget
	replayLimit     int64
	maxDecompressed int64
	timeouts        Timeouts
	logger          *slog.Logger
	metrics         *Metrics
	internal        *http.ServeMux
}

// backendProxy is a Backend with its Router and Transport once they are known.
type backendProxy struct {
	*Backend
	live atomic.Pointer[liveBackend] // nil until built
}

// liveBackend is what a built Backend routes and sends with.
type liveBackend struct {
	router *Router
	tr     *transport.Transport
}

// built returns the Backend's Router and Transport if they are there, and builds
// nothing.
func (b *backendProxy) built() (*liveBackend, bool) {
	l := b.live.Load()
	return l, l != nil
}

// use returns the Backend's Router and Transport, building them on first use.
func (b *backendProxy) use() (*liveBackend, error) {
	if l := b.live.Load(); l != nil {
		return l, nil
	}
	r, tr, err := b.Build()
	switch {
	case err != nil:
		return nil, err
	case r == nil || tr == nil:
		return nil, fmt.Errorf("credential %q: its build made no Router or no Transport", b.Name)
	}
	l := &liveBackend{router: r, tr: tr}
	if !b.live.CompareAndSwap(nil, l) {
		l = b.live.Load() // built meanwhile; Build handed both callers the same
	}
	return l, nil
}

// New returns the proxy handler of backends.
func New(opts Options, backends ...*Backend) (*Handler, error) {
	if len(backends) == 0 {
		return nil, errors.New("proxy: no backend")
	}
	hosts, err := newHostRules(opts.Listen, opts.AllowedHosts)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		backends:        make([]*backendProxy, 0, len(backends)),
		hosts:           hosts,
		gate:            gate{max: int64(orDefault(opts.MaxInFlight, DefaultMaxInFlight))},
		budget:          budget{max: orDefault(opts.MaxBuffered, DefaultMaxBuffered)},
		replayLimit:     orDefault(opts.ReplayLimit, DefaultReplayLimit),
		maxDecompressed: orDefault(opts.MaxDecompressed, DefaultMaxDecompressed),
		timeouts:        opts.Timeouts.withDefaults(),
		logger:          opts.Logger,
		metrics:         opts.Metrics,
	}
	// A body kept for a replay must fit in the buffers on its own: a body of
	// unknown length is read into up to replayLimit+1 bytes before the proxy knows
	// whether to keep it or stream it, and a reservation larger than the whole
	// budget would be refused as "busy" forever.
	h.replayLimit = min(h.replayLimit, h.budget.max-1)
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.metrics == nil {
		h.metrics = NewMetrics()
	}
	for _, b := range backends {
		given := b.Router != nil && b.Transport != nil
		switch {
		case given == (b.Build != nil):
			return nil, fmt.Errorf("proxy: backend %q needs a Router and a Transport, or a Build that makes them", b.Name)
		case b.Prefix != "" && (!strings.HasPrefix(b.Prefix, "/") || strings.HasSuffix(b.Prefix, "/") || CheckPath(b.Prefix) != nil):
			return nil, fmt.Errorf("proxy: backend %q: prefix %q must start with / and not end with one", b.Name, b.Prefix)
		}
		bp := &backendProxy{Backend: b}
		if given {
			bp.live.Store(&liveBackend{router: b.Router, tr: b.Transport})
		}
		if b.Prefix == "" {
			if h.fallback != nil {
				return nil, errors.New("proxy: two backends without a prefix")
			}
			h.fallback = bp
		} else {
			if h.byPrefix == nil {
				h.byPrefix = make(map[string]*backendProxy, len(backends))
			}
			esc := (&url.URL{Path: b.Prefix}).EscapedPath()
			if _, ok := h.byPrefix[esc]; ok {
				return nil, fmt.Errorf("proxy: two backends with prefix %q", b.Prefix)
			}
			h.byPrefix[esc] = bp
			h.depth = max(h.depth, strings.Count(esc, "/"))
		}
		h.backends = append(h.backends, bp)
	}
	if err := h.metrics.attach(h); err != nil {
		return nil, err
	}
	h.rp = h.reverseProxy()
	h.internal = http.NewServeMux()
	h.internal.HandleFunc("GET /-/healthz", h.healthz)
	h.internal.HandleFunc("GET /-/readyz", h.readyz)
	h.internal.Handle("GET /-/metrics", h.metrics.Handler())
	return h, nil
}

// orDefault is v, or def when v is not positive.
func orDefault[T int | int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// stateKey is the context key under which ServeHTTP hands a request's route and
// body to the reverse proxy's Rewrite and ErrorHandler.
type stateKey struct{}

// state is what ServeHTTP learnt about a request that the reverse proxy needs.
type state struct {
	target *url.URL
	tr     *transport.Transport // the Backend's
	body   *body
	rec    *recorder
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, route: routeNone, writeTimeout: h.timeouts.Write}
	browserSafe(rec.Header())
	defer func() {
		// The reverse proxy aborts an answer it cannot finish (the client stopped
		// reading, the upstream broke off) with a panic that net/http expects; the
		// request is logged and counted all the same.
		p := recover()
		if p != nil && rec.err == nil {
			rec.err = fmt.Errorf("the answer was cut off: %v", p)
		}
		rec.startWriteTimeout() // the rest of the answer is flushed after ServeHTTP returns
		h.finish(rec, r, start)
		if p != nil {
			panic(p)
		}
	}()
	h.serve(rec, r)
}

// serve answers r.
func (h *Handler) serve(rec *recorder, r *http.Request) {
	// The proxy's own endpoints never reach an upstream; they answer probes and
	// scrapes under the Hosts the proxy serves and under IP addresses. Their paths
	// are checked like any other: "/-/../rest/x" is refused, not redirected.
	internal := strings.HasPrefix(r.URL.Path, "/-/")
	var ref *refusal
	if internal {
		rec.route = routeInternal
		ref = h.hosts.guardInternal(r)
	} else {
		ref = h.hosts.guard(r)
	}
	if ref == nil {
		if err := CheckPath(r.URL.EscapedPath()); err != nil {
			ref = &refusal{http.StatusBadRequest, refusedPath, err.Error()}
		}
	}
	if ref != nil {
		h.refuse(rec, ref)
		return
	}
	if internal {
		h.internal.ServeHTTP(rec, r)
		return
	}
	if !h.gate.enter() {
		rec.Header().Set("Retry-After", "1")
		rec.Header().Set("Connection", "close")
		h.refuse(rec, &refusal{http.StatusServiceUnavailable, refusedBusy, "too many requests in flight (--max-in-flight); try again shortly"})
		return
	}
	defer h.gate.leave()
	h.metrics.inFlight.Inc()
	defer h.metrics.inFlight.Dec()

	b, in := h.match(r.URL)
	if b == nil {
		rec.err = ErrNoRoute
		http.Error(rec, "tokentrip proxy: "+ErrNoRoute.Error(), http.StatusNotFound)
		return
	}
	if b.Prefix != "" || len(h.backends) > 1 {
		rec.credential = b.Name
	}
	live, err := b.use()
	if err != nil {
		// A build sends nothing, and the command checked every setting before
		// serving: this is not expected. The error names the credential, never a
		// secret.
		rec.err = err
		http.Error(rec, "tokentrip proxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	rt, err := live.router.Resolve(r.Context(), in)
	if err != nil {
		rec.err = err
		http.Error(rec, "tokentrip proxy: "+err.Error(), resolveStatus(err))
		return
	}
	rec.route = rt.Name
	bd, ref := h.prepareBody(r)
	if bd != nil {
		defer h.budget.give(bd.reserved)
	}
	if ref != nil {
		if ref.status == http.StatusServiceUnavailable {
			rec.Header().Set("Retry-After", "1")
		}
		h.refuse(rec, ref)
		return
	}
	st := &state{target: rt.Target, tr: live.tr, body: bd, rec: rec}
	h.rp.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
}

// match returns the Backend of u's path, and the URL its Router sees; nil when no
// Backend takes the path. A prefix matches whole segments of the path as the
// client escaped it (an escaped slash is no boundary), the longest first; the
// Backend without a prefix takes the rest.
func (h *Handler) match(u *url.URL) (*backendProxy, *url.URL) {
	if h.depth > 0 {
		esc := u.EscapedPath()
		var found *backendProxy
		var at int
		segs := 0
		for i := 1; i <= len(esc) && segs < h.depth; i++ {
			if i < len(esc) && esc[i] != '/' {
				continue
			}
			segs++
			if b, ok := h.byPrefix[esc[:i]]; ok {
				found, at = b, i
			}
		}
		if found != nil {
			return found, within(u, esc[at:])
		}
	}
	return h.fallback, u
}

// within is u with the escaped path rawRest, which a prefix leaves.
func within(u *url.URL, rawRest string) *url.URL {
	in := *u
	p, err := url.PathUnescape(rawRest)
	switch {
	case rawRest == "" || err != nil:
		in.Path, in.RawPath = "/", ""
	case p == rawRest:
		in.Path, in.RawPath = p, ""
	default:
		in.Path, in.RawPath = p, rawRest
	}
	return &in
}

// refuse answers a request turned away before it was forwarded, and counts it.
func (h *Handler) refuse(rec *recorder, ref *refusal) {
	rec.reason = ref.reason
	if ref.reason != "" {
		h.metrics.refused.WithLabelValues(ref.reason).Inc()
	}
	if ref.status == http.StatusMethodNotAllowed {
		rec.Header().Set("Allow", allowHeader)
	}
	rec.err = errors.New(ref.msg)
	http.Error(rec, "tokentrip proxy: "+ref.msg, ref.status)
}

// finish writes the request's access log line and counts it.
func (h *Handler) finish(rec *recorder, r *http.Request, start time.Time) {
	d := time.Since(start)
	status := rec.status()
	h.metrics.observeRequest(rec.route, status, d)
	level := slog.LevelInfo
	switch {
	case rec.err != nil || rec.reason != "":
		level = slog.LevelWarn
	case rec.route == routeInternal:
		level = slog.LevelDebug // probes and scrapes every few seconds
	}
	if !h.logger.Enabled(r.Context(), level) {
		return
	}
	h.logger.LogAttrs(r.Context(), level, "request", accessAttrs(rec, r, status, d)...)
}

// resolveStatus is the HTTP status the proxy answers a Resolve error with.
func resolveStatus(err error) int {
	switch {
	case errors.Is(err, ErrNoRoute):
		return http.StatusNotFound
	case errors.Is(err, ErrDotSegments), errors.Is(err, ErrBadPath):
		return http.StatusBadRequest
	default:
		return upstreamStatus(err)
	}
}
