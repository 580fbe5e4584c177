package pool

import (
	"errors"
	"strconv"
)

// Errors a Pool wraps in an *Error.
var (
	// ErrUnknown is the error of Transport for a name the pool does not hold.
	ErrUnknown = errors.New("no credential of this name in the pool")
	// ErrDuplicate is the error of Add for a name the pool already holds.
	ErrDuplicate = errors.New("a credential of this name is already in the pool")
)

// Error is a Pool's error about one credential: an unknown or duplicate name, or
// the error its Builder returned (for a bad configuration, a
// *transport.ConfigError, which errors.As finds through Unwrap). It names the
// credential and never shows a secret: names are identifiers, not secrets, and the
// providers' errors carry none.
type Error struct {
	Name string // the credential's name, as given to Add
	Err  error  // what went wrong: ErrUnknown, ErrDuplicate or the Builder's error
}

// Error names the credential and says what went wrong.
func (e *Error) Error() string {
	return "pool: credential " + strconv.Quote(e.Name) + ": " + e.Err.Error()
}

// Unwrap returns Err, so that errors.Is and errors.As see through the Error.
func (e *Error) Unwrap() error { return e.Err }
