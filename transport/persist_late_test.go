package transport_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// holdingAPI wraps a policyAPI's handler: a request with an X-Hold header reports
// the token it carries on arrived and waits for release before it is answered, so
// a test can make a rejection reach the Transport late, after other rounds.
type holdingAPI struct {
	arrived chan string
	release chan struct{}
}

func holdRequests(rig *persistRig) *holdingAPI {
	h := &holdingAPI{arrived: make(chan string), release: make(chan struct{})}
	serve := rig.api.Config.Handler
	rig.api.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Hold") != "" {
			tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			h.arrived <- tok
			<-h.release
		}
		serve.ServeHTTP(w, r)
	})
	return h
}

// TestLateRejectionOfSupersededToken: a rejection of a token that a later round
// has already replaced (a slow replay, a slow first send) says nothing new. It must
// not make the persisting rejection forget the newer token it is spacing rounds
// for — which would cost a token request on the next call — nor count toward the
// breaker, which would open although other calls are accepted.
func TestLateRejectionOfSupersededToken(t *testing.T) {
	tests := []struct {
		name string
		// The held call's first send carries the first token; with holdReplay it
		// is refused after one round, and its replay, carrying the second token,
		// is held instead. Either is refused after the next round.
		holdReplay bool
	}{
		{name: "late first send", holdReplay: false},
		{name: "late replay", holdReplay: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newPersistRig(t, func(r *http.Request) bool { return r.URL.Path == "/forbidden" })
			hold := holdRequests(rig)
			rig.mustCall(t, "/allowed") // tok-1

			// A slow call to the refused path: its first send carries tok-1.
			done := make(chan int)
			go func() {
				req, _ := http.NewRequest(http.MethodPost, rig.api.URL+"/forbidden", strings.NewReader(`{}`))
				req.Header.Set("X-Hold", "1")
				resp, err := rig.client.Do(req)
				if err != nil {
					t.Error(err)
					done <- 0
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done <- resp.StatusCode
			}()
			if tok := <-hold.arrived; tok != "tok-1" {
				t.Fatalf("the held call carried %s", tok)
			}
			// A round: tok-2 is refused there too, and the rejection persists.
			if status, _ := rig.mustCall(t, "/forbidden"); status != http.StatusUnauthorized {
				t.Fatalf("status %d", status)
			}
			if tt.holdReplay {
				hold.release <- struct{}{} // the held call's first send is refused; its replay carries tok-2
				if tok := <-hold.arrived; tok != "tok-2" {
					t.Fatalf("the held call's replay carried %s", tok)
				}
			}
			// After the backoff, one more round: tok-3 is refused there too.
			rig.clock.Advance(time.Minute)
			rig.mustCall(t, "/forbidden")
			if n := rig.tokens.requests.Load(); n != 3 {
				t.Fatalf("%d token requests before the late rejection, want 3", n)
			}
			// The held request is refused now, with a token two rounds old; its
			// replay, if it makes one, is let through.
			hold.release <- struct{}{}
			go func() {
				for range hold.arrived {
					hold.release <- struct{}{}
				}
			}()
			defer close(hold.arrived)
			if status := <-done; status != http.StatusUnauthorized {
				t.Fatalf("the held call got %d", status)
			}

			// The refused path is still spaced: no token request.
			for range 5 {
				if status, _ := rig.mustCall(t, "/forbidden"); status != http.StatusUnauthorized {
					t.Fatalf("status %d", status)
				}
			}
			if n := rig.tokens.requests.Load(); n != 3 {
				t.Errorf("%d token requests after the late rejection, want still 3", n)
			}
			if state := rig.tr.Source().Stats().Breaker; state != "closed" {
				t.Errorf("breaker %s, want closed", state)
			}
			if status, _, err := rig.call(t, "/allowed"); err != nil || status != http.StatusOK {
				t.Errorf("a call elsewhere: %d, %v", status, err)
			}
		})
	}
}
