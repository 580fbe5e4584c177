package mcv2test

import (
	"net/http"
	"strings"
	"sync"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// A Server emulates Marketing Cloud's enhanced-package authentication service and
// the APIs its tokens unlock. The knobs, counters and clock every emulator shares
// (Client, Close, Stats, FailTokenRequests, RevokeToken…) are promoted from the
// embedded Controls. All its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, of the form http://127.0.0.1:port (https
	// for NewTLSServer), without a trailing slash.
	URL string
	// ClientID and ClientSecret are the server-to-server integration
	// (client_credentials) the Server registered first: the first WithClient's, or
	// "tokentrip-mcv2-client-id" and "tokentrip-mcv2-client-secret" when no client
	// option is given.
	ClientID, ClientSecret string
	// WebAppID and WebAppSecret are the web app (authorization_code with a secret)
	// registered first: the first WithWebApp's, or "tokentrip-mcv2-web-app-id" and
	// "tokentrip-mcv2-web-app-secret" when no client option is given.
	WebAppID, WebAppSecret string
	// PublicAppID is the public app (authorization_code, no secret) registered
	// first: the first WithPublicApp's, or "tokentrip-mcv2-public-app-id" when no
	// client option is given. These client fields are empty when client options
	// register no client of their kind.
	PublicAppID string
	// APIUsername and APIPassword are the API user a SOAP UsernameToken may carry:
	// the first WithAPIUser's, or "tokentrip-api-user" and "tokentrip-api-password".
	APIUsername, APIPassword string
	// Scope is what a token is granted when its request names no scope:
	// "email_read email_write email_send".
	Scope string
	// AccountID is the enterprise's MID, "100000001": /v2/userinfo reports it as
	// enterprise_id, and as member_id for a token requested without account_id.
	AccountID string

	*emulator.Controls

	cfg  config
	core *emulator.Core
	mc   *emulator.MarketingCloud

	mu    sync.Mutex
	codes map[string]*authCode
}

// NewServer starts and returns a Server on a loopback address. The caller should
// call Close when finished, to shut it down.
func NewServer(opts ...Option) *Server { return newServer(opts, false) }

// NewTLSServer is NewServer over TLS; Client returns an http.Client that trusts it.
func NewTLSServer(opts ...Option) *Server { return newServer(opts, true) }

func newServer(opts []Option, tls bool) *Server {
	cfg := config{MCConfig: emulator.MCConfig{
		TokenLifetime:   emulator.MCv2TokenLifetime,
		RefreshLifetime: emulator.MCv2RefreshTokenLifetime,
	}}
	emulator.Apply(&cfg, opts)
	core, mc := emulator.NewMarketingCloud(&cfg.MCConfig,
		emulator.Client{ID: emulator.MCv2ClientID, Secret: emulator.MCv2ClientSecret, Kind: kindServer},
		emulator.Client{ID: emulator.MCv2WebAppID, Secret: emulator.MCv2WebAppSecret, Kind: kindWeb},
		emulator.Client{ID: emulator.MCv2PublicAppID, Kind: kindPublic})
	s2s, web, user := cfg.FirstClient(kindServer), cfg.FirstClient(kindWeb), cfg.APIUsers[0]
	s := &Server{
		ClientID: s2s.ID, ClientSecret: s2s.Secret,
		WebAppID: web.ID, WebAppSecret: web.Secret,
		PublicAppID: cfg.FirstClient(kindPublic).ID,
		APIUsername: user.ID, APIPassword: user.Secret,
		Scope: emulator.MCv2Scope, AccountID: emulator.MCv2AccountID,
		Controls: core.Controls(), cfg: cfg, core: core, mc: mc,
		codes: make(map[string]*authCode),
	}
	core.Start(s.route, tls, &s.URL)
	return s
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == emulator.MCv2TokenPath && r.Method == http.MethodPost:
		s.serveToken(w, r)
	case p == emulator.MCv2AuthorizePath && r.Method == http.MethodGet:
		s.serveAuthorize(w, r)
	case p == emulator.MCv2UserinfoPath && r.Method == http.MethodGet:
		s.serveUserinfo(w, r)
	default:
		s.mc.ServeHTTP(w, r)
	}
}

// instanceURLs returns the rest_instance_url and soap_instance_url of token
// responses.
func (s *Server) instanceURLs() (rest, soap string) {
	switch {
	case s.cfg.restURL != "" || s.cfg.soapURL != "":
		return s.cfg.restURL, s.cfg.soapURL
	case s.cfg.schemeless:
		host := s.URL[strings.Index(s.URL, "://")+len("://"):]
		return host, host
	}
	return s.URL + "/", s.URL + "/"
}
