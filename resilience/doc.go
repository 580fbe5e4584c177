// Package resilience holds tokentrip's fault-injection suite: tests that break the
// token endpoints and APIs of the vendor emulators on purpose and assert what a
// caller of tokentrip sees. It has no code of its own; docs/RELIABILITY.md quotes
// the figures its tests measure.
package resilience
