package main

import (
	"log/slog"
	"net/http"
	"time"
)

// accessLog logs one line per request: method, path, status, duration, bytes and
// the route taken. It never logs headers, bodies or query strings, any of which
// may carry a secret; the path is logged without its query.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status()),
			slog.Duration("duration", time.Since(start)),
			slog.Int64("bytes", rec.bytes),
		}
		if rec.route != "" {
			attrs = append(attrs, slog.String("route", rec.route))
		}
		level := slog.LevelInfo
		if rec.err != nil {
			level = slog.LevelWarn
			// The library's errors carry no token or secret.
			attrs = append(attrs, slog.String("error", rec.err.Error()))
		}
		logger.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// recorder is the ResponseWriter the access log watches: the status and size of
// the answer, and what the proxy noted about the request.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
	route string
	err   error
}

// WriteHeader records the first status written.
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write counts the bytes of the answer.
func (r *recorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
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

// noteRoute records the route a request took, for its access log line.
func noteRoute(w http.ResponseWriter, route string) {
	if rec, ok := w.(*recorder); ok {
		rec.route = route
	}
}

// noteError records why a request failed, for its access log line.
func noteError(w http.ResponseWriter, err error) {
	if rec, ok := w.(*recorder); ok {
		rec.err = err
	}
}
