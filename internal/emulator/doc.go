// Package emulator holds the machinery shared by tokentrip's vendor emulators
// (mcv1test, mcv2test and acoustictest): the Controls their Servers embed, token
// and client registries, counters, gates, fault injection, and the Marketing
// Cloud REST and SOAP endpoints that legacy and enhanced tokens both unlock. It
// also names, once, what tests inside the module read from the emulators: the
// rejection reasons, grant types, paths, default credentials and lifetimes.
//
// Nothing here knows about the tokentrip library itself; the emulators model the
// vendors, so that the library can be tested against something that behaves like them.
package emulator
