// Package xmlread reads a response document with encoding/xml, token by token
// and within a byte limit, keeping the depth and the namespace declarations in
// scope so that a qualified name in text (a SOAP fault code) can be resolved,
// and the bytes read so that an element's inner XML can be cut out. It refuses
// a DOCTYPE and any encoding but UTF-8.
//
// It serves envelope.ParseFault and Acoustic's XML API verdict, which give
// its refusals the kinds of their own errors.
package xmlread
