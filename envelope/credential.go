package envelope

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/beevik/etree"
)

// redacted stands in for a secret wherever a Credential or a config is shown.
const redacted = "[redacted]"

// writeSettings makes etree keep every character of a value: carriage returns
// are escaped rather than left for a parser to turn into line feeds.
var writeSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}

// A Credential is the header block that [NewReader] and [InjectBytes] put
// into an envelope: a Marketing Cloud fueloauth token or a WS-Security
// UsernameToken. Make one with [FuelOAuth] or [UsernameToken]; the zero
// value is refused.
//
// A Credential is immutable and safe for concurrent use. Printing it with any
// fmt verb shows its kind, never its token or password.
type Credential struct {
	fuel []byte               // FuelOAuth: the whole block, serialised once
	user *UsernameTokenConfig // UsernameToken: a private copy of the config
}

// FuelOAuth returns the credential Marketing Cloud expects with an OAuth
// access token: <fueloauth xmlns="http://exacttarget.com">token</fueloauth>.
// The block is built and escaped once, here, so injecting it costs a copy.
func FuelOAuth(token string) Credential {
	el := etree.NewElement("fueloauth")
	el.CreateAttr("xmlns", uriExactTarget)
	el.SetText(token)
	var b bytes.Buffer
	el.WriteTo(&b, &writeSettings)
	return Credential{fuel: b.Bytes()}
}

// UsernameToken returns a WS-Security UsernameToken credential, the way
// Marketing Cloud API users authenticate without OAuth:
//
//	<wsse:Security xmlns:wsse="…secext-1.0.xsd" soap:mustUnderstand="1">
//	  <wsse:UsernameToken>
//	    <wsse:Username>…</wsse:Username>
//	    <wsse:Password Type="…#PasswordText">…</wsse:Password>
//	  </wsse:UsernameToken>
//	</wsse:Security>
//
// (written without the indentation). The mustUnderstand attribute is "1" for
// both SOAP versions, a value SOAP 1.1 requires and SOAP 1.2's xs:boolean
// accepts. Its prefix is the one the envelope's Header uses; when the Header
// is in a default namespace, the block declares xmlns:soap for it. The block
// is built for each envelope, since the prefix, the nonce and the creation
// time differ between envelopes.
func UsernameToken(cfg UsernameTokenConfig) Credential {
	return Credential{user: &cfg}
}

// Format prints the kind of credential and hides its secret, whatever the
// verb: "fueloauth([redacted])", or with %#v envelope.FuelOAuth("[redacted]").
func (c Credential) Format(f fmt.State, verb rune) { format(f, verb, c) }

// text names the kind of credential and hides its secret.
func (c Credential) text() string {
	switch {
	case c.fuel != nil:
		return "fueloauth(" + redacted + ")"
	case c.user != nil:
		return "UsernameToken(" + c.user.text() + ")"
	}
	return "envelope.Credential{}"
}

// goSyntax is like text but in Go syntax, for %#v.
func (c Credential) goSyntax() string {
	switch {
	case c.fuel != nil:
		return `envelope.FuelOAuth("` + redacted + `")`
	case c.user != nil:
		return "envelope.UsernameToken(" + c.user.goSyntax() + ")"
	}
	return "envelope.Credential{}"
}

// appendBlock appends the serialised block to dst. prefix is the namespace
// prefix the Header uses for the SOAP namespace of version v ("" when the
// Header is in a default namespace).
func (c Credential) appendBlock(dst, prefix []byte, v version) ([]byte, error) {
	switch {
	case c.fuel != nil:
		return append(dst, c.fuel...), nil
	case c.user != nil:
		el, err := c.user.element(string(prefix), v)
		if err != nil {
			return dst, err
		}
		b := bytes.NewBuffer(dst)
		el.WriteTo(b, &writeSettings)
		return b.Bytes(), nil
	}
	return dst, errZeroCredential
}

var errZeroCredential = errors.New("envelope: zero Credential: make one with FuelOAuth or UsernameToken")

// PasswordType says how a UsernameToken carries its password.
type PasswordType uint8

const (
	// PasswordText sends the password itself, as Marketing Cloud expects.
	PasswordText PasswordType = iota
	// PasswordDigest sends Base64(SHA-1(nonce + created + password)), for
	// services that accept it; it implies Nonce and Created.
	PasswordDigest
)

// String returns "PasswordText" or "PasswordDigest".
func (t PasswordType) String() string {
	if t == PasswordDigest {
		return "PasswordDigest"
	}
	if t == PasswordText {
		return "PasswordText"
	}
	return "PasswordType(" + strconv.Itoa(int(t)) + ")"
}

