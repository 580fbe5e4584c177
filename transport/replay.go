package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// DefaultReplayLimit is the largest body a Transport buffers so that it can replay a
// request whose body cannot be obtained again (one without GetBody).
const DefaultReplayLimit = 1 << 20

// ErrBodyRead means the request body failed while the Transport buffered it for a
// possible replay; the request was not sent.
var ErrBodyRead = errors.New("tokentrip: reading the request body")

// replayableBody makes sure the request's body can be produced again after a
// rejection. It returns the body for the first send and a function for the replay
// (nil when the body cannot be replayed: larger than limit and no GetBody).
func replayableBody(req *http.Request, limit int64) (io.ReadCloser, func() (io.ReadCloser, error), error) {
	if req.Body == nil {
		return nil, noBody, nil
	}
	if req.Body == http.NoBody {
		return http.NoBody, emptyBody, nil
	}
	if req.GetBody != nil {
		return req.Body, req.GetBody, nil
	}
	if req.ContentLength > limit {
		return req.Body, nil, nil
	}
	buf, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		_ = req.Body.Close()
		return nil, nil, fmt.Errorf("%w: %w", ErrBodyRead, err)
	}
	if int64(len(buf)) > limit {
		// Too large to keep: send what was read followed by the rest, once.
		return &peekedBody{Reader: io.MultiReader(bytes.NewReader(buf), req.Body), Closer: req.Body}, nil, nil
	}
	_ = req.Body.Close()
	again := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	first, _ := again()
	return first, again, nil
}

// noBody and emptyBody replay requests without a body; being package-level, they
// cost nothing on the hot path.
func noBody() (io.ReadCloser, error)    { return nil, nil }
func emptyBody() (io.ReadCloser, error) { return http.NoBody, nil }
