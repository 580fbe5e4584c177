package transport

import (
	"io"
	"net/http"
)

// Classifier decides whether a response means the credential was rejected, in which
// case the Transport drops the token, fetches a new one and replays the request once.
// A Classifier that reads the body must leave it whole for the caller: read a bounded
// prefix and put it back in front of the rest, as SOAPAuthFault does.
type Classifier func(resp *http.Response) bool

// Unauthorized is the default Classifier: HTTP 401.
func Unauthorized(resp *http.Response) bool { return resp.StatusCode == http.StatusUnauthorized }

// AnyOf returns a Classifier that reports a rejection when any of cs does.
func AnyOf(cs ...Classifier) Classifier {
	return func(resp *http.Response) bool {
		for _, c := range cs {
			if c(resp) {
				return true
			}
		}
		return false
	}
}

// peekedBody reads a peeked prefix, then the rest, and closes the original body.
type peekedBody struct {
	io.Reader
	io.Closer
}

// drainLimit bounds how much of a discarded response is read so that its connection
// can be reused.
const drainLimit = 64 << 10

func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	_ = resp.Body.Close()
}
