// Package proxy is the handler behind "tokentrip proxy": it routes a local client's
// plain requests to Marketing Cloud or Acoustic through a tokentrip Transport, and
// guards, caps, measures and logs them on the way.
//
// It is internal because only the command and the benchmarks build it; Go programs
// put the Transport into their own http.Client instead.
package proxy
