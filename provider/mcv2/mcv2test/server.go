package mcv2test

import (
	"net/http"
	"strings"
	"sync"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// A Server emulates Marketing Cloud's enhanced-package authentication service and
// the APIs its tokens unlock. Its Controls (Close, Stats and the knobs every
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

	mu    sync.Mutex
	codes map[string]*authCode
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
		for _, opt := range []Option{
			WithClient(DefaultClientID, DefaultClientSecret),
			WithWebApp(DefaultWebAppID, DefaultWebAppSecret),
			WithPublicApp(DefaultPublicAppID),
		} {
			opt(&cfg)
		}
	}
	if len(cfg.apiUsers) == 0 {
		WithAPIUser(DefaultAPIUsername, DefaultAPIPassword)(&cfg)
	}

	core := emulator.NewCore(cfg.Config)
	s := &Server{
		Controls: core.Controls(),
		cfg:      cfg,
		core:     core,
		mc:       emulator.NewMarketingCloud(core, cfg.apiUsers),
		codes:    make(map[string]*authCode),
	}
	core.Start(s.route, tls, &s.URL)
	return s
}

// Client returns an HTTP client that talks to the server (and trusts its
// certificate, for NewTLSServer). It does not follow redirects, so that a test
// can read the code /v2/authorize redirects with.
func (s *Server) Client() *http.Client {
	c := *s.Controls.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == TokenPath && r.Method == http.MethodPost:
		s.serveToken(w, r)
	case p == AuthorizePath && r.Method == http.MethodGet:
		s.serveAuthorize(w, r)
	case p == UserinfoPath && r.Method == http.MethodGet:
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
