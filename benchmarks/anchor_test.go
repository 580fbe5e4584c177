package benchmarks

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"sync"
)

// rawTokenInject is the fair anchor for injection: what a careful engineer
// writes with the standard library alone. encoding/xml's RawToken reads the
// envelope up to the end tag of its Header, where the block goes, or, when
// there is no Header, up to the Body's start tag, where a new Header goes;
// everything after that is copied as raw bytes. The bytes the decoder read
// are kept (through an io.TeeReader, in a pooled buffer) so that the prefix
// can be written out unchanged around the block.
//
// It handles the shapes a generated client sends: a Header written as a
// start and an end tag, holding no credential yet, or no Header at all.
// Prefixes are compared as written (RawToken does not resolve namespaces),
// and a Header after the Body is not looked for.
func rawTokenInject(dst io.Writer, src io.Reader) error {
	kept := keptBuffers.Get().(*bytes.Buffer)
	defer keptBuffers.Put(kept)
	kept.Reset()
	d := xml.NewDecoder(io.TeeReader(src, kept))
	var (
		envPrefix string
		depth     int
		at        = -1 // where the block goes
		newHeader bool
	)
	for at < 0 {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if err != nil {
			if err == io.EOF {
				return errors.New("not a SOAP envelope: no Header end or Body start")
			}
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1 && t.Name.Local != "Envelope":
				return errors.New("not a SOAP envelope")
			case depth == 1:
				envPrefix = t.Name.Space
			case depth == 2 && t.Name.Space == envPrefix && t.Name.Local == "Body":
				at, newHeader = int(off), true
			}
		case xml.EndElement:
			if depth == 2 && t.Name.Space == envPrefix && t.Name.Local == "Header" {
				at = int(off)
			}
			depth--
		}
	}
	prefix := kept.Bytes()
	var w errWriter
	w.write(dst, prefix[:at])
	if newHeader {
		w.write(dst, headerTag(envPrefix, false))
	}
	w.write(dst, fuelBlock)
	if newHeader {
		w.write(dst, headerTag(envPrefix, true))
	}
	w.write(dst, prefix[at:])
	if w.err != nil {
		return w.err
	}
	_, err := io.Copy(dst, src)
	return err
}

var keptBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 8<<10)) }}

// fuelBlock is the block tokentrip's FuelOAuth(soapToken) adds.
var fuelBlock = []byte(`<fueloauth xmlns="http://exacttarget.com">` + soapToken + `</fueloauth>`)

// headerTag returns <prefix:Header>, or the end tag.
func headerTag(prefix string, end bool) []byte {
	t := "<"
	if end {
		t += "/"
	}
	if prefix != "" {
		t += prefix + ":"
	}
	return []byte(t + "Header>")
}

// errWriter writes until the first error, and keeps it.
type errWriter struct{ err error }

func (w *errWriter) write(dst io.Writer, p []byte) {
	if w.err == nil {
		_, w.err = dst.Write(p)
	}
}
