package acoustic_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/transport"
)

// start is the moment the tests' manual clocks begin at.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// getLists is an XML API request body.
const getLists = `<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`

// xmlSuccess is the emulator's answer to an accepted XML API call.
const xmlSuccess = `<Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>`

// newEmulator starts an Acoustic emulator whose clock the test moves.
func newEmulator(t *testing.T, opts ...acoustictest.Option) (*acoustictest.Server, *manualclock.Clock) {
	t.Helper()
	clock := manualclock.New(start)
	return testkit.Started(t, acoustictest.NewServer(append([]acoustictest.Option{acoustictest.WithClock(clock.Now)}, opts...)...)), clock
}

// configFor is a Config for the emulator's default credentials, on its clock.
func configFor(srv *acoustictest.Server, clock *manualclock.Clock) acoustic.Config {
	return acoustic.Config{
		BaseURL:      srv.URL,
		ClientID:     emulator.AcousticClientID,
		ClientSecret: emulator.AcousticClientSecret,
		RefreshToken: emulator.AcousticRefreshToken,
		Common:       provider.Common{Source: transport.Settings{Clock: clock.Now}},
	}
}

// newClient is acoustic.NewClient that fails the test on error.
func newClient(t *testing.T, cfg acoustic.Config) *http.Client {
	t.Helper()
	client, err := acoustic.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// postXML sends an XML API call with a raw XML body.
func postXML(t *testing.T, client *http.Client, base, body string) emulatortest.Reply {
	t.Helper()
	return emulatortest.Send(t, client, http.MethodPost, base+"/XMLAPI", "text/xml;charset=UTF-8", body)
}

// warmClient starts an emulator and a client for the Config edit shapes, makes one
// XML API call so the client holds a token, and resets the emulator's counters.
func warmClient(t *testing.T, edit func(*acoustic.Config)) (*acoustictest.Server, *http.Client) {
	t.Helper()
	srv, clock := newEmulator(t)
	cfg := configFor(srv, clock)
	edit(&cfg)
	client := newClient(t, cfg)
	if r := postXML(t, client, srv.URL, getLists); r.Status != 200 {
		t.Fatalf("warm-up call: %d %s", r.Status, r.Body)
	}
	srv.ResetStats()
	return srv, client
}
