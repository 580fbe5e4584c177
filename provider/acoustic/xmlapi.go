package acoustic

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/tokentrip/tokentrip/internal/httpx"
	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/internal/xmlread"
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
	res, err := parseXMLAPIResult(bytes.NewReader(head), xmlAPIPeek)
	return err == nil && res.isAuth()
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

// xmlAPISessionInvalid is the XML API error for an expired or invalid session
// or access token (class SP.Admin).
const xmlAPISessionInvalid = 145

// An xmlAPIResult is the outcome of an XML API call. The API answers errors
// with HTTP 200 and
//
//	<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT>
//	<Fault><FaultString>…</FaultString><detail><error><errorid>145</errorid>
//	<class>SP.Admin</class>…</error></detail></Fault></Body></Envelope>
type xmlAPIResult struct {
	success     bool   // RESULT/SUCCESS read as true, TRUE or SUCCESS (any case)
	faultString string // Fault/FaultString, when the call failed
	errorID     int    // Fault/detail/error/errorid, or 0
	class       string // Fault/detail/error/class, such as SP.Admin
}

// isAuth reports whether the call failed because the session or access token
// has expired or is invalid (errorid 145), so a fresh token may succeed. It is
// false for a nil result.
func (r *xmlAPIResult) isAuth() bool {
	return r != nil && !r.success && r.errorID == xmlAPISessionInvalid
}

// errNotXMLAPI: the answer's root element is not an XML API Envelope.
var errNotXMLAPI = providerkit.NewError(name, "not an XML API answer")

// parseXMLAPIResult reads an XML API response from r, reading at most limit
// bytes (64 KiB if limit ≤ 0). It stops as soon as it has read SUCCESS true, so
// a large successful answer costs little; a failure is read to the end of its
// Body. Element names are matched in any case. An empty, non-XML or too long
// response is an *xmlread.Error, a root other than Envelope errNotXMLAPI.
func parseXMLAPIResult(r io.Reader, limit int64) (*xmlAPIResult, error) {
	d := xmlread.NewDecoder(r, limit)
	root, err := d.Root()
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(root.Name.Local, "Envelope") {
		return nil, fmt.Errorf("%w: the root element at byte %d is <%.64s>", errNotXMLAPI, d.Offset(), root.Name.Local)
	}
	res := new(xmlAPIResult)
	path := []string{"envelope"}
	for {
		tok, err := d.Next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			ended := path[len(path)-1]
			path = path[:len(path)-1]
			if len(path) == 0 || len(path) == 1 && ended == "body" {
				return res, nil
			}
		case xml.StartElement:
			path = append(path, strings.ToLower(t.Name.Local))
			var text string
			switch strings.Join(path, "/") {
			case "envelope/body/result/success":
				text, err = d.Text()
				res.success = strings.EqualFold(text, "true") || strings.EqualFold(text, "success")
				if res.success && err == nil {
					return res, nil
				}
			case "envelope/body/fault/faultstring":
				res.faultString, err = d.Text()
			case "envelope/body/fault/detail/error/errorid":
				text, err = d.Text()
				res.errorID, _ = strconv.Atoi(text)
			case "envelope/body/fault/detail/error/class":
				res.class, err = d.Text()
			default:
				continue
			}
			if err != nil {
				return nil, err
			}
			path = path[:len(path)-1] // Text read the end tag
		}
	}
}
