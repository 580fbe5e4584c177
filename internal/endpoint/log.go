package endpoint

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Log lines of the token-endpoint client. Like the Source's events they read
// "tokentrip: <what>", with everything else in attributes, and they never carry a
// request body, a header, a client id or a secret.
const (
	logRetrying = "tokentrip: retrying" // Debug: an attempt failed and the next one starts
	logGaveUp   = "tokentrip: gave_up"  // Warn: the last attempt failed, or a failure was final
)

// retryLog puts go-retryablehttp's retries into tokentrip's log instead of its own
// leveled logger, which reports every failed attempt at Error: a retry that may
// well succeed is Debug, and only giving up is worth a Warn.
type retryLog struct {
	logger   *slog.Logger
	provider string
}

// attemptsKey holds a Post's *attempts in the request's context.
type attemptsKey struct{}

// attempts is what one Post remembers of its last attempt, for the next retry's
// line. The attempts of one Post run one after another, on one goroutine.
type attempts struct {
	status int
	err    error
	ended  time.Time
}

// attach hooks the log into rc, around the CheckRetry and ErrorHandler it has.
func (rl retryLog) attach(rc *retryablehttp.Client) {
	check, handler := rc.CheckRetry, rc.ErrorHandler
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if a, ok := ctx.Value(attemptsKey{}).(*attempts); ok {
			a.status, a.err, a.ended = 0, err, time.Now()
			if resp != nil {
				a.status = resp.StatusCode
			}
		}
		return check(ctx, resp, err)
	}
	rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, retry int) {
		if retry == 0 {
			return
		}
		attrs := []slog.Attr{slog.String("provider", rl.provider), slog.Int("attempt", retry+1)}
		if a, ok := req.Context().Value(attemptsKey{}).(*attempts); ok {
			attrs = append(attrs, outcomeAttrs(a.status, a.err)...)
			attrs = append(attrs, slog.Duration("waited", time.Since(a.ended)))
		}
		rl.logger.LogAttrs(req.Context(), slog.LevelDebug, logRetrying, attrs...)
	}
	rc.ErrorHandler = func(resp *http.Response, err error, tries int) (*http.Response, error) {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		attrs := append([]slog.Attr{slog.String("provider", rl.provider), slog.Int("attempts", tries)}, outcomeAttrs(status, err)...)
		rl.logger.LogAttrs(context.Background(), slog.LevelWarn, logGaveUp, attrs...)
		return handler(resp, err, tries)
	}
}

// track gives ctx a record of the attempts of one Post, when there is a log.
func (rl retryLog) track(ctx context.Context) context.Context {
	if rl.logger == nil {
		return ctx
	}
	return context.WithValue(ctx, attemptsKey{}, &attempts{})
}

// outcomeAttrs says how an attempt ended: the HTTP status, or the error that
// stopped it before an answer came. A Go HTTP error names the method and URL,
// never a body or a header.
func outcomeAttrs(status int, err error) []slog.Attr {
	if err != nil {
		return []slog.Attr{slog.String("error", err.Error())}
	}
	return []slog.Attr{slog.Int("status", status)}
}
