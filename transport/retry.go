package transport

import (
	"context"
	"net/http"
	"time"
)

// RetryPolicy says how a provider retries a token request; every provider's Config
// takes one as its Retry field. Network errors, 5xx and 429 are retried with
// exponential backoff and jitter, Retry-After honoured up to MaxRetryAfter; a 4xx
// that rejects the credentials is never retried. The zero value takes every default.
type RetryPolicy struct {
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
