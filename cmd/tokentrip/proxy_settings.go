package main

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokentrip/tokentrip/internal/httpx"
	"github.com/tokentrip/tokentrip/internal/proxy"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/transport"
)

// proxyFlags are the proxy's flags for its guards, caps and timeouts: the
// server's, shared by every credential it serves, so they are kept apart from
// the settings of a credential (of which a --config proxy holds thousands).
type proxyFlags struct {
	allowedHosts      string // comma-separated
	maxInFlight       string
	maxBuffered       string
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
}

// proxySettings are what the proxy hands the providers when it builds a
// credential's Transport. The proxy fills them, newTransport reads them; they are
// nil in "tokentrip token".
type proxySettings struct {
	apiBase          http.RoundTripper     // the pooled upstream transport
	tokenClient      *http.Client          // token requests, shared by a --config proxy's credentials
	hook             func(transport.Event) // the Source's events, for the metrics
	acousticLimiter  acoustic.Limiter      // Acoustic's in-flight cap, counting waits
	transportOptions transport.Options     // laid over the provider's Transport options
}

// proxyLimitFlags registers the flags of the proxy's guards, caps and timeouts,
// which a --config proxy shares with the one-credential proxy.
func (c *cli) proxyLimitFlags(s *proxyFlags) {
	c.str(&s.allowedHosts, "allowed-host", "TOKENTRIP_ALLOWED_HOSTS", "HOSTS", "",
		"further Host names clients may reach the proxy by, comma-separated: name (any port) or name:port (default: the --listen address, and localhost for a loopback one)", forAll)
	c.str(&s.maxInFlight, "max-in-flight", "TOKENTRIP_MAX_IN_FLIGHT", "N", strconv.Itoa(proxy.DefaultMaxInFlight),
		"requests forwarded at once; more are answered 503", forAll)
	c.str(&s.maxBuffered, "max-buffered", "TOKENTRIP_MAX_BUFFERED", "SIZE", "64MiB",
		"request-body bytes held in memory at once, for replays (KiB, MiB, GiB or bytes); a body that does not fit is answered 503", forAll)
	c.duration(&s.readHeaderTimeout, "read-header-timeout", "TOKENTRIP_READ_HEADER_TIMEOUT", "DURATION", proxy.DefaultReadHeaderTimeout,
		"a client must send its request line and header within this")
	c.duration(&s.readTimeout, "read-timeout", "TOKENTRIP_READ_TIMEOUT", "DURATION", proxy.DefaultReadTimeout,
		"a client must send its whole request, body included, within this")
	c.duration(&s.writeTimeout, "write-timeout", "TOKENTRIP_WRITE_TIMEOUT", "DURATION", proxy.DefaultWriteTimeout,
		"an answer must be written to the client within this of its first byte")
	c.duration(&s.idleTimeout, "idle-timeout", "TOKENTRIP_IDLE_TIMEOUT", "DURATION", proxy.DefaultIdleTimeout,
		"a kept-alive client connection is closed after this long without a request")
}

// restPathsFlag registers --rest-paths, a setting of one credential's routes (a
// --config file's rest_paths).
func (c *cli) restPathsFlag(s *settings) {
	c.str(&s.restPaths, "rest-paths", "TOKENTRIP_REST_PATHS", "MODE", restPathsPrefixed,
		"prefixed: /rest/... goes to REST less /rest; all: so does every other path but SOAP's, unchanged (for clients such as fuel-rest that drop the /rest prefix)", forMC)
}

// proxyLimits checks the proxy's caps and timeouts and returns them as the
// handler takes them; a bad value is a usage error.
func (s *proxyFlags) proxyLimits() (proxy.Options, error) {
	var o proxy.Options
	n, err := strconv.Atoi(strings.TrimSpace(s.maxInFlight))
	if err != nil || n < 1 {
		return o, usagef("--max-in-flight %q: want a whole number of requests, 1 or more", s.maxInFlight)
	}
	o.MaxInFlight = n
	size, err := parseSize(s.maxBuffered)
	if err != nil || size < proxy.DefaultReplayLimit {
		return o, usagef("--max-buffered %q: want a size of at least 1MiB, such as 64MiB", s.maxBuffered)
	}
	o.MaxBuffered = size
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--read-header-timeout", s.readHeaderTimeout}, {"--read-timeout", s.readTimeout}, {"--write-timeout", s.writeTimeout}, {"--idle-timeout", s.idleTimeout}} {
		if d.v <= 0 {
			return o, usagef("%s must be positive", d.name)
		}
	}
	o.Timeouts = proxy.Timeouts{ReadHeader: s.readHeaderTimeout, Read: s.readTimeout, Write: s.writeTimeout, Idle: s.idleTimeout}
	for h := range strings.SplitSeq(s.allowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			o.AllowedHosts = append(o.AllowedHosts, h)
		}
	}
	if err := proxy.CheckAllowedHosts(o.AllowedHosts); err != nil {
		return o, usagef("--allowed-host: %v", err)
	}
	return o, nil
}

// parseSize reads a byte count: a whole number, optionally followed by KiB, MiB or
// GiB (K, M and G too).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, strconv.ErrSyntax
	}
	return n * mult, nil
}

// checkListen refuses an address that is not host:port with a port from 0 to
// 65535, and one that is not loopback unless remote clients were explicitly
// allowed: whoever reaches the proxy acts with its credential. It looks nothing up:
// a mistake is a usage error before any network call.
func checkListen(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--listen %q: want host:port, such as %s", addr, defaultListen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
		return usagef("--listen %q: the port must be a number from 0 to 65535 (0 picks a free one)", addr)
	}
	if host != "" && net.ParseIP(host) == nil && !proxy.ValidHostName(host) {
		return usagef("--listen %q: %q is neither an IP address nor a host name", addr, host)
	}
	if !httpx.IsLoopback(host) && !allowRemote {
		shown := host
		if shown == "" {
			shown = "every interface"
		}
		return usagef("--listen %s: %s is not a loopback address, and anyone who reaches the proxy uses its credential; add --allow-remote if that is what you want", addr, shown)
	}
	return nil
}