// UsernameTokenConfig configures [UsernameToken]. Printing it, with fmt or
// encoding/json, shows the password as "[redacted]".
type UsernameTokenConfig struct {
	// Username and Password of an API user with web services permission.
	Username, Password string
	// PasswordType is PasswordText (the zero value) or PasswordDigest; any
	// other value is treated as PasswordText.
	PasswordType PasswordType
	// Nonce adds a fresh random wsse:Nonce to every envelope.
	Nonce bool
	// Created adds the wsu:Created time (UTC, to the second) to every envelope.
	Created bool
	// Now is the clock for Created; nil means time.Now.
	Now func() time.Time
	// Rand is the source of nonces; nil means crypto/rand.Reader.
	Rand io.Reader
}

// Format prints the config with the password hidden, whatever the verb:
// {Username:api.user Password:[redacted] PasswordType:PasswordText Nonce:false
// Created:false}, or the same in Go syntax with %#v.
func (c UsernameTokenConfig) Format(f fmt.State, verb rune) { format(f, verb, c) }

// text returns the config with the password hidden.
func (c UsernameTokenConfig) text() string {
	return fmt.Sprintf("{Username:%s Password:%s PasswordType:%v Nonce:%t Created:%t}",
		c.Username, hide(c.Password), c.PasswordType, c.Nonce, c.Created)
}

// goSyntax returns the config in Go syntax with the password hidden.
func (c UsernameTokenConfig) goSyntax() string {
	return fmt.Sprintf("envelope.UsernameTokenConfig{Username:%q, Password:%q, PasswordType:envelope.%v, Nonce:%t, Created:%t}",
		c.Username, hide(c.Password), c.PasswordType, c.Nonce, c.Created)
}

// MarshalJSON encodes the config with the password hidden, so that a config
// logged as JSON does not leak it.
func (c UsernameTokenConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username, Password, PasswordType string
		Nonce, Created                   bool
	}{c.Username, hide(c.Password), c.PasswordType.String(), c.Nonce, c.Created})
}

// hide returns "[redacted]" for a set secret and "" for an empty one, so a
// reader can still tell whether it was set.
func hide(secret string) string {
	if secret == "" {
		return ""
	}
	return redacted
}

// redactable is a value shown with its secrets hidden.
type redactable interface {
	text() string     // for every verb but %#v
	goSyntax() string // for %#v
}

// format prints v for any verb, so that no verb can reveal a secret: %#v
// prints goSyntax, %q the quoted text, every other verb the text.
func format(f fmt.State, verb rune, v redactable) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, v.goSyntax())
	case verb == 'q':
		io.WriteString(f, strconv.Quote(v.text()))
	default:
		io.WriteString(f, v.text())
	}
}

// element builds the wsse:Security block for an envelope whose Header uses
// prefix for the namespace of SOAP version v.
func (c *UsernameTokenConfig) element(prefix string, v version) (*etree.Element, error) {
	digest := c.PasswordType == PasswordDigest
	sec := etree.NewElement("wsse:Security")
	sec.CreateAttr("xmlns:wsse", uriWSSE)
	if c.Created || digest {
		sec.CreateAttr("xmlns:wsu", uriWSU)
	}
	// The Security element declares wsse and wsu itself, so a Header prefix
	// with one of those names would be shadowed: declare our own instead.
	if prefix == "" || prefix == "wsse" || prefix == "wsu" {
		prefix = "soap"
		sec.CreateAttr("xmlns:soap", v.namespace())
	}
	sec.CreateAttr(prefix+":mustUnderstand", "1")

	tok := sec.CreateElement("wsse:UsernameToken")
	tok.CreateElement("wsse:Username").SetText(c.Username)
	pw := tok.CreateElement("wsse:Password")

	var nonce []byte
	if c.Nonce || digest {
		nonce = make([]byte, 16)
		r := c.Rand
		if r == nil {
			r = rand.Reader
		}
		if _, err := io.ReadFull(r, nonce); err != nil {
			return nil, fmt.Errorf("envelope: making a UsernameToken nonce: %w", err)
		}
	}
	var created string
	if c.Created || digest {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		created = now().UTC().Format("2006-01-02T15:04:05Z")
	}

	if digest {
		h := sha1.New()
		h.Write(nonce)
		h.Write([]byte(created))
		h.Write([]byte(c.Password))
		pw.CreateAttr("Type", uriPasswordDigest)
		pw.SetText(base64.StdEncoding.EncodeToString(h.Sum(nil)))
	} else {
		pw.CreateAttr("Type", uriPasswordText)
		pw.SetText(c.Password)
	}
	if nonce != nil {
		n := tok.CreateElement("wsse:Nonce")
		n.CreateAttr("EncodingType", uriBase64Binary)
		n.SetText(base64.StdEncoding.EncodeToString(nonce))
	}
	if created != "" {
		tok.CreateElement("wsu:Created").SetText(created)
	}
	return sec, nil
}
