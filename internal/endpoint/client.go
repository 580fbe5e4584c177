// Package endpoint is the HTTP client tokentrip's providers send token requests
// with: retries with backoff and jitter on network errors, 5xx and 429, bounded
// reads, and answers that cannot be used turned into a *transport.FetchError.
package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/transport"
)

// MaxTokenResponse bounds how much of a token endpoint's answer is read.
const MaxTokenResponse = 1 << 20

// Client posts to token endpoints. Providers share it: it retries transient
// failures, bounds what it reads and turns what cannot be retried into a transport.FetchError
// of kind transport.ErrEndpoint. Its logging carries no secret: it never logs bodies.
type Client struct {
	provider string
	client   *retryablehttp.Client
	log      retryLog
}

// NewClient returns a client for provider's token endpoint that sends with hc
// (nil: a client over a clone of http.DefaultTransport) and logs to logger (nil:
// silent) each retry at Debug and giving up at Warn.
func NewClient(provider string, hc *http.Client, policy provider.Retry, logger *slog.Logger) *Client {
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	attempt := *hc
	attempt.Timeout = policy.AttemptTimeout
	if attempt.Timeout <= 0 {
		attempt.Timeout = 15 * time.Second
	}
	attempt.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rc := &retryablehttp.Client{
		HTTPClient:   &attempt,
		RetryWaitMin: orDefault(policy.WaitMin, 200*time.Millisecond),
		RetryWaitMax: orDefault(policy.WaitMax, 5*time.Second),
		RetryMax:     policy.MaxRetries,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	switch {
	case rc.RetryMax == 0:
		rc.RetryMax = 4
	case rc.RetryMax < 0:
		rc.RetryMax = 0
	}
	rc.CheckRetry = KeepFinalAnswers
	if policy.CheckRetry != nil {
		rc.CheckRetry = policy.CheckRetry
	}
	rc.Backoff = JitterBackoff(orDefault(policy.MaxRetryAfter, 30*time.Second))
	if policy.Backoff != nil {
		rc.Backoff = policy.Backoff
	}
	c := &Client{provider: provider, client: rc, log: retryLog{logger: logger, provider: provider}}
	if logger != nil {
		c.log.attach(rc)
	}
	return c
}

// KeepFinalAnswers is the default CheckRetry: go-retryablehttp's DefaultRetryPolicy,
// except that an answer that is final (not 5xx, not 429) is kept even when the
// context ends as it arrives. A token endpoint may already have spent a single-use
// refresh token for it, so throwing it away would lose the new one.
func KeepFinalAnswers(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if err == nil && resp != nil && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
		return false, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// CloseIdleConnections closes the idle connections of the client's HTTP transport.
func (c *Client) CloseIdleConnections() { c.client.HTTPClient.CloseIdleConnections() }

// Response is a token endpoint's final answer: a 2xx or a 4xx that the
// provider interprets.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Post sends body to url and returns the endpoint's answer. Answers that are final
// for the provider to read (2xx, and 4xx other than 429) come back without an error.
// Everything else, after the retries, is a *transport.FetchError of kind transport.ErrEndpoint; when the
// last attempt got a 5xx or 429, its answer comes back too, for the provider to
// read the vendor's own error from.
func (c *Client) Post(ctx context.Context, url, contentType string, body []byte) (*Response, error) {
	req, err := retryablehttp.NewRequestWithContext(c.log.track(ctx), http.MethodPost, url, body)
	if err != nil {
		return nil, &transport.FetchError{Kind: transport.ErrConfig, Provider: c.provider, Message: "bad token endpoint URL", Err: err}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		if isTimeout(err) {
			err = fmt.Errorf("%w: %w", transport.ErrTimeout, err)
		}
		return nil, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: c.provider, Message: "token request failed", Hint: "check the network and the auth URL; tokentrip retries with backoff", Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxTokenResponse+1))
	if err != nil {
		return nil, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: c.provider, StatusCode: resp.StatusCode, Message: "reading the token response", Hint: "the token endpoint broke off its answer; check the network and the auth URL", Err: err}
	}
	if len(data) > MaxTokenResponse {
		return nil, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: c.provider, StatusCode: resp.StatusCode, Message: fmt.Sprintf("token response larger than %d bytes", MaxTokenResponse), Hint: "no token answer is this large: check that the auth URL points at the token endpoint"}
	}
	answer := &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: data}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		// The body stays out of the error, where an echoed secret could leak; the
		// provider may read it from the answer returned alongside.
		return answer, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: c.provider, StatusCode: resp.StatusCode, Message: http.StatusText(resp.StatusCode), Hint: "the token endpoint is failing or throttling; retries ran out"}
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, &transport.FetchError{Kind: transport.ErrConfig, Provider: c.provider, StatusCode: resp.StatusCode, Message: "the token endpoint redirected", Hint: "set the auth URL to the endpoint itself; credentials are not sent to redirect targets"}
	}
	return answer, nil
}

// JitterBackoff is the default retry Backoff: Retry-After when the endpoint sends one
// (capped at maxRetryAfter), otherwise exponential from min to max with full jitter,
// so that many clients retrying at once spread out.
func JitterBackoff(maxRetryAfter time.Duration) func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	return func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil {
			if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
				return min(d, maxRetryAfter)
			}
		}
		ceiling := minWait << min(attempt, 30)
		if ceiling <= 0 || ceiling > maxWait {
			ceiling = maxWait
		}
		if ceiling <= minWait {
			return minWait
		}
		return minWait + rand.N(ceiling-minWait)
	}
}

func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// isTimeout reports whether err says time ran out.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout())
}
