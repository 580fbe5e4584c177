package endpoint_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/transport"
)

// scriptedEndpoint answers token requests from a script of handlers, one per
// attempt; the last one repeats.
func scriptedEndpoint(t *testing.T, script ...http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		script[min(i, len(script)-1)](w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func status(code int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		w.Write([]byte(body))
	}
}

var fastRetries = provider.Retry{WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond}

func TestEndpointRetriesTransientFailures(t *testing.T) {
	srv, attempts := scriptedEndpoint(t,
		status(500, "oops"), status(503, "busy"), status(502, "bad gateway"), status(200, `{"ok":true}`))
	ec := endpoint.NewClient("test", srv.Client(), fastRetries, nil)
	resp, err := ec.Post(context.Background(), srv.URL, "application/json", []byte(`{}`))
	if err != nil || resp.StatusCode != 200 || string(resp.Body) != `{"ok":true}` {
		t.Fatalf("got %+v, %v", resp, err)
	}
	if n := attempts.Load(); n != 4 {
		t.Fatalf("attempts = %d, want 4", n)
	}
}

func TestEndpointHonoursRetryAfter(t *testing.T) {
	srv, attempts := scriptedEndpoint(t, status(429, `{"message":"Rate limit exceeded"}`, "Retry-After", "1"), status(200, `{}`))
	ec := endpoint.NewClient("test", srv.Client(), fastRetries, nil)
	start := time.Now()
	if _, err := ec.Post(context.Background(), srv.URL, "application/json", nil); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second || attempts.Load() != 2 {
		t.Fatalf("waited %v over %d attempts, want ≥1s and 2", waited, attempts.Load())
	}
}

func TestEndpointCapsRetryAfter(t *testing.T) {
	srv, _ := scriptedEndpoint(t, status(429, ``, "Retry-After", "3600"), status(200, `{}`))
	policy := fastRetries
	policy.MaxRetryAfter = time.Millisecond
	ec := endpoint.NewClient("test", srv.Client(), policy, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := ec.Post(ctx, srv.URL, "application/json", nil); err != nil {
		t.Fatalf("an hour-long Retry-After was not capped: %v", err)
	}
}

func TestEndpointNeverRetriesRejections(t *testing.T) {
	srv, attempts := scriptedEndpoint(t, status(401, `{"error":"invalid_client"}`))
	ec := endpoint.NewClient("test", srv.Client(), fastRetries, nil)
	resp, err := ec.Post(context.Background(), srv.URL, "application/json", nil)
	if err != nil || resp.StatusCode != 401 || attempts.Load() != 1 {
		t.Fatalf("got %+v, %v after %d attempts; want the 401 after one", resp, err, attempts.Load())
	}
}

func TestEndpointGivesUpWithTypedError(t *testing.T) {
	srv, attempts := scriptedEndpoint(t, status(503, `{"error":"echoed client_secret=hunter2"}`))
	policy := fastRetries
	policy.MaxRetries = 2
	ec := endpoint.NewClient("test", srv.Client(), policy, nil)
	resp, err := ec.Post(context.Background(), srv.URL, "application/json", nil)
	var fe *transport.FetchError
	if !errors.As(err, &fe) || !errors.Is(err, transport.ErrEndpoint) || fe.StatusCode != 503 || attempts.Load() != 3 {
		t.Fatalf("got %v after %d attempts; want ErrEndpoint 503 after 3", err, attempts.Load())
	}
	// The body stays out of the error but reaches the provider with it.
	if strings.Contains(fmt.Sprintf("%v %+v", err, err), "hunter2") || resp == nil || !strings.Contains(string(resp.Body), "hunter2") {
		t.Fatalf("error %v, answer %+v", err, resp)
	}
}

func TestEndpointTimeoutIsTyped(t *testing.T) {
	release := make(chan struct{})
	srv, _ := scriptedEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	policy := provider.Retry{MaxRetries: -1, AttemptTimeout: 20 * time.Millisecond}
	ec := endpoint.NewClient("test", srv.Client(), policy, nil)
	_, err := ec.Post(context.Background(), srv.URL, "application/json", nil)
	if !errors.Is(err, transport.ErrTimeout) || !errors.Is(err, transport.ErrEndpoint) {
		t.Fatalf("got %v, want ErrTimeout inside ErrEndpoint", err)
	}
}

func TestEndpointBoundsTheResponse(t *testing.T) {
	big := strings.Repeat("x", endpoint.MaxTokenResponse+1)
	srv, _ := scriptedEndpoint(t, status(200, big))
	ec := endpoint.NewClient("test", srv.Client(), fastRetries, nil)
	_, err := ec.Post(context.Background(), srv.URL, "application/json", nil)
	if !errors.Is(err, transport.ErrEndpoint) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("got %v", err)
	}
}

func TestEndpointDoesNotFollowRedirects(t *testing.T) {
	var foreign atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { foreign.Add(1) }))
	defer elsewhere.Close()
	srv, _ := scriptedEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	})
	ec := endpoint.NewClient("test", srv.Client(), fastRetries, nil)
	_, err := ec.Post(context.Background(), srv.URL, "application/json", []byte(`{"clientSecret":"s"}`))
	if !errors.Is(err, transport.ErrConfig) || foreign.Load() != 0 {
		t.Fatalf("got %v, foreign requests %d; want ErrConfig and none", err, foreign.Load())
	}
}

func TestFinalAnswerKeptWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, code := range []int{200, 400, 401} {
		retry, err := endpoint.KeepFinalAnswers(ctx, &http.Response{StatusCode: code}, nil)
		if retry || err != nil {
			t.Errorf("%d after the context ended: retry %v, err %v; want the answer kept", code, retry, err)
		}
	}
	if _, err := endpoint.KeepFinalAnswers(ctx, &http.Response{StatusCode: 503}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("503 after the context ended: %v, want context.Canceled", err)
	}
}
