package emulator

import (
	"encoding/xml"
	"net/http"
	"strings"
	"time"
)

const (
	wsaAnonymous   = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
	wsaFaultAction = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
	partnerAPINS   = "http://exacttarget.com/wsdl/partnerAPI"
	apiFaultNS     = "urn:fault.partner.exacttarget.com"
)

// Fault strings Marketing Cloud answers authentication failures with.
const (
	FaultTokenExpired   = "Token Expired"
	FaultLoginFailed    = "Login Failed"
	FaultRateLimited    = "Rate Limited"
	FaultNoSecurity     = "Security requirements are not satisfied because the security header is not present in the incoming message."
	FaultDuplicateCreds = "The SOAP header carries more than one credential; send exactly one."
)

// faultKind is the class of a SOAP fault: it decides the fault code.
type faultKind int

const (
	faultSecurity faultKind = iota // q0:Security (1.1) / Sender + q0:Security subcode (1.2)
	faultClient                    // soap:Client (1.1) / soap:Sender (1.2)
	faultServer                    // soap:Server (1.1) / soap:Receiver (1.2)
)

type soapFault struct {
	kind   faultKind
	reason string
	detail string // inner XML of the detail element; empty for none
}

// soapReply is everything a response envelope is built from.
type soapReply struct {
	version   SOAPVersion
	action    string // wsa:Action
	relatesTo string // the request's MessageID
	now       time.Time
	body      string // inner XML of the Body
}

func (v SOAPVersion) namespace() string {
	if v == SOAP12 {
		return SOAP12NS
	}
	return SOAP11NS
}

func (v SOAPVersion) contentType() string {
	if v == SOAP12 {
		return "application/soap+xml; charset=utf-8"
	}
	return "text/xml; charset=utf-8"
}

// writeSOAP answers with a whole envelope: WS-Addressing and a WS-Security
// timestamp in the Header, as Marketing Cloud does, and rep.body in the Body.
func writeSOAP(w http.ResponseWriter, status int, rep soapReply) {
	relatesTo := rep.relatesTo
	if relatesTo == "" {
		relatesTo = "urn:uuid:" + NewUUID()
	}
	created := rep.now.UTC()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	b.WriteString(`<soap:Envelope xmlns:soap="` + rep.version.namespace() + `"`)
	b.WriteString(` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"`)
	b.WriteString(` xmlns:wsa="` + WSANS + `" xmlns:wsse="` + WSSENS + `" xmlns:wsu="` + WSUNS + `">`)
	b.WriteString(`<soap:Header>`)
	b.WriteString(`<wsa:Action>` + escape(rep.action) + `</wsa:Action>`)
	b.WriteString(`<wsa:MessageID>urn:uuid:` + NewUUID() + `</wsa:MessageID>`)
	b.WriteString(`<wsa:RelatesTo>` + escape(relatesTo) + `</wsa:RelatesTo>`)
	b.WriteString(`<wsa:To>` + wsaAnonymous + `</wsa:To>`)
	b.WriteString(`<wsse:Security><wsu:Timestamp wsu:Id="Timestamp-` + NewUUID() + `">`)
	b.WriteString(`<wsu:Created>` + created.Format(timestampLayout) + `</wsu:Created>`)
	b.WriteString(`<wsu:Expires>` + created.Add(5*time.Minute).Format(timestampLayout) + `</wsu:Expires>`)
	b.WriteString(`</wsu:Timestamp></wsse:Security>`)
	b.WriteString(`</soap:Header><soap:Body>`)
	b.WriteString(rep.body)
	b.WriteString(`</soap:Body></soap:Envelope>`)

	w.Header().Set("Content-Type", rep.version.contentType())
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

const timestampLayout = "2006-01-02T15:04:05.000Z"

// faultXML renders a Fault element in the envelope's version; actor is the URL of
// the endpoint that raised it.
func faultXML(v SOAPVersion, f soapFault, actor string) string {
	var b strings.Builder
	b.WriteString(`<soap:Fault>`)
	if v == SOAP11 {
		switch f.kind {
		case faultSecurity:
			b.WriteString(`<faultcode xmlns:q0="` + WSSENS + `">q0:Security</faultcode>`)
		case faultClient:
			b.WriteString(`<faultcode>soap:Client</faultcode>`)
		case faultServer:
			b.WriteString(`<faultcode>soap:Server</faultcode>`)
		}
		b.WriteString(`<faultstring>` + escape(f.reason) + `</faultstring>`)
		b.WriteString(`<faultactor>` + escape(actor) + `</faultactor>`)
		if f.detail != "" {
			b.WriteString(`<detail>` + f.detail + `</detail>`)
		}
	} else {
		b.WriteString(`<soap:Code>`)
		switch f.kind {
		case faultSecurity:
			b.WriteString(`<soap:Value>soap:Sender</soap:Value>`)
			b.WriteString(`<soap:Subcode><soap:Value xmlns:q0="` + WSSENS + `">q0:Security</soap:Value></soap:Subcode>`)
		case faultClient:
			b.WriteString(`<soap:Value>soap:Sender</soap:Value>`)
		case faultServer:
			b.WriteString(`<soap:Value>soap:Receiver</soap:Value>`)
		}
		b.WriteString(`</soap:Code>`)
		b.WriteString(`<soap:Reason><soap:Text xml:lang="en">` + escape(f.reason) + `</soap:Text></soap:Reason>`)
		b.WriteString(`<soap:Role>` + escape(actor) + `</soap:Role>`)
		if f.detail != "" {
			b.WriteString(`<soap:Detail>` + f.detail + `</soap:Detail>`)
		}
	}
	b.WriteString(`</soap:Fault>`)
	return b.String()
}

// rateLimitedDetail is the detail of a throttling fault.
const rateLimitedDetail = `<apifault xmlns="` + apiFaultNS + `"><Code>17</Code><Message>` + FaultRateLimited + `</Message></apifault>`

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writing to a strings.Builder cannot fail
	return b.String()
}
