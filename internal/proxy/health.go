package proxy

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// readyWait bounds how long /-/readyz waits for a token it has to fetch: less than
// the usual probe timeout, so that a probe is answered rather than cut off. The
// fetch goes on after the answer, for the next probe.
const readyWait = 900 * time.Millisecond

// maxReadyProblems is how many credentials a 503 from /-/readyz names; the rest
// are counted.
const maxReadyProblems = 20

// healthz answers 200 while the process serves at all.
func (h *Handler) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintln(w, "ok")
}

// readyz answers 200 when every credential that has been built has a usable token
// and a closed breaker, and 503 saying which has not otherwise. A credential that
// is made on its first request (Backend.Build) counts once it is built: before,
// it holds nothing that could fail, and a probe must not build thousands of
// credentials nobody uses. readyz asks each built Source for its token, which
// costs nothing while the token is fresh, starts the refresh of one past its
// refresh point, and fetches one that is missing — so that a proxy no client has
// used for a while becomes ready again by itself.
func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyWait)
	defer cancel()
	var problems []string
	notReady := 0
	for _, b := range h.backends {
		live, ok := b.built()
		if !ok {
			continue
		}
		src := live.tr.Source()
		if src == nil {
			continue // a static credential is always ready
		}
		problem := ""
		if _, err := src.Token(ctx); err != nil {
			problem = b.Name + ": no usable token: " + err.Error()
		} else if st := src.Stats().Breaker; st != "closed" {
			problem = b.Name + ": the token breaker is " + st
		}
		if problem == "" {
			continue
		}
		if notReady++; len(problems) < maxReadyProblems {
			problems = append(problems, problem)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if notReady > 0 {
		if more := notReady - len(problems); more > 0 {
			problems = append(problems, fmt.Sprintf("… and %d more", more))
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintln(w, "not ready\n"+strings.Join(problems, "\n"))
		return
	}
	_, _ = fmt.Fprintln(w, "ready")
}
