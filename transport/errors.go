package transport

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The kinds of token-fetch failure. Match them with errors.Is; each calls for a
// different response from the caller.
var (
	// ErrCredentialsRejected: the provider refused the credentials (wrong, revoked,
	// or a spent refresh token). Retrying will not help; fix or rotate them.
	ErrCredentialsRejected = errors.New("credentials rejected")
	// ErrEndpoint: the token endpoint failed (network, 5xx, 429, a malformed answer)
	// and retries ran out. Try again later.
	ErrEndpoint = errors.New("token endpoint unavailable")
	// ErrConfig: the configuration cannot work (a bad field, a package of the wrong
	// kind for this protocol). Change the configuration.
	ErrConfig = errors.New("invalid configuration")
	// ErrTimeout: the token endpoint did not answer in time (an attempt's timeout or
	// the fetch's deadline). It comes wrapped in a FetchError of kind ErrEndpoint.
	ErrTimeout = errors.New("token endpoint timed out")
	// ErrCircuitOpen: recent fetches failed so often that the Source stopped asking
	// for now. The error is a *RetryError that says when it will try again.
	ErrCircuitOpen = errors.New("circuit open")
)

// FetchError describes a failed token fetch: its kind, what the provider said and
// what to do next. It never holds a secret or a token.
type FetchError struct {
	Kind       error  // ErrCredentialsRejected, ErrEndpoint or ErrConfig
	Provider   string // "mcv1", "mcv2", "acoustic", …
	StatusCode int    // the token endpoint's HTTP status, 0 if none
	Code       string // the provider's error code, e.g. "invalid_client" or "10007"
	Message    string // the provider's own message
	Hint       string // the next step for the user
	Err        error  // the underlying error, if any
}

// Error says what failed, what the provider said and what to do next.
func (e *FetchError) Error() string {
	var b strings.Builder
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("token fetch failed")
	}
	if e.StatusCode != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteString(")")
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" — ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *FetchError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// RetryError says "not now, retry at Retry": a blocking Token call found the
// Source spacing its fetches after a failure (its Backoff), or its circuit
// breaker open after repeated failures, so that an outage never becomes a fetch
// storm. errors.Is(err, ErrCircuitOpen) tells an open breaker from a backoff;
// both unwrap to the failure behind them.
type RetryError struct {
	// Retry is when the next fetch may start, read on the Source's clock. For an
	// open breaker it is the moment it opened plus its cooldown; the breaker
	// counts the cooldown on the wall clock, so with Settings.Clock the probe
	// goes out when the cooldown has passed in real time, whatever that clock
	// says.
	Retry time.Time
	Last  error // the failure being backed off from, or that opened the breaker
	open  bool  // the breaker is open
}

// Error says until when fetches are paused and why.
func (e *RetryError) Error() string {
	if e.open {
		msg := "circuit open: token fetches are paused until " + e.Retry.Format(time.RFC3339)
		if e.Last != nil {
			msg += " after: " + e.Last.Error()
		}
		return msg
	}
	return fmt.Sprintf("token fetch backing off until %s after: %v", e.Retry.Format(time.RFC3339Nano), e.Last)
}

// Unwrap returns the failure behind the wait, and ErrCircuitOpen when the breaker
// is open.
func (e *RetryError) Unwrap() []error {
	var errs []error
	if e.open {
		errs = append(errs, ErrCircuitOpen)
	}
	if e.Last != nil {
		errs = append(errs, e.Last)
	}
	return errs
}

// kindOf sorts an error into the kinds the breaker and retries care about.
func kindOf(err error) error {
	switch {
	case errors.Is(err, ErrCredentialsRejected):
		return ErrCredentialsRejected
	case errors.Is(err, ErrConfig):
		return ErrConfig
	default:
		return ErrEndpoint
	}
}

// ConfigError reports a configuration field that cannot work, before anything is
// sent. errors.Is(err, ErrConfig) matches it.
type ConfigError struct {
	Provider string // "mcv1", "mcv2", "acoustic", …
	Field    string // the field's name as the user wrote it, e.g. "Subdomain"
	Problem  string // what is wrong and how to fix it; never the field's secret value
}

// Error names the provider, the field and the problem.
func (e *ConfigError) Error() string {
	return e.Provider + ": invalid configuration: " + e.Field + ": " + e.Problem
}

// Unwrap lets errors.Is match ErrConfig.
func (e *ConfigError) Unwrap() error { return ErrConfig }
