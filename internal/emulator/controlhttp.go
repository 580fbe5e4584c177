package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ControlPrefix is the path under which every emulator serves its Controls as
// JSON endpoints, for tests written in any language (see "tokentrip emulate"):
//
//	GET    /-/            the list of control endpoints
//	GET    /-/counters    Stats
//	DELETE /-/counters    ResetStats, then Stats
//	POST   /-/expire      {"token":T} ExpireToken; {} every access token issued so far
//	POST   /-/revoke      {"token":T} RevokeToken; {"client_id":ID} RevokeClient; {} every access token
//	POST   /-/restore     {"client_id":ID} RestoreClient
//	POST   /-/throttle    {"api_calls":N} ThrottleAPICalls; {"token_requests":N,"status":S,"retry_after":"5s"} FailTokenRequests
//	GET    /-/latency     the latencies
//	POST   /-/latency     {"token":"250ms","api":"1s"} SetTokenLatency, SetAPILatency
//
// Answers are JSON; a failure is {"error":"…"} with 400 (bad request), 404
// (unknown token, client or endpoint) or 405 (wrong method). Control requests are
// not counted in Stats.
const ControlPrefix = "/-/"

func isControlPath(p string) bool { return p == "/-" || strings.HasPrefix(p, ControlPrefix) }

// controlIndex is the answer of GET /-/.
var controlIndex = map[string]string{
	"GET /-/counters":    "the counters",
	"DELETE /-/counters": "reset the counters",
	"POST /-/expire":     `expire {"token":T}, or every access token issued so far`,
	"POST /-/revoke":     `revoke {"token":T} or {"client_id":ID}, or every access token issued so far`,
	"POST /-/restore":    `let a revoked {"client_id":ID} fetch tokens again`,
	"POST /-/throttle":   `throttle the next {"api_calls":N}; fail the next {"token_requests":N} with "status" (default 429) and "retry_after"`,
	"GET /-/latency":     "the latencies of token requests and API calls",
	"POST /-/latency":    `set {"token":"250ms","api":"1s"}`,
}

// tokenSelector names what /-/expire and /-/revoke act on.
type tokenSelector struct {
	Token    string `json:"token"`
	ClientID string `json:"client_id"`
}

// throttleRequest is the body of POST /-/throttle.
type throttleRequest struct {
	APICalls      *int   `json:"api_calls"`
	TokenRequests *int   `json:"token_requests"`
	Status        int    `json:"status"`
	RetryAfter    string `json:"retry_after"`
}

// latencies is the body of POST /-/latency and the answer of both methods.
type latencies struct {
	Token string `json:"token,omitempty"`
	API   string `json:"api,omitempty"`
}

// controlError is a failed control request.
type controlError struct {
	status int
	msg    string
}

func (e *controlError) Error() string { return e.msg }

func controlErrorf(status int, format string, args ...any) error {
	return &controlError{status: status, msg: fmt.Sprintf(format, args...)}
}

// serveHTTP answers the JSON control endpoints under ControlPrefix.
func (c *Controls) serveHTTP(w http.ResponseWriter, r *http.Request) {
	v, err := c.control(r)
	if err != nil {
		ce, ok := errors.AsType[*controlError](err)
		if !ok {
			ce = &controlError{status: http.StatusBadRequest, msg: err.Error()}
		}
		if ce.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", allowed[strings.TrimSuffix(r.URL.Path, "/")])
		}
		WriteJSON(w, ce.status, map[string]string{"error": ce.msg})
		return
	}
	WriteJSON(w, http.StatusOK, v)
}

// allowed lists the methods of each control endpoint.
var allowed = map[string]string{
	"/-":          "GET",
	"/-/counters": "GET, DELETE",
	"/-/expire":   "POST",
	"/-/revoke":   "POST",
	"/-/restore":  "POST",
	"/-/throttle": "POST",
	"/-/latency":  "GET, POST",
}

