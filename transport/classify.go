package transport

import (
	"io"
	"net/http"
)

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
