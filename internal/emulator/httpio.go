package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxBodyBytes bounds every request body an emulator reads.
const MaxBodyBytes = 10 << 20

// ReadBody reads r's body, at most MaxBodyBytes of it. When the body is larger,
// ReadBody answers 413 itself and returns an error; the caller just returns.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readBody(w, r, MaxBodyBytes)
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		}
		return nil, err
	}
	return b, nil
}

// MediaType returns the lower-cased media type of r's Content-Type, without
// parameters, or "" when there is none or it cannot be parsed.
func MediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// BearerToken returns the token of an "Authorization: Bearer …" header. The scheme
// is matched case-insensitively, as RFC 6750 allows.
func BearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// WriteJSON answers with status and v as JSON (HTML characters unescaped, no
// trailing newline), with Content-Type application/json; charset=utf-8.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// SetRetryAfter sets a Retry-After header of d in whole seconds, rounded up; it
// does nothing when d <= 0.
func SetRetryAfter(h http.Header, d time.Duration) {
	if d <= 0 {
		return
	}
	secs := (d + time.Second - 1) / time.Second
	h.Set("Retry-After", strconv.FormatInt(int64(secs), 10))
}

// RemainingSeconds returns how many whole seconds are left from now until expiry,
// never less than zero: the expires_in a token endpoint reports.
func RemainingSeconds(now, expiry time.Time) int {
	return max(int(expiry.Sub(now)/time.Second), 0)
}

// restEcho is the body of a successful REST call.
type restEcho struct {
	OK         bool   `json:"ok"`
	Method     string `json:"method"`
	Path       string `json:"path"`
	BodyLength int    `json:"bodyLength"`
	AccountID  string `json:"accountId,omitempty"`
}

// WriteEcho answers a successful REST call with 200 and a JSON echo of it
// ({"ok":true,"method":…,"path":…,"bodyLength":…}): enough for a test to see that
// the request arrived whole, and, with an accountID, under which business unit.
func WriteEcho(w http.ResponseWriter, r *http.Request, body []byte, accountID string) {
	WriteJSON(w, http.StatusOK, restEcho{
		OK:         true,
		Method:     r.Method,
		Path:       r.URL.Path,
		BodyLength: len(body),
		AccountID:  accountID,
	})
}
