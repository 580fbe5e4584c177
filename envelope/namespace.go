package envelope

// Namespaces a caller meets in envelopes and in [Fault.Code].
const (
	// NamespaceSOAP11 is the SOAP 1.1 envelope namespace.
	NamespaceSOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
	// NamespaceSOAP12 is the SOAP 1.2 envelope namespace.
	NamespaceSOAP12 = "http://www.w3.org/2003/05/soap-envelope"
	// NamespaceWSSE is the OASIS WS-Security 1.0 "secext" namespace: the
	// Security header and the fault codes Marketing Cloud uses for
	// rejected credentials live in it.
	NamespaceWSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
)

const (
	nsWSU         = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	nsExactTarget = "http://exacttarget.com"
	nsXML         = "http://www.w3.org/XML/1998/namespace" // the prefix xml's, and no other's

	uriPasswordText   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
	uriPasswordDigest = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	uriBase64Binary   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// Version is the SOAP version of an envelope, told by its namespace.
type Version uint8

// The SOAP versions an envelope can have.
const (
	SOAP11 Version = iota + 1 // http://schemas.xmlsoap.org/soap/envelope/
	SOAP12                    // http://www.w3.org/2003/05/soap-envelope
)

// Namespace returns the envelope namespace of v, or "" if v is not a version.
func (v Version) Namespace() string {
	switch v {
	case SOAP11:
		return NamespaceSOAP11
	case SOAP12:
		return NamespaceSOAP12
	}
	return ""
}

// String returns "SOAP 1.1" or "SOAP 1.2".
func (v Version) String() string {
	switch v {
	case SOAP11:
		return "SOAP 1.1"
	case SOAP12:
		return "SOAP 1.2"
	}
	return "unknown SOAP version"
}

// versionOf returns the SOAP version whose envelope namespace is ns, or 0.
func versionOf(ns string) Version {
	switch ns {
	case NamespaceSOAP11:
		return SOAP11
	case NamespaceSOAP12:
		return SOAP12
	}
	return 0
}
