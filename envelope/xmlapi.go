package envelope

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"
)

// xmlAPISessionInvalid is the Acoustic XML API error for an expired or
// invalid session or access token (class SP.Admin).
const xmlAPISessionInvalid = 145

// An XMLAPIResult is the outcome of an Acoustic Campaign XML API call. The
// API answers errors with HTTP 200 and
//
//	<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT>
//	<Fault><FaultString>…</FaultString><detail><error><errorid>145</errorid>
//	<class>SP.Admin</class>…</error></detail></Fault></Body></Envelope>
type XMLAPIResult struct {
	// Success is RESULT/SUCCESS read as true, TRUE or SUCCESS (any case).
	Success bool
	// FaultString is Fault/FaultString, when the call failed.
	FaultString string
	// ErrorID is Fault/detail/error/errorid, or 0.
	ErrorID int
	// Class is Fault/detail/error/class, such as SP.Admin.
	Class string
}

// IsAuth reports whether the call failed because the session or access
// token has expired or is invalid (errorid 145), so a fresh token may
// succeed. IsAuth is false for a nil result.
func (r *XMLAPIResult) IsAuth() bool {
	return r != nil && !r.Success && r.ErrorID == xmlAPISessionInvalid
}

// ParseXMLAPIResult reads an Acoustic XML API response from r, reading at
// most limit bytes ([DefaultLimit] if limit ≤ 0). It stops as soon as it
// has read SUCCESS true, so a large successful answer costs little; a
// failure is read to the end of its Body. Element names are matched in any
// case. An empty or non-XML response is an [ErrMalformed] error, a root
// other than Envelope an [ErrNotEnvelope] one.
func ParseXMLAPIResult(r io.Reader, limit int64) (*XMLAPIResult, error) {
	p := newParser(r, limit)
	root, err := p.root()
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(root.Name.Local, "Envelope") {
		return nil, newError(ErrNotEnvelope, int(p.d.InputOffset()), "the root element is <%s>, not an XML API Envelope", clip([]byte(root.Name.Local)))
	}
	res := new(XMLAPIResult)
	path := []string{"envelope"}
	for {
		tok, err := p.next()
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
				text, err = p.text()
				res.Success = strings.EqualFold(text, "true") || strings.EqualFold(text, "success")
				if res.Success && err == nil {
					return res, nil
				}
			case "envelope/body/fault/faultstring":
				res.FaultString, err = p.text()
			case "envelope/body/fault/detail/error/errorid":
				text, err = p.text()
				res.ErrorID, _ = strconv.Atoi(text)
			case "envelope/body/fault/detail/error/class":
				res.Class, err = p.text()
			default:
				continue
			}
			if err != nil {
				return nil, err
			}
			path = path[:len(path)-1] // text read the end tag
		}
	}
}
