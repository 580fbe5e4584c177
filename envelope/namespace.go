package envelope

// The namespaces and URIs envelope reads and writes.
const (
	uriSOAP11      = "http://schemas.xmlsoap.org/soap/envelope/"
	uriSOAP12      = "http://www.w3.org/2003/05/soap-envelope"
	uriWSSE        = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" // WS-Security 1.0 "secext"
	uriWSU         = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	uriExactTarget = "http://exacttarget.com"
	uriXML         = "http://www.w3.org/XML/1998/namespace" // the prefix xml's, and no other's

	uriPasswordText   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
	uriPasswordDigest = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	uriBase64Binary   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// version is the SOAP version of an envelope, told by its namespace.
type version uint8

const (
	soap11 version = iota + 1 // http://schemas.xmlsoap.org/soap/envelope/
	soap12                    // http://www.w3.org/2003/05/soap-envelope
)

// versions holds the envelope namespace of each SOAP version, and its number
// as Fault.Version has it.
var versions = [...]struct{ namespace, number string }{
	soap11: {uriSOAP11, "1.1"},
	soap12: {uriSOAP12, "1.2"},
}

// namespace returns the envelope namespace of v, or "" if v is not a version.
func (v version) namespace() string { return versions[v].namespace }

// number returns "1.1" or "1.2".
func (v version) number() string { return versions[v].number }

// versionOf returns the SOAP version whose envelope namespace is ns, or 0.
func versionOf(ns string) version {
	switch ns {
	case uriSOAP11:
		return soap11
	case uriSOAP12:
		return soap12
	}
	return 0
}
