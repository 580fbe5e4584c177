// Package testkit holds test-support code that the tests of several of
// tokentrip's packages share, so that each keeps no copy of its own. Nothing
// outside tests imports it.
package testkit
