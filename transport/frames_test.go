package transport_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// ownFrame reports whether a stack frame's function is tokentrip's own library
// code (not a test's, not the standard library's or a dependency's).
func ownFrame(fn string) bool {
	return strings.HasPrefix(fn, "github.com/tokentrip/tokentrip/") && !strings.Contains(fn, "_test.") &&
		!strings.Contains(fn, "/internal/providerfunc.")
}

// maxOwnFrames bounds the frames of tokentrip's own code on each path from
// Transport.RoundTrip to Provider.Fetch (docs/ARCHITECTURE.md draws them).
const maxOwnFrames = 6

// TestFetchPathFrames counts the frames of tokentrip's own code from
// Transport.RoundTrip to Provider.Fetch on a cold start, with and without a
// Store: those of the request path, the caller's goroutine, which waits in the
// shared fetch, and those of the fetch path, the goroutine that runs the fetch
// (the singleflight package's frames count). Each path is short enough to read in
// a stack trace; the bound keeps it so. CHANGELOG.md quotes the figures.
func TestFetchPathFrames(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store transport.Store
	}{
		{"without a Store", nil},
		{"with a Store", &store.MemoryTokens{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var fetchSide []string
			var callerSide []string
			p := providerfunc.Func(func(context.Context) (transport.Token, error) {
				pc := make([]uintptr, 64)
				frames := runtime.CallersFrames(pc[:runtime.Callers(1, pc)])
				for {
					f, more := frames.Next()
					if ownFrame(f.Function) {
						fetchSide = append(fetchSide, f.Function)
					}
					if !more {
						break
					}
				}
				buf := make([]byte, 1<<20)
				for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
					if !strings.Contains(g, "(*Transport).RoundTrip") {
						continue
					}
					for line := range strings.SplitSeq(g, "\n") {
						if i := strings.LastIndex(line, "("); i > 0 && ownFrame(line) {
							callerSide = append(callerSide, line[:i]) // less the arguments
						}
					}
				}
				return transport.Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}, nil
			})
			set := transport.Settings{}
			if tt.store != nil {
				set.Store, set.StoreKey = tt.store, "k"
			}
			tr := transport.New(transport.NewSource(p, set), transport.Options{Hosts: []string{"api.example.com"}, Base: okBase{}})
			req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/", nil)
			if _, err := tr.RoundTrip(req); err != nil {
				t.Fatal(err)
			}
			t.Logf("FIGURE %s: %d frames of tokentrip's own code from RoundTrip to Provider.Fetch: %d on the caller's goroutine, %d on the fetch's\n  caller: %s\n  fetch:  %s",
				tt.name, len(callerSide)+len(fetchSide), len(callerSide), len(fetchSide), strings.Join(callerSide, " → "), strings.Join(fetchSide, " ← "))
			if len(callerSide) == 0 || len(fetchSide) == 0 {
				t.Fatalf("found %d frames on the caller's goroutine and %d on the fetch's: the stacks were not read", len(callerSide), len(fetchSide))
			}
			if len(callerSide) > maxOwnFrames || len(fetchSide) > maxOwnFrames {
				t.Errorf("%d frames on the caller's goroutine and %d on the fetch's, want at most %d on each", len(callerSide), len(fetchSide), maxOwnFrames)
			}
		})
	}
}

// okBase answers every request 200 without a network.
type okBase struct{}

func (okBase) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}}, nil
}
