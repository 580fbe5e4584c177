package acoustic

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/internal/httpx"
)

// xmlAPIPeek bounds how much of an XML API answer XMLAPIRejected reads: an auth
// fault is a few hundred bytes, and a success is recognised by its first element.
const xmlAPIPeek = 64 << 10

// XMLAPIRejected is a verdict (a transport.Options.Rejected) for Acoustic's XML API: it reports
// whether a response to a request for /XMLAPI says the access token was rejected,
// which the XML API does in three ways — HTTP 401, a 200 with an empty body, or a
// 200 whose Envelope holds SUCCESS false and a Fault with errorid 145 ("session
// expired or invalid", class SP.Admin). Responses to other paths are left to the
// other verdicts (NewTransport adds transport.Unauthorized for REST).
//
// It reads at most 64 KiB of the body with httpx.PeekBody, so a caller whose
// response was not a rejection still reads the whole body, and any other XML API
// error — another errorid — reaches the caller as it came.
func XMLAPIRejected(resp *http.Response) bool {
	if resp == nil || resp.Request == nil || resp.Request.URL == nil || !isXMLAPIPath(resp.Request.URL.Path) {
		return false
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return true
	case resp.StatusCode != http.StatusOK:
		return false
	case resp.ContentLength == 0:
		return true
	}
	head, err := httpx.PeekBody(resp, xmlAPIPeek)
	if len(bytes.TrimSpace(head)) == 0 {
		// Empty (or blank) to its end is a rejection; a body that failed before its
		// first byte is a broken connection, which the caller will see.
		return err == nil && len(head) < xmlAPIPeek
	}
	res, err := envelope.ParseXMLAPIResult(bytes.NewReader(head), xmlAPIPeek)
	return err == nil && res.IsAuth()
}

// isXMLAPIPath reports whether path is the XML API endpoint: /XMLAPI in any case,
// possibly followed by a slash or a ;jsessionid path parameter.
func isXMLAPIPath(path string) bool {
	const endpoint = "/xmlapi"
	if len(path) < len(endpoint) || !strings.EqualFold(path[:len(endpoint)], endpoint) {
		return false
	}
	rest := path[len(endpoint):]
	return rest == "" || rest == "/" || rest[0] == ';'
}
