// Package envelope puts a credential into the Header of a SOAP 1.1 or 1.2
// envelope as the envelope streams past, and reads the faults that come back.
// It knows XML, SOAP and WS-Security; it knows nothing of HTTP or of how long
// a token lives.
//
// # Injection
//
// [NewReader] (streamed, for a request body) and [InjectBytes] (an envelope
// in memory) read an envelope, find its Header (creating one as the
// Envelope's first child when there is none), replace any credential already
// there — a fueloauth element in any namespace, a legacy ExactTarget oAuth
// element, or a WS-Security Security element — with the given [Credential],
// and copy every other byte through untouched. Only the prefix of the
// document up to the Body's start tag is tokenized, and never more than
// 1 MiB of it; everything after is copied as raw bytes, so the cost of an
// injection does not grow with the size of the Body. The
// Body's bytes, and the bytes and order of the Header's other children
// (WS-Addressing and the like), come out exactly as they went in.
//
// Prefixes are resolved through namespace declarations, so soap:, soapenv:,
// s:, SOAP-ENV:, env:, a default namespace, or two prefixes bound to the same
// SOAP namespace all work. A Header is accepted after the Body, as some
// hand-made envelopes have it, when it starts within 16 KiB of the Body's
// start; a longer Body that comes first is taken to have no Header after it,
// which is what SOAP 1.1 and 1.2 require. To rule such a Header out, a
// search for the bytes "Header" in those 16 KiB comes first, and the Body
// is tokenized only when they occur there (or when the input ends within
// them without the Envelope's end tag, so that an envelope cut short is
// still refused). An envelope with its Header first costs a scan of its
// Header alone, and one without a Header costs that byte search.
//
// Envelopes that would be unsafe or wrong to pass on are refused with an
// [*Error] before anything is handed out: input that is not XML, is empty or
// is cut short, a root that is not a SOAP Envelope, an Envelope with no
// Body or with a second Header (before its Body, or after one that follows
// the Body), a DOCTYPE, UTF-16, a declared encoding other than UTF-8, and
// bytes that are not UTF-8 anywhere the injector reads: before the root,
// in the Envelope's start tag, in the Header, up to the Body's start tag.
// Use [errors.Is] with [ErrMalformed], [ErrNotEnvelope], [ErrDoctype],
// [ErrEncoding] or [ErrTooLarge] to tell them apart. No error ever contains
// the credential. The Body is the server's to read: it is not validated,
// only tokenized, when need be, to look for a Header after it.
//
// Resolving a prefix costs the same however many namespace declarations
// are in scope: past a handful, they are indexed.
//
// # Faults
//
// [ParseFault] reads a SOAP 1.1 or 1.2 Fault within a byte limit, and
// [Fault.IsAuth] says whether the credential was rejected (an expired or
// unknown token, a failed login) rather than the request.
//
// # Fuzzing
//
// FuzzInject checks that a well-formed envelope always comes out well-formed,
// with exactly one credential and its Body bytes unchanged. FuzzInjectParts
// builds envelopes from parts, to reach the checks on what the injector
// reads: bytes that are not UTF-8, a second Header. For a longer run than
// the tests' seed corpus:
//
//	go test -run='^$' -fuzz='^FuzzInject$' -fuzztime=30m ./envelope/
//	go test -run='^$' -fuzz='^FuzzInjectParts$' -fuzztime=30m ./envelope/
package envelope
