package emulator

import (
	"net/http"
	"strings"
	"sync"
)

// MarketingCloud serves the Marketing Cloud endpoints that legacy (v1) and
// enhanced (v2) access tokens both unlock: REST under any path, SOAP at
// /Service.asmx. It is safe for concurrent use.
type MarketingCloud struct {
	core *Core

	mu           sync.Mutex
	apiUsers     map[string]string // username → password, for WS-Security UsernameToken
	lastEnvelope []byte
}

// NewMarketingCloud returns endpoints that judge tokens with core's registry and
// count, gate and throttle with core's machinery.
func NewMarketingCloud(core *Core) *MarketingCloud {
	return &MarketingCloud{core: core, apiUsers: make(map[string]string)}
}

// AddAPIUser registers an API user whose username and password a SOAP request may
// present in a WS-Security UsernameToken.
func (m *MarketingCloud) AddAPIUser(username, password string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.apiUsers[username] = password
}

// LastEnvelope returns a copy of the body of the last request to /Service.asmx,
// exactly as it arrived (nil before the first).
func (m *MarketingCloud) LastEnvelope() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.lastEnvelope...)
}

// IsSOAPPath reports whether path is the SOAP endpoint; clients vary its case.
func IsSOAPPath(path string) bool {
	return strings.EqualFold(path, "/Service.asmx")
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

// WriteNotFound answers 404 the way Marketing Cloud does for a path it does not know.
func WriteNotFound(w http.ResponseWriter) {
	writeRawJSON(w, http.StatusNotFound, mcNotFound)
}

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
