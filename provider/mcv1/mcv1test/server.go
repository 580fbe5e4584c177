package mcv1test

import (
	"net/http"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// A Server emulates Marketing Cloud's legacy authentication service and the APIs
// its tokens unlock. The knobs, counters and clock every emulator shares (Client,
// Close, Stats, FailTokenRequests, RevokeToken…) are promoted from the embedded
// Controls. All its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, of the form http://127.0.0.1:port (https
	// for NewTLSServer), without a trailing slash.
	URL string
	// ClientID and ClientSecret are the legacy package the Server registered first:
	// the first WithClient's, or "tokentrip-mcv1-client-id" and
	// "tokentrip-mcv1-client-secret" when no client option is given. They are
	// empty when only WithEnhancedClient registered clients.
	ClientID, ClientSecret string
	// APIUsername and APIPassword are the API user a SOAP UsernameToken may carry:
	// the first WithAPIUser's, or "tokentrip-api-user" and "tokentrip-api-password".
	APIUsername, APIPassword string

	*emulator.Controls

	cfg  config
	core *emulator.Core
	mc   *emulator.MarketingCloud
}

// NewServer starts and returns a Server on a loopback address. The caller should
// call Close when finished, to shut it down.
func NewServer(opts ...Option) *Server { return newServer(opts, false) }

// NewTLSServer is NewServer over TLS; Client returns an http.Client that trusts it.
func NewTLSServer(opts ...Option) *Server { return newServer(opts, true) }

func newServer(opts []Option, tls bool) *Server {
	cfg := config{MCConfig: emulator.MCConfig{
		TokenLifetime:   emulator.MCv1TokenLifetime,
		RefreshLifetime: emulator.MCv1RefreshTokenLifetime,
	}}
	emulator.Apply(&cfg, opts)
	core, mc := emulator.NewMarketingCloud(&cfg.MCConfig,
		emulator.Client{ID: emulator.MCv1ClientID, Secret: emulator.MCv1ClientSecret, Kind: kindLegacy})
	client, user := cfg.FirstClient(kindLegacy), cfg.APIUsers[0]
	s := &Server{
		ClientID: client.ID, ClientSecret: client.Secret,
		APIUsername: user.ID, APIPassword: user.Secret,
		Controls: core.Controls(), cfg: cfg, core: core, mc: mc,
	}
	core.Start(s.route, tls, &s.URL)
	return s
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == emulator.MCv1TokenPath && r.Method == http.MethodPost {
		s.serveToken(w, r)
		return
	}
	s.mc.ServeHTTP(w, r)
}
