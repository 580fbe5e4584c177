package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/tokentrip/tokentrip/internal/httpx"
)

// errBodyRead means the request body failed while the Transport buffered it for a
// possible replay; the request was not sent.
var errBodyRead = errors.New("reading the request body")

// replayableBody makes sure the request's body can be produced again after a
// rejection. It returns the body for the first send; its length, -1 when it is
// unknown (the request then goes out chunked); and a function that produces the
// body for the replay, nil when the body cannot be replayed (larger than limit and
// no GetBody).
//
// The length follows net/http's rule for client requests: a ContentLength of 0
// with a Body other than nil and http.NoBody means "unknown", not "empty". A body
// the Transport buffers whole has a known length from then on.
func replayableBody(req *http.Request, limit int64) (io.ReadCloser, int64, func() (io.ReadCloser, error), error) {
	switch {
	case req.Body == nil:
		// The caller's ContentLength goes on as it is: net/http refuses a non-zero
		// one without a body, and so must the Transport's copy.
		return nil, req.ContentLength, noBody, nil
	case req.Body == http.NoBody:
		return http.NoBody, 0, emptyBody, nil
	}
	n := req.ContentLength
	if n == 0 {
		n = -1
	}
	if req.GetBody != nil {
		return req.Body, n, req.GetBody, nil
	}
	if n > limit {
		return req.Body, n, nil, nil
	}
	buf, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		_ = req.Body.Close()
		return nil, 0, nil, fmt.Errorf("%w: %w", errBodyRead, err)
	}
	if int64(len(buf)) > limit {
		// Too large to keep: send what was read followed by the rest, once.
		return &httpx.ReadCloser{Reader: io.MultiReader(bytes.NewReader(buf), req.Body), Closer: req.Body}, n, nil, nil
	}
	_ = req.Body.Close()
	if n < 0 {
		n = int64(len(buf))
	}
	if n == 0 {
		return http.NoBody, 0, emptyBody, nil
	}
	// A known length that disagrees with the bytes goes on as the caller gave it,
	// for net/http to refuse as it would without the Transport.
	again := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	first, _ := again()
	return first, n, again, nil
}

// noBody and emptyBody replay requests without a body; being package-level, they
// cost nothing on the hot path.
func noBody() (io.ReadCloser, error)    { return nil, nil }
func emptyBody() (io.ReadCloser, error) { return http.NoBody, nil }
