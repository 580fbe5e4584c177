package acoustictest

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// A Server emulates one Acoustic Campaign organization on one pod: its token
// endpoint, XML API and REST API. The knobs, counters and clock every emulator
// shares (Client, Close, Stats, FailTokenRequests, RevokeToken…) are promoted from
// the embedded Controls. All its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, of the form http://127.0.0.1:port (https
	// for NewTLSServer), without a trailing slash: what a client would use instead
	// of https://api-campaign-us-1.goacoustic.com.
	URL string
	// ClientID, ClientSecret and RefreshToken are the application and the refresh
	// token a user granted it that the Server registered first: the first
	// WithClient's, or "tokentrip-acoustic-client-id",
	// "tokentrip-acoustic-client-secret" and "tokentrip-acoustic-refresh-token"
	// when no WithClient option is given.
	ClientID, ClientSecret, RefreshToken string

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
		tokenLifetime:   emulator.AcousticTokenLifetime,
		earliestRefresh: emulator.AcousticEarliestRefresh,
	}
	cfg.ConcurrencyLimit = emulator.AcousticConcurrencyLimit
	emulator.Apply(&cfg, opts)
	if len(cfg.Clients) == 0 {
		WithClient(emulator.AcousticClientID, emulator.AcousticClientSecret, emulator.AcousticRefreshToken)(&cfg)
	}

	grants := make(map[string]*grant, len(cfg.refreshTokens))
	for _, rt := range cfg.refreshTokens {
		grants[rt.ID] = &grant{clientID: rt.Secret}
	}
	core := emulator.NewCore(cfg.Config)
	first := cfg.Clients[0]
	s := &Server{
		ClientID: first.ID, ClientSecret: first.Secret, RefreshToken: cfg.refreshTokens[0].ID,
		Controls: core.Controls(), cfg: cfg, core: core, grants: grants,
	}
	core.RevokeGrant = s.revokeRefreshToken
	core.Start(s.route, tls, &s.URL)
	return s
}

// revokeRefreshToken does what deleting a user's access in Acoustic's UI does, for
// Controls.RevokeToken: the refresh token gets invalid_grant from now on and every
// access token minted from it is revoked. It reports whether the refresh token is
// registered.
func (s *Server) revokeRefreshToken(refreshToken string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[refreshToken]
	if !ok {
		return false
	}
	g.revoked = true
	for _, tok := range g.minted {
		s.core.Tokens.Revoke(tok)
	}
	return true
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == emulator.AcousticTokenPath && r.Method == http.MethodPost:
		s.serveToken(w, r)
	case strings.EqualFold(p, emulator.AcousticXMLAPIPath):
		s.serveXMLAPI(w, r)
	case strings.HasPrefix(p, emulator.AcousticRESTPrefix):
		s.serveREST(w, r)
	default:
		s.core.Counters.Reject(emulator.ReasonNotFound)
		emulator.WriteJSON(w, http.StatusNotFound, oauthError{"not_found", "No endpoint at this path."})
	}
}