func (c *Controls) control(r *http.Request) (any, error) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	methods, ok := allowed[path]
	if !ok {
		return nil, controlErrorf(http.StatusNotFound, "no control endpoint at %s; GET %s lists them", r.URL.Path, ControlPrefix)
	}
	if !slices.Contains(strings.Split(methods, ", "), r.Method) {
		// Whole method names only: "ET" or "LETE" are not GET or DELETE.
		return nil, controlErrorf(http.StatusMethodNotAllowed, "%s takes %s", path, methods)
	}
	core := c.core
	switch path + " " + r.Method {
	case "/- GET":
		return controlIndex, nil
	case "/-/counters GET":
		return c.Stats(), nil
	case "/-/counters DELETE":
		c.ResetStats()
		return c.Stats(), nil
	case "/-/expire POST":
		var sel tokenSelector
		if err := decodeControl(r, &sel); err != nil {
			return nil, err
		}
		if sel.ClientID != "" {
			return nil, controlErrorf(http.StatusBadRequest, "expire takes a token, not a client_id")
		}
		if sel.Token == "" {
			return map[string]int{"expired": core.Tokens.ExpireAll(AccessToken)}, nil
		}
		if !c.ExpireToken(sel.Token) {
			return nil, controlErrorf(http.StatusNotFound, "this server issued no such token")
		}
		return map[string]int{"expired": 1}, nil
	case "/-/revoke POST":
		var sel tokenSelector
		if err := decodeControl(r, &sel); err != nil {
			return nil, err
		}
		switch {
		case sel.Token != "" && sel.ClientID != "":
			return nil, controlErrorf(http.StatusBadRequest, "revoke takes a token or a client_id, not both")
		case sel.ClientID != "":
			if !c.RevokeClient(sel.ClientID) {
				return nil, controlErrorf(http.StatusNotFound, "no client %q is registered", sel.ClientID)
			}
			return map[string]string{"revoked_client": sel.ClientID}, nil
		case sel.Token != "":
			if !c.RevokeToken(sel.Token) {
				return nil, controlErrorf(http.StatusNotFound, "this server issued no such token")
			}
			return map[string]int{"revoked": 1}, nil
		}
		return map[string]int{"revoked": core.Tokens.RevokeAll(AccessToken)}, nil
	case "/-/restore POST":
		var sel tokenSelector
		if err := decodeControl(r, &sel); err != nil {
			return nil, err
		}
		if sel.ClientID == "" || sel.Token != "" {
			return nil, controlErrorf(http.StatusBadRequest, "restore takes a client_id")
		}
		if !c.RestoreClient(sel.ClientID) {
			return nil, controlErrorf(http.StatusNotFound, "no client %q is registered", sel.ClientID)
		}
		return map[string]string{"restored_client": sel.ClientID}, nil
	case "/-/throttle POST":
		return c.throttle(r)
	case "/-/latency POST":
		var l latencies
		if err := decodeControl(r, &l); err != nil {
			return nil, err
		}
		token, err := parseDuration("token", l.Token)
		if err != nil {
			return nil, err
		}
		api, err := parseDuration("api", l.API)
		if err != nil {
			return nil, err
		}
		if l.Token != "" {
			c.SetTokenLatency(token)
		}
		if l.API != "" {
			c.SetAPILatency(api)
		}
	}
	// GET or POST /-/latency: the latencies now.
	return latencies{
		Token: time.Duration(core.tokenLatency.Load()).String(),
		API:   time.Duration(core.apiLatency.Load()).String(),
	}, nil
}

// throttle answers POST /-/throttle.
func (c *Controls) throttle(r *http.Request) (any, error) {
	var t throttleRequest
	if err := decodeControl(r, &t); err != nil {
		return nil, err
	}
	if t.APICalls == nil && t.TokenRequests == nil {
		return nil, controlErrorf(http.StatusBadRequest, "throttle takes api_calls, token_requests or both")
	}
	for _, f := range []struct {
		name string
		n    *int
	}{{"api_calls", t.APICalls}, {"token_requests", t.TokenRequests}} {
		if f.n != nil && *f.n < 0 {
			return nil, controlErrorf(http.StatusBadRequest, "%s: %d is negative; 0 cancels what is queued", f.name, *f.n)
		}
	}
	if t.Status == 0 {
		t.Status = http.StatusTooManyRequests
	}
	if t.Status < 400 || t.Status > 599 {
		return nil, controlErrorf(http.StatusBadRequest, "status %d is not an HTTP error status", t.Status)
	}
	retryAfter, err := parseDuration("retry_after", t.RetryAfter)
	if err != nil {
		return nil, err
	}
	if t.APICalls != nil {
		c.ThrottleAPICalls(*t.APICalls)
	}
	if t.TokenRequests != nil {
		c.FailTokenRequests(*t.TokenRequests, t.Status, retryAfter)
	}
	return t, nil
}

// decodeControl reads a control request's JSON body into v; an empty body is {}.
// Unknown fields are refused, so that a misspelt one is not silently ignored, and
// so is anything but one JSON object: a null, or a second value after the first,
// would otherwise read as {} or be dropped, and {} acts on every token.
func decodeControl(r *http.Request, v any) error {
	const limit = 64 << 10
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	switch {
	case err != nil:
		return controlErrorf(http.StatusBadRequest, "reading the body: %v", err)
	case len(b) > limit:
		return controlErrorf(http.StatusBadRequest, "the body is over %d bytes", limit)
	case len(bytes.TrimSpace(b)) == 0:
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		return controlErrorf(http.StatusBadRequest, "the body must be a JSON object of this endpoint's fields: %v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return controlErrorf(http.StatusBadRequest, "the body must be one JSON object, with nothing after it")
	}
	if raw[0] != '{' {
		return controlErrorf(http.StatusBadRequest, "the body must be a JSON object of this endpoint's fields, not %s", jsonKind(raw[0]))
	}
	o := json.NewDecoder(bytes.NewReader(raw))
	o.DisallowUnknownFields()
	if err := o.Decode(v); err != nil {
		return controlErrorf(http.StatusBadRequest, "the body must be a JSON object of this endpoint's fields: %v", err)
	}
	return nil
}

// jsonKind names the JSON value that starts with c, for an error message.
func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return "something else"
}

// parseDuration reads a duration such as "250ms"; "" is 0.
func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, controlErrorf(http.StatusBadRequest, "%s: %q is not a duration such as 250ms or 2s", field, s)
	}
	return d, nil
}
