package acoustictest

import (
	"encoding/xml"
	"net/http"
	"net/url"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// XML API bodies.
const (
	xmlContentType = "text/xml;charset=UTF-8"

	xmlSuccess = `<Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>`

	// xmlSessionFault is how the XML API answers a call without a valid session.
	xmlSessionFault = `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/>` +
		`<FaultString>Session has expired or is invalid</FaultString>` +
		`<detail><error><errorid>145</errorid><module/><class>SP.Admin</class><method/></error></detail></Fault></Body></Envelope>`
)

// xmlFault renders an XML API fault without error details.
func xmlFault(text string) string {
	return `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/><FaultString>` +
		text + `</FaultString></Fault></Body></Envelope>`
}

// Faults the emulator answers with that Acoustic documents no code for.
const (
	faultTooManyRequests = "Too many concurrent requests for this organization"
	faultThrottled       = "Too many requests for this organization; try again later"
	faultInvalidXML      = "Invalid XML request"
)

// serveXMLAPI answers POST /XMLAPI. The request needs "Authorization: Bearer
// <access token>" and carries an <Envelope><Body><Operation>… either as the raw
// body or as the form field xml. Success is 200 with SUCCESS TRUE.
//
// Failures: over the concurrency cap, 429 with a fault "Too many concurrent
// requests for this organization" (the emulator's choice: Acoustic rejects the
// call but documents no code); throttled by ThrottleAPICalls, 429 with a fault
// "Too many requests…"; no valid token, the errorid 145 fault, or what
// WithSessionUnauthorized or WithSessionEmptyBody chose; a body that is not an
// Envelope with a Body, 200 with a fault "Invalid XML request".
func (s *Server) serveXMLAPI(w http.ResponseWriter, r *http.Request) {
	c := s.core
	if r.Method != http.MethodPost {
		c.Counters.Call(emulator.CallXMLAPI)
		c.Counters.Reject(emulator.ReasonBadRequest)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "the XML API takes POST", http.StatusMethodNotAllowed)
		return
	}
	body, done, ok := c.AdmitAPICall(w, r, emulator.CallXMLAPI, func() {
		writeXML(w, http.StatusTooManyRequests, xmlFault(faultTooManyRequests))
	})
	if !ok {
		return
	}
	defer done()
	envelope := body
	if emulator.MediaType(r) == "application/x-www-form-urlencoded" {
		if form, err := url.ParseQuery(string(body)); err == nil {
			envelope = []byte(form.Get("xml"))
		}
	}
	c.RecordEnvelope(envelope)
	if c.Faults.NextThrottled() {
		c.Counters.Reject(emulator.ReasonThrottled)
		writeXML(w, http.StatusTooManyRequests, xmlFault(faultThrottled))
		return
	}
	if reason := s.checkToken(r); reason != "" {
		c.Counters.Reject(reason)
		switch s.cfg.sessionFailure {
		case sessionUnauthorized:
			w.WriteHeader(http.StatusUnauthorized)
		case sessionEmptyBody:
			w.Header().Set("Content-Type", xmlContentType)
			w.WriteHeader(http.StatusOK)
		default:
			writeXML(w, http.StatusOK, xmlSessionFault)
		}
		return
	}
	if !isXMLAPIEnvelope(envelope) {
		c.Counters.Reject(emulator.ReasonMalformedEnvelope)
		writeXML(w, http.StatusOK, xmlFault(faultInvalidXML))
		return
	}
	writeXML(w, http.StatusOK, xmlSuccess)
}

// isXMLAPIEnvelope reports whether b is an <Envelope> whose <Body> holds an
// operation.
func isXMLAPIEnvelope(b []byte) bool {
	var env struct {
		XMLName xml.Name `xml:"Envelope"`
		Body    *struct {
			Operations []struct {
				XMLName xml.Name
			} `xml:",any"`
		} `xml:"Body"`
	}
	return xml.Unmarshal(b, &env) == nil && env.Body != nil && len(env.Body.Operations) > 0
}

// checkToken returns "" when the request carries a valid access token, else the
// rejection reason.
func (s *Server) checkToken(r *http.Request) string {
	value, ok := emulator.BearerToken(r)
	if !ok {
		return emulator.ReasonMissingToken
	}
	_, verdict := s.core.Tokens.Check(value, emulator.AccessToken)
	return verdict.Reason()
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", xmlContentType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
