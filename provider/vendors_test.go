package provider_test

import (
	"net/http"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/transport"
)

// vendor is one provider with its vendor's emulator: what the conformance tests
// need to hold every provider to the promises they share.
type vendor struct {
	name     string
	clientID string   // the emulator's default credential
	secrets  []string // what that credential holds that no rendering, error or log may show
	apiPaths []string // API paths the emulator serves; the first answers GET with its JSON echo
	soap     bool     // the second path is a SOAP API, whose envelopes carry the token as fueloauth

	// start runs the emulator until the test ends.
	start func(t *testing.T) *emu
	// config is a Config of the emulator's default credential, with its token
	// requests sent by the emulator's client.
	config func(e *emu) *config
	// bad are Configs that cannot work, each with the field its Validate names.
	bad []badConfig

	// sharing are pairs of credentials with the number of token requests two
	// Transports over one Store make for them: 1 when they are the same
	// credential, 2 when the Store must keep their tokens apart.
	sharing []sharingCase

	// rendered is a Config holding every kind of secret, with what each of its
	// renderings must show and the secrets none may show; keys are the JSON keys
	// it must have, check the vendor's own assertions on its String and JSON.
	rendered func(t *testing.T) (cfg *config, shown, secrets, keys []string)
	check    func(t *testing.T, str string, decoded map[string]any)
}

// emu is a running emulator: its URL and the controls every emulator shares.
type emu struct {
	URL string
	*emulator.Controls
	mcv2 *mcv2test.Server // the Marketing Cloud v2 emulator, which issues codes
}

type badConfig struct {
	cfg   func() *config
	field string
}

type sharingCase struct {
	name    string
	configs func(t *testing.T, e *emu) [2]*config
	want    int
}

// config is one provider's Config behind what the tests do with it.
type config struct {
	*provider.Common // points into the Config

	account, scope string // the business unit and scopes of its tokens, where the vendor has them

	value        func() any // the Config, and it in the other forms a program may hold it
	ptr, inSlice func() any
	nested       func() any
	validate     func() error
	newTransport func() (*transport.Transport, error)
	newClient    func() (*http.Client, error)
	newProvider  func() (transport.Provider, error)
}

// running is the emulator at url with its controls, closed when the test ends.
func running(t *testing.T, url string, c *emulator.Controls) *emu {
	t.Cleanup(c.Close)
	return &emu{URL: url, Controls: c}
}

// configOf wraps the Config cfg points to.
func configOf[C interface{ Validate() error }, P transport.Provider](cfg *C, common *provider.Common,
	newTransport func(C) (*transport.Transport, error), newClient func(C) (*http.Client, error), newProvider func(C) (P, error)) *config {
	return &config{
		Common:       common,
		value:        func() any { return *cfg },
		ptr:          func() any { return cfg },
		inSlice:      func() any { return []C{*cfg} },
		nested:       func() any { return struct{ Inner C }{*cfg} },
		validate:     func() error { return (*cfg).Validate() },
		newTransport: func() (*transport.Transport, error) { return newTransport(*cfg) },
		newClient:    func() (*http.Client, error) { return newClient(*cfg) },
		newProvider:  func() (transport.Provider, error) { return newProvider(*cfg) },
	}
}

// Strings planted in the renderings' Configs.
const (
	plantedSecret = "s3cr3t-planted-secret"
	plantedURLPw  = "url-password"
	plantedQuery  = "query-secret"
	plantedRT     = "rt-planted-refresh-token"
)

// plantedHosts are Transport.Hosts entries with a password and a query in them.
var plantedHosts = []string{"https://u:" + plantedURLPw + "@api.example.com/?k=" + plantedQuery, "u:" + plantedURLPw + "@host.example.com"}

// vendors lists the three providers.
var vendors = []*vendor{mcv1Vendor, mcv2Vendor, acousticVendor}
