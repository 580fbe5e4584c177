package proxy

import (
	"net/http"
	"time"
)

// recorder is the ResponseWriter the access log and the metrics watch: the status
// and size of the answer, and what the proxy noted about the request. It also
// bounds how long writing the answer may take.
type recorder struct {
	http.ResponseWriter
	code         int
	bytes        int64
	route        string // RouteREST…, routeNone or routeInternal
	credential   string // the Backend's name, when the proxy serves several
	reason       string // why the request was refused, if it was
	err          error
	writeTimeout time.Duration
}

// deadliner is the part of net/http's ResponseWriter that bounds writes.
type deadliner interface{ SetWriteDeadline(time.Time) error }

// WriteHeader records the first status written and starts the write timeout: from
// here the answer must be written within it, however long the upstream took.
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
		r.startWriteTimeout()
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write counts the bytes of the answer.
func (r *recorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
		r.startWriteTimeout()
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// startWriteTimeout sets the connection's write deadline writeTimeout from now.
func (r *recorder) startWriteTimeout() {
	if r.writeTimeout <= 0 {
		return
	}
	if d, ok := r.ResponseWriter.(deadliner); ok {
		_ = d.SetWriteDeadline(time.Now().Add(r.writeTimeout))
	}
}

// Unwrap lets http.ResponseController reach the connection's writer, so that
// streamed answers are flushed as they come.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// status is the answer's status: 200 when the handler wrote none.
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}
