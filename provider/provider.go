// Package provider holds the settings every tokentrip provider shares. Each
// provider's Config (mcv1, mcv2, acoustic) embeds a Common, so that the token
// client, the retries, the Source and the Transport are set in one place, the same
// way for every vendor:
//
//	cfg := mcv2.Config{Subdomain: sub, ClientID: id, ClientSecret: secret}
//	cfg.Source.Store = st // share the token across a fleet
//	cfg.Transport.Hosts = []string{"api.example.com"}
package provider

import (
	"context"
	"net/http"
	"time"

	"github.com/tokentrip/tokentrip/transport"
)

// Common holds the settings every provider's Config shares, each set in one place.
// The zero value takes every default.
type Common struct {
	// HTTPClient sends the token requests (nil: a client over a clone of
	// http.DefaultTransport). Redirects are never followed, and its Timeout is
	// replaced by Retry.AttemptTimeout.
	HTTPClient *http.Client

	// Retry says how a token request is retried after network errors, 5xx and 429.
	Retry Retry

	// Source configures the transport.Source behind the provider's Transport:
	// Clock (nil: time.Now), Logger (nil: no logging), Hook, Store, RefreshLead,
	// Breaker and the rest. The provider reads Clock and Logger too, for token
	// lifetimes and for its own log lines. Name and StoreKey default to the
	// provider's: "<provider>/<short hash of the credential>", never a client id,
	// and a hash of the credential that tells business units and users apart.
	Source transport.Settings

	// Transport configures the provider's transport.Transport: Base (nil:
	// transport.DefaultBase), ReplayLimit, Authorize, and Hosts, which join the
	// hosts the provider sends the credential to (in the forms Options.Hosts
	// takes; a URL must be https, except to a loopback host). Rejected and SOAP
	// default to the vendor's verdicts (Marketing Cloud's fueloauth SOAP header and
	// faults, Acoustic's XML API); setting one replaces the vendor's.
	Transport transport.Options
}

// Retry says how a provider retries a token request. Network errors, 5xx and 429
// are retried with exponential backoff and jitter, Retry-After honoured up to
// MaxRetryAfter; a 4xx that rejects the credentials is never retried. The zero
// value takes every default.
type Retry struct {
	MaxRetries     int           // retries after the first attempt (default 4; negative: none)
	WaitMin        time.Duration // first backoff (default 200ms)
	WaitMax        time.Duration // largest backoff (default 5s)
	MaxRetryAfter  time.Duration // largest Retry-After honoured (default 30s)
	AttemptTimeout time.Duration // bound on one attempt (default 15s)

	// CheckRetry, when set, decides after each attempt whether to retry: resp or err
	// is the attempt's outcome; a non-nil error ends the request with that error.
	// Nil: network errors, 5xx and 429 are retried, and any other answer is final,
	// even when ctx ends as it arrives, since the endpoint may already have spent a
	// single-use refresh token for it.
	CheckRetry func(ctx context.Context, resp *http.Response, err error) (bool, error)

	// Backoff, when set, says how long to wait before retry number attempt (0 for
	// the first retry), given WaitMin, WaitMax and the failed attempt's answer (nil
	// after a network error). Nil: Retry-After when the endpoint sends one (capped at
	// MaxRetryAfter), otherwise exponential from WaitMin to WaitMax with full jitter.
	Backoff func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration
}
