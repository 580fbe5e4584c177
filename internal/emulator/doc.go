// Package emulator holds the machinery shared by tokentrip's vendor emulators
// (mcv1test, mcv2test and acoustictest): token and client registries, counters,
// gates, fault injection, and the Marketing Cloud REST and SOAP endpoints that
// legacy and enhanced tokens both unlock.
//
// Nothing here knows about the tokentrip library itself; the emulators model the
// vendors, so that the library can be tested against something that behaves like them.
package emulator
