package acoustictest

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// A Server emulates one Acoustic Campaign organization on one pod: its token
// endpoint, XML API and REST API. Its Controls (Client, Close, Stats and the
// knobs every emulator shares) are promoted from the embedded emulator.Controls.
// All its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, of the form http://127.0.0.1:port (https
	// for NewTLSServer), without a trailing slash: what a client would use instead
	// of https://api-campaign-us-1.goacoustic.com.
	URL string

	*emulator.Controls

	cfg  config
	core *emulator.Core

	mu     sync.Mutex
	grants map[string]*grant // by refresh token
	mints  []time.Time       // when tokens were minted, for WithMintLimit
}

// grant is a refresh token: a user's consent for an application.
type grant struct {
	clientID string
	revoked  bool
	minted   []string // access tokens minted from it, newest last
}

// NewServer starts and returns a Server on a loopback address. The caller should
// call Close when finished, to shut it down.
func NewServer(opts ...Option) *Server { return newServer(opts, false) }

// NewTLSServer is NewServer over TLS; Client returns an http.Client that trusts it.
func NewTLSServer(opts ...Option) *Server { return newServer(opts, true) }

func newServer(opts []Option, tls bool) *Server {
	cfg := config{
		refreshTokens:   make(map[string]string),
		tokenLifetime:   DefaultTokenLifetime,
		earliestRefresh: DefaultEarliestRefresh,
	}
	cfg.ConcurrencyLimit = DefaultConcurrencyLimit
	for _, opt := range opts {
		opt(&cfg)
	}
	if len(cfg.Clients) == 0 {
		WithClient(DefaultClientID, DefaultClientSecret, DefaultRefreshToken)(&cfg)
	}

	grants := make(map[string]*grant, len(cfg.refreshTokens))
	for rt, id := range cfg.refreshTokens {
		grants[rt] = &grant{clientID: id}
	}
	core := emulator.NewCore(cfg.Config)
	s := &Server{Controls: core.Controls(), cfg: cfg, core: core, grants: grants}
	core.Start(s.route, tls, &s.URL)
	return s
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == TokenPath && r.Method == http.MethodPost:
		s.serveToken(w, r)
	case strings.EqualFold(p, XMLAPIPath):
		s.serveXMLAPI(w, r)
	case strings.HasPrefix(p, RESTPrefix):
		s.serveREST(w, r)
	default:
		s.core.Counters.Reject(emulator.ReasonNotFound)
		emulator.WriteJSON(w, http.StatusNotFound, oauthError{"not_found", "No endpoint at this path."})
	}
}
