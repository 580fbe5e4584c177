package resilience_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// outcome is what a caller got from one API call.
type outcome struct {
	status int
	body   []byte
	err    error
	took   time.Duration // from the call to its response headers or error
	fault  bool          // a 200 whose body reports a failure (Acoustic's XML API)
}

// ok reports whether the call succeeded: no error, and a 200 that is no fault.
func (o outcome) ok() bool { return o.err == nil && o.status == http.StatusOK && !o.fault }

func (o outcome) String() string {
	if o.err != nil {
		return "error: " + o.err.Error()
	}
	return fmt.Sprintf("HTTP %d %.200s", o.status, o.body)
}

// send makes one call through client and reads the whole answer.
func send(ctx context.Context, client *http.Client, method, url, contentType string, body io.Reader) outcome {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return outcome{err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	began := time.Now()
	resp, err := client.Do(req)
	took := time.Since(began)
	if err != nil {
		return outcome{err: err, took: took}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return outcome{status: resp.StatusCode, body: b, err: err, took: took}
}

// api is one kind of call a user makes through tokentrip.
type api struct {
	name string
	call func(ctx context.Context, h *harness) outcome
}

// concurrently runs call n times at once and returns the outcomes in order.
func concurrently(n int, call func() outcome) []outcome {
	out := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i] = call() })
	}
	wg.Wait()
	return out
}

// failures returns the outcomes that are not a 200.
func failures(outs []outcome) []outcome {
	var failed []outcome
	for _, o := range outs {
		if !o.ok() {
			failed = append(failed, o)
		}
	}
	return failed
}

// mustSucceed fails the test unless every outcome is a 200.
func mustSucceed(t *testing.T, what string, outs ...outcome) {
	t.Helper()
	if failed := failures(outs); len(failed) > 0 {
		t.Fatalf("%s: %d of %d calls failed, the first with %v", what, len(failed), len(outs), failed[0])
	}
}

// percentile returns the q-th quantile (0 < q <= 1) of ds by the nearest-rank
// method: the smallest value that at least q of the values do not exceed.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}
