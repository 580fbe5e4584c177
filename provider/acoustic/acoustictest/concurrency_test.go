package acoustictest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
)

func TestTenInFlightAndTheEleventhIsRejected(t *testing.T) {
	srv := acoustictest.NewServer()
	defer srv.Close()
	tok := fetchToken(t, srv, defaultForm()).AccessToken
	srv.HoldAPICalls()

	// Ten calls, XML API and REST mixed, held in flight.
	const n = emulator.AcousticConcurrencyLimit
	var wg sync.WaitGroup
	replies := make([]emulatortest.Reply, n)
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				replies[i] = xmlCall(t, srv, tok, getLists)
			} else {
				replies[i] = send(t, srv, http.MethodGet, "/rest/databases", "", "", "Authorization", "Bearer "+tok)
			}
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.WaitAPICallsHeld(ctx, n); err != nil {
		t.Fatal(err)
	}

	// The eleventh of either kind is turned away at once, not queued.
	emulatortest.WantReply(t, xmlCall(t, srv, tok, getLists), http.StatusTooManyRequests,
		`<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/><FaultString>Too many concurrent requests for this organization</FaultString></Fault></Body></Envelope>`)
	emulatortest.WantReply(t, send(t, srv, http.MethodGet, "/rest/databases", "", "", "Authorization", "Bearer "+tok), http.StatusTooManyRequests,
		`{"error":"too_many_requests","error_description":"Too many concurrent requests for this organization."}`)

	srv.ReleaseAPICalls()
	wg.Wait()
	for i, r := range replies {
		if r.Status != 200 {
			t.Errorf("held call %d: %d %s", i, r.Status, r.Body)
		}
	}
	st := srv.Stats()
	if st.MaxConcurrent != n || st.ConcurrencyRejections != 2 || st.XMLAPICalls != n/2+1 || st.RESTCalls != n/2+1 {
		t.Errorf("stats = %+v", st)
	}

	// With the calls done, there is room again.
	if r := xmlCall(t, srv, tok, getLists); r.Status != 200 {
		t.Errorf("after release: %d %s", r.Status, r.Body)
	}
	srv.ResetStats()
	if st := srv.Stats(); st.MaxConcurrent != 0 || st.ConcurrencyRejections != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}

func TestConcurrencyLimitOption(t *testing.T) {
	tests := []struct {
		name         string
		limit, calls int
		want         int // rejections of one extra call
	}{
		{"limit 2", 2, 2, 1},
		{"no limit", 0, 15, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := acoustictest.NewServer(acoustictest.WithConcurrencyLimit(tt.limit))
			defer srv.Close()
			tok := fetchToken(t, srv, defaultForm()).AccessToken
			srv.HoldAPICalls()
			var wg sync.WaitGroup
			for range tt.calls {
				wg.Go(func() { xmlCall(t, srv, tok, getLists) })
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := srv.WaitAPICallsHeld(ctx, tt.calls); err != nil {
				t.Fatal(err)
			}
			extra := make(chan emulatortest.Reply, 1)
			go func() { extra <- xmlCall(t, srv, tok, getLists) }()
			if tt.want == 0 {
				if err := srv.WaitAPICallsHeld(ctx, tt.calls+1); err != nil {
					t.Fatal(err)
				}
			} else if r := <-extra; r.Status != http.StatusTooManyRequests {
				t.Errorf("extra call: %d %s", r.Status, r.Body)
			}
			srv.ReleaseAPICalls()
			wg.Wait()
			if tt.want == 0 {
				<-extra
			}
			if st := srv.Stats(); st.ConcurrencyRejections != tt.want {
				t.Errorf("ConcurrencyRejections = %d, want %d", st.ConcurrencyRejections, tt.want)
			}
		})
	}
}
