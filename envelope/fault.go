package envelope

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/tokentrip/tokentrip/internal/xmlread"
)

// A Fault is a SOAP 1.1 or 1.2 Fault from a response Body. It is an error,
// so it can be returned as one.
type Fault struct {
	// Version is the SOAP version of the envelope it came in: "1.1" or "1.2".
	Version string
	// Code is faultcode (SOAP 1.1) or Code/Value (SOAP 1.2) with its prefix
	// resolved to a namespace: soap:Client is Client in
	// http://schemas.xmlsoap.org/soap/envelope/, and Marketing Cloud's
	// expired token is Security in WS-Security's namespace,
	// http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd.
	Code xml.Name
	// Subcodes are the SOAP 1.2 Subcode/Value names, outermost first.
	Subcodes []xml.Name
	// Reason is faultstring (SOAP 1.1) or the first Reason/Text (SOAP 1.2).
	Reason string
	// Actor is faultactor (SOAP 1.1) or Role (SOAP 1.2).
	Actor string
	// Node is the SOAP 1.2 Node.
	Node string
	// Detail is the raw XML inside detail (SOAP 1.1) or Detail (SOAP 1.2),
	// for xml.Unmarshal. Namespace declarations made outside it do not come
	// with it.
	Detail []byte
}

// Error returns the fault's code and reason, e.g. "SOAP fault Security:
// Token Expired".
func (f *Fault) Error() string {
	return "SOAP fault " + f.Code.Local + ": " + f.Reason
}

// IsAuth reports whether the fault says the credential was rejected, so a
// fresh token may succeed where this one failed: a reason of "Token Expired"
// or "Login Failed" (in any case), or a code or subcode in the WS-Security
// namespace, where Marketing Cloud puts them (q0:Security). Throttling
// ("Rate Limited") and application errors are not auth faults. IsAuth is
// false for a nil Fault.
func (f *Fault) IsAuth() bool {
	if f == nil {
		return false
	}
	reason := strings.TrimSpace(f.Reason)
	if strings.EqualFold(reason, "Token Expired") || strings.EqualFold(reason, "Login Failed") {
		return true
	}
	if f.Code.Space == uriWSSE {
		return true
	}
	for _, c := range f.Subcodes {
		if c.Space == uriWSSE {
			return true
		}
	}
	return false
}

// ParseFault reads a SOAP response from r, reading at most limit bytes
// (64 KiB if limit ≤ 0), and returns the Fault its Body holds. It stops
// reading as soon as the Fault ends. It returns [ErrNoFault] if the Body's
// first element is not a Fault, and an [*Error] if the response is not a
// SOAP envelope or the Fault does not end within limit bytes.
func ParseFault(r io.Reader, limit int64) (*Fault, error) {
	f, err := parseFault(xmlread.NewDecoder(r, limit))
	return f, refusal(err)
}

// kinds gives the decoder's refusals the kinds of *Error.
var kinds = [...]error{
	xmlread.Malformed: ErrMalformed,
	xmlread.Doctype:   ErrDoctype,
	xmlread.Encoding:  ErrEncoding,
	xmlread.TooLarge:  ErrTooLarge,
}

// refusal turns a refusal of the decoder into an *Error of the same kind; any
// other error is returned as it is.
func refusal(err error) error {
	var e *xmlread.Error
	if !errors.As(err, &e) {
		return err
	}
	return &Error{Kind: kinds[e.Kind], Offset: e.Offset, Msg: e.Msg}
}

func parseFault(d *xmlread.Decoder) (*Fault, error) {
	root, err := d.Root()
	if err != nil {
		return nil, err
	}
	v := versionOf(root.Name.Space)
	if v == 0 || root.Name.Local != "Envelope" {
		return nil, newError(ErrNotEnvelope, int(d.Offset()), "the root element is <%s>, not a SOAP Envelope", clip([]byte(root.Name.Local)))
	}
	for {
		child, ok, err := d.Child()
		switch {
		case err != nil:
			return nil, err
		case !ok:
			return nil, newError(ErrNotEnvelope, int(d.Offset()), "the Envelope has no Body")
		case child.Name.Space == v.namespace() && child.Name.Local == "Body":
			// The Body's first element is the Fault, or there is none.
			first, ok, err := d.Child()
			if err != nil {
				return nil, err
			}
			if !ok || first.Name.Space != v.namespace() || first.Name.Local != "Fault" {
				return nil, ErrNoFault
			}
			f := &Fault{Version: v.number()}
			return f, readFault(d, f)
		}
		if err := d.Skip(); err != nil {
			return nil, err
		}
	}
}

// readFault fills f from the children of the Fault whose start tag was just
// read. Children are known by local name alone: SOAP 1.1 leaves them
// unqualified, but some servers qualify them.
func readFault(d *xmlread.Decoder, f *Fault) error {
	return d.Children(func(child xml.StartElement) (err error) {
		switch child.Name.Local {
		case "faultcode":
			f.Code, err = d.QName()
		case "faultstring":
			f.Reason, err = d.Text()
		case "faultactor", "Role":
			f.Actor, err = d.Text()
		case "Node":
			f.Node, err = d.Text()
		case "detail", "Detail":
			f.Detail, err = d.Inner()
		case "Code":
			err = readCode(d, f, false)
		case "Reason":
			err = readReason(d, f)
		default:
			err = d.Skip()
		}
		return err
	})
}

// readCode reads a SOAP 1.2 Code, or a Subcode when sub is true.
func readCode(d *xmlread.Decoder, f *Fault, sub bool) error {
	return d.Children(func(child xml.StartElement) error {
		switch child.Name.Local {
		case "Value":
			name, err := d.QName()
			if sub {
				f.Subcodes = append(f.Subcodes, name)
			} else {
				f.Code = name
			}
			return err
		case "Subcode":
			return readCode(d, f, true)
		default:
			return d.Skip()
		}
	})
}

// readReason reads a SOAP 1.2 Reason, keeping its first Text.
func readReason(d *xmlread.Decoder, f *Fault) error {
	return d.Children(func(child xml.StartElement) (err error) {
		if child.Name.Local == "Text" && f.Reason == "" {
			f.Reason, err = d.Text()
			return err
		}
		return d.Skip()
	})
}
