package proxy

import (
	"log/slog"
	"net/http"
	"time"
)

// accessAttrs are the attributes of a request's access log line: method, path,
// status, duration, bytes, the route taken and, when something went wrong, why.
// They never include headers, bodies or query strings, any of which may carry a
// secret; the path is logged without its query. A client picks the method and the
// path, up to the header cap (64 KiB): both are clipped, so that one request
// cannot write a log line of that size.
func accessAttrs(rec *recorder, r *http.Request, status int, d time.Duration) []slog.Attr {
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs,
		slog.String("method", clip(r.Method)),
		slog.String("path", clipPath(r.URL.Path)),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.Int64("bytes", rec.bytes),
	)
	if rec.route != routeNone {
		attrs = append(attrs, slog.String("route", rec.route))
	}
	if rec.credential != "" {
		attrs = append(attrs, slog.String("credential", rec.credential))
	}
	if rec.reason != "" {
		attrs = append(attrs, slog.String("refused", rec.reason))
	}
	if rec.err != nil {
		// The library's errors carry no token or secret; a refusal's message quotes
		// at most a clipped Host, Origin or method the client sent.
		attrs = append(attrs, slog.String("error", rec.err.Error()))
	}
	return attrs
}

// maxLoggedPath is the most bytes of a path the access log keeps.
const maxLoggedPath = 2 << 10

// clipPath bounds a path before it is logged.
func clipPath(p string) string {
	if len(p) > maxLoggedPath {
		return p[:maxLoggedPath] + "…"
	}
	return p
}
