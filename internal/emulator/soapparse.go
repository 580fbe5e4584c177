package emulator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Namespaces a Marketing Cloud SOAP request may use.
const (
	SOAP11NS      = "http://schemas.xmlsoap.org/soap/envelope/"
	SOAP12NS      = "http://www.w3.org/2003/05/soap-envelope"
	ExactTargetNS = "http://exacttarget.com"
	WSSENS        = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	WSUNS         = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	WSANS         = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
)

// SOAPVersion is 1.1 or 1.2.
type SOAPVersion int

// SOAP versions.
const (
	SOAP11 SOAPVersion = iota
	SOAP12
)

// CredentialKind says how a SOAP request authenticates.
type CredentialKind int

// Credential kinds a Marketing Cloud SOAP header may carry.
const (
	FuelOAuth     CredentialKind = iota + 1 // <fueloauth xmlns="http://exacttarget.com">TOKEN</fueloauth>
	LegacyOAuth                             // <oAuth xmlns="http://exacttarget.com"><oAuthToken>TOKEN</oAuthToken></oAuth>
	UsernameToken                           // <wsse:Security><wsse:UsernameToken>…</wsse:UsernameToken></wsse:Security>
)

// Credential is one credential block found in a SOAP header.
type Credential struct {
	Kind     CredentialKind
	Token    string // FuelOAuth and LegacyOAuth
	Username string // UsernameToken
	Password string // UsernameToken
}

// Envelope is what the emulator needs from a SOAP request.
type Envelope struct {
	Version     SOAPVersion
	Credentials []Credential // every credential block of the Header, in order
	MessageID   string       // WS-Addressing MessageID, if any
	Operation   string       // local name of the Body's first element, e.g. "RetrieveRequestMsg"
	OperationNS string       // its namespace, e.g. the partner API's
	Objects     int          // how many Objects children it has (Create, Update, Delete)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ParseEnvelope reads a SOAP 1.1 or 1.2 envelope: its version, the credentials in
// its Header, its WS-Addressing MessageID and the operation in its Body. Header and
// Body may come in either order; prefixes are irrelevant, namespaces are what count.
func ParseEnvelope(b []byte) (*Envelope, error) {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, utf8BOM)))
	root, err := nextStart(d)
	if err != nil {
		return nil, fmt.Errorf("no root element: %w", err)
	}
	env := &Envelope{}
	switch root.Name {
	case xml.Name{Space: SOAP11NS, Local: "Envelope"}:
		env.Version = SOAP11
	case xml.Name{Space: SOAP12NS, Local: "Envelope"}:
		env.Version = SOAP12
	default:
		return nil, fmt.Errorf("root element is {%s}%s, not a SOAP Envelope", root.Name.Space, root.Name.Local)
	}
	ns := root.Name.Space

	sawBody := false
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name {
			case xml.Name{Space: ns, Local: "Header"}:
				err = parseHeader(d, env)
			case xml.Name{Space: ns, Local: "Body"}:
				if sawBody {
					return nil, errors.New("more than one Body")
				}
				sawBody = true
				err = parseBody(d, env)
			default:
				err = d.Skip()
			}
			if err != nil {
				return nil, unexpectedEOF(err)
			}
		case xml.EndElement:
			if !sawBody {
				return nil, errors.New("envelope has no Body")
			}
			return env, nil
		}
	}
}

func parseHeader(d *xml.Decoder, env *Envelope) error {
	return eachChild(d, func(t *xml.StartElement) error { return parseHeaderBlock(d, t, env) })
}

func parseHeaderBlock(d *xml.Decoder, start *xml.StartElement, env *Envelope) error {
	name := start.Name
	switch {
	case name.Local == "fueloauth" && (name.Space == ExactTargetNS || name.Space == ""),
		name.Local == "oAuth" && name.Space == ExactTargetNS:
		v, err := decode[headerText](d, start)
		cred := Credential{Kind: FuelOAuth, Token: strings.TrimSpace(v.Text)}
		if name.Local == "oAuth" {
			cred = Credential{Kind: LegacyOAuth, Token: strings.TrimSpace(v.Token)}
		}
		env.Credentials = append(env.Credentials, cred)
		return err
	case name.Local == "Security" && name.Space == WSSENS:
		v, err := decode[struct {
			UsernameToken *struct {
				Username string `xml:"Username"`
				Password string `xml:"Password"`
			} `xml:"UsernameToken"`
		}](d, start)
		if u := v.UsernameToken; u != nil {
			env.Credentials = append(env.Credentials, Credential{
				Kind:     UsernameToken,
				Username: strings.TrimSpace(u.Username),
				Password: u.Password,
			})
		}
		return err
	case name.Local == "MessageID":
		v, err := decode[headerText](d, start)
		env.MessageID = strings.TrimSpace(v.Text)
		return err
	}
	return d.Skip()
}

// headerText is what a fueloauth block and a MessageID hold, their text, and
// what a legacy oAuth block holds, its oAuthToken.
type headerText struct {
	Text  string `xml:",chardata"`
	Token string `xml:"oAuthToken"`
}

// decode decodes the element just started into a T. On an error the envelope is
// dropped, so what decode returned with it is never read.
func decode[T any](d *xml.Decoder, start *xml.StartElement) (T, error) {
	var v T
	err := d.DecodeElement(&v, start)
	return v, err
}

// parseBody reads the Body: the name of its first element, the operation, and
// how many Objects that element holds; it consumes the rest of the Body.
func parseBody(d *xml.Decoder, env *Envelope) error {
	return eachChild(d, func(t *xml.StartElement) error {
		if env.Operation != "" {
			return d.Skip()
		}
		env.Operation, env.OperationNS = t.Name.Local, t.Name.Space
		var err error
		env.Objects, err = countChildren(d, "Objects")
		return err
	})
}

// countChildren counts the children named local of the element just started, and
// consumes the element.
func countChildren(d *xml.Decoder, local string) (int, error) {
	n := 0
	err := eachChild(d, func(t *xml.StartElement) error {
		if t.Name.Local == local {
			n++
		}
		return d.Skip()
	})
	return n, err
}

// eachChild calls child for each child element of the element just started, which
// child must consume, and then consumes the element's end.
func eachChild(d *xml.Decoder, child func(*xml.StartElement) error) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if err := child(&t); err != nil {
				return err
			}
		}
	}
}

// nextStart returns the first start element, skipping the XML declaration,
// comments, processing instructions and whitespace before it.
func nextStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, errors.New("text before the root element")
			}
		}
	}
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
