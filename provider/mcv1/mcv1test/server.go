package mcv1test

import (
	"net/http"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// TokenPath is the path of the token endpoint.
const TokenPath = "/v1/requestToken"

// A Server emulates Marketing Cloud's legacy authentication service and the APIs
// its tokens unlock. Its Controls (Client, Close, Stats and the knobs every
// emulator shares) are promoted from the embedded emulator.Controls. All its
// methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, of the form http://127.0.0.1:port (https
	// for NewTLSServer), without a trailing slash.
	URL string

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
	cfg := config{
		apiUsers:        make(map[string]string),
		tokenLifetime:   DefaultTokenLifetime,
		refreshLifetime: DefaultRefreshTokenLifetime,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	if len(cfg.Clients) == 0 {
		WithClient(DefaultClientID, DefaultClientSecret)(&cfg)
	}
	if len(cfg.apiUsers) == 0 {
		WithAPIUser(DefaultAPIUsername, DefaultAPIPassword)(&cfg)
	}

	core := emulator.NewCore(cfg.Config)
	s := &Server{Controls: core.Controls(), cfg: cfg, core: core, mc: emulator.NewMarketingCloud(core, cfg.apiUsers)}
	core.Start(s.route, tls, &s.URL)
	return s
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == TokenPath && r.Method == http.MethodPost {
		s.serveToken(w, r)
		return
	}
	s.mc.ServeHTTP(w, r)
}
