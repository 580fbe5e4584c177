package envelope

import (
	"errors"
	"fmt"
)

// The kinds of [*Error]. Test for them with [errors.Is].
var (
	// ErrMalformed: the input is not well-formed XML, or it ends early.
	ErrMalformed = errors.New("envelope: malformed XML")
	// ErrNotEnvelope: the XML is not a SOAP envelope (wrong root, no Body,
	// a second Header).
	ErrNotEnvelope = errors.New("envelope: not a SOAP envelope")
	// ErrDoctype: the document has a DOCTYPE, which is refused because its
	// entities could expand without bound and SOAP forbids it anyway.
	ErrDoctype = errors.New("envelope: DOCTYPE not allowed")
	// ErrEncoding: the document is not UTF-8 (a UTF-16 byte order, a
	// declared encoding other than UTF-8, or bytes that are not UTF-8 in
	// what the injector reads).
	ErrEncoding = errors.New("envelope: not UTF-8")
	// ErrTooLarge: what had to be read before the answer was known is longer
	// than the limit (1 MiB up to the Body's start tag for injection, the
	// caller's for faults).
	ErrTooLarge = errors.New("envelope: too large")
)

// ErrNoFault is returned by [ParseFault] when the envelope's Body holds
// something other than a Fault: the response is not an error.
var ErrNoFault = errors.New("envelope: the SOAP Body holds no Fault")

// Error is a refused envelope: what kind of problem it is, where it shows,
// and what to do about it. It never holds any part of a credential.
type Error struct {
	// Kind is ErrMalformed, ErrNotEnvelope, ErrDoctype, ErrEncoding or
	// ErrTooLarge; errors.Is(err, Kind) is true.
	Kind error
	// Offset is the byte offset in the input at which the problem was found.
	Offset int64
	// Msg says what is wrong and what to do about it.
	Msg string
}

// Error returns the kind, the offset and the message on one line.
func (e *Error) Error() string {
	return fmt.Sprintf("%v at byte %d: %s", e.Kind, e.Offset, e.Msg)
}

// Unwrap returns e.Kind, so that errors.Is matches the kind.
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, off int, format string, args ...any) *Error {
	return &Error{Kind: kind, Offset: int64(off), Msg: fmt.Sprintf(format, args...)}
}
