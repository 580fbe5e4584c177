package emulator

import (
	"net/http"
	"strings"
	"time"
)

// MarketingCloud serves the Marketing Cloud endpoints that legacy (v1) and
// enhanced (v2) access tokens both unlock: REST under any path, SOAP at
// /Service.asmx. It is safe for concurrent use.
type MarketingCloud struct {
	core     *Core
	apiUsers map[string]string // username → password, for WS-Security UsernameToken
}

// MCConfig is Config plus what both Marketing Cloud emulators are built from;
// mcv1test's and mcv2test's options fill it.
type MCConfig struct {
	Config
	TokenLifetime   time.Duration // of access tokens
	RefreshLifetime time.Duration // of refresh tokens
	// APIUsers may present their username (ID) and password (Secret) in a SOAP
	// request's WS-Security UsernameToken; a later one replaces an earlier one of
	// the same name.
	APIUsers []Client
}

// NewMarketingCloud returns a Core built from cfg, and the endpoints that judge
// tokens with its registry and count, gate and throttle with its machinery. When
// cfg has no client, it registers defaults in it; when it has no API user,
// MCAPIUsername with MCAPIPassword.
func NewMarketingCloud(cfg *MCConfig, defaults ...Client) (*Core, *MarketingCloud) {
	if len(cfg.Clients) == 0 {
		cfg.Clients = defaults
	}
	if len(cfg.APIUsers) == 0 {
		cfg.APIUsers = []Client{{ID: MCAPIUsername, Secret: MCAPIPassword}}
	}
	m := &MarketingCloud{core: NewCore(cfg.Config), apiUsers: make(map[string]string)}
	for _, u := range cfg.APIUsers {
		m.apiUsers[u.ID] = u.Secret
	}
	return m.core, m
}

// ServeHTTP serves what a Marketing Cloud host answers besides its authentication
// endpoints: SOAP at /Service.asmx, 404 for any other path under /v1/ or /v2/ (the
// authentication service's), and REST everywhere else.
func (m *MarketingCloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case strings.EqualFold(p, "/Service.asmx"): // clients vary its case
		m.ServeSOAP(w, r)
	case strings.HasPrefix(p, "/v1/"), strings.HasPrefix(p, "/v2/"):
		m.core.Counters.Reject(ReasonNotFound)
		writeRawJSON(w, http.StatusNotFound, mcNotFound)
	default:
		m.ServeREST(w, r)
	}
}

// Fixed JSON bodies of Marketing Cloud errors.
const (
	MCErrorDocs    = "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm"
	mcNotFound     = `{"errorcode":404,"message":"Not Found","documentation":""}`
	mcNotAuth      = `{"documentation":"` + MCErrorDocs + `","errorcode":0,"message":"Not Authorized"}`
	mcRateLimited  = `{"message":"Rate limit exceeded","errorcode":50100,"documentation":"` + MCErrorDocs + `"}`
	mcWWWAuth      = `Bearer realm="example.com", error="invalid_token"`
	mcThrottleWait = "5"
)

// WriteNotAuthorized answers 401 the way Marketing Cloud REST does for a missing,
// unknown or expired token.
func WriteNotAuthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", mcWWWAuth)
	writeRawJSON(w, http.StatusUnauthorized, mcNotAuth)
}

func writeRawJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// endpointURL is the URL a request was addressed to, for fault actors.
func endpointURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.Path
}
