package envelope

import (
	"encoding/xml"
	"io"
	"strings"
)

// A Fault is a SOAP 1.1 or 1.2 Fault from a response Body. It is an error,
// so it can be returned as one.
type Fault struct {
	// Version is the SOAP version of the envelope it came in.
	Version Version
	// Code is faultcode (SOAP 1.1) or Code/Value (SOAP 1.2) with its prefix
	// resolved: Marketing Cloud's expired token is
	// {Space: NamespaceWSSE, Local: "Security"}.
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
	if f.Code.Space == NamespaceWSSE {
		return true
	}
	for _, c := range f.Subcodes {
		if c.Space == NamespaceWSSE {
			return true
		}
	}
	return false
}

// ParseFault reads a SOAP response from r, reading at most limit bytes
// ([DefaultLimit] if limit ≤ 0), and returns the Fault its Body holds. It
// stops reading as soon as the Fault ends. It returns [ErrNoFault] if the
// Body's first element is not a Fault, and an [*Error] if the response is
// not a SOAP envelope or the Fault does not end within limit bytes.
func ParseFault(r io.Reader, limit int64) (*Fault, error) {
	p := newParser(r, limit)
	root, err := p.root()
	if err != nil {
		return nil, err
	}
	v := versionOf(root.Name.Space)
	if v == 0 || root.Name.Local != "Envelope" {
		return nil, newError(ErrNotEnvelope, int(p.d.InputOffset()), "the root element is <%s>, not a SOAP Envelope", clip([]byte(root.Name.Local)))
	}
	for {
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == v.Namespace() && t.Name.Local == "Body" {
				return p.bodyFault(v)
			}
			if err := p.skip(); err != nil {
				return nil, err
			}
		case xml.EndElement:
			return nil, newError(ErrNotEnvelope, int(p.d.InputOffset()), "the Envelope has no Body")
		}
	}
}

// bodyFault reads the Body, whose start tag was just read, up to its Fault.
func (p *parser) bodyFault(v Version) (*Fault, error) {
	for {
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != v.Namespace() || t.Name.Local != "Fault" {
				return nil, ErrNoFault
			}
			f := &Fault{Version: v}
			return f, p.fault(f)
		case xml.EndElement:
			return nil, ErrNoFault
		}
	}
}

// fault fills f from the children of the Fault whose start tag was just read.
// Children are known by local name alone: SOAP 1.1 leaves them unqualified,
// but some servers qualify them.
func (p *parser) fault(f *Fault) error {
	return p.children(func(child xml.StartElement) (err error) {
		switch child.Name.Local {
		case "faultcode":
			f.Code, err = p.qname()
		case "faultstring":
			f.Reason, err = p.text()
		case "faultactor", "Role":
			f.Actor, err = p.text()
		case "Node":
			f.Node, err = p.text()
		case "detail", "Detail":
			f.Detail, err = p.inner()
		case "Code":
			err = p.code(f, false)
		case "Reason":
			err = p.reason(f)
		default:
			err = p.skip()
		}
		return err
	})
}

// code reads a SOAP 1.2 Code, or a Subcode when sub is true.
func (p *parser) code(f *Fault, sub bool) error {
	return p.children(func(child xml.StartElement) error {
		switch child.Name.Local {
		case "Value":
			name, err := p.qname()
			if sub {
				f.Subcodes = append(f.Subcodes, name)
			} else {
				f.Code = name
			}
			return err
		case "Subcode":
			return p.code(f, true)
		default:
			return p.skip()
		}
	})
}

// reason reads a SOAP 1.2 Reason, keeping its first Text.
func (p *parser) reason(f *Fault) error {
	return p.children(func(child xml.StartElement) (err error) {
		if child.Name.Local == "Text" && f.Reason == "" {
			f.Reason, err = p.text()
			return err
		}
		return p.skip()
	})
}
