// Package docs holds tokentrip's long-form documentation (RELIABILITY.md) and the
// tests that keep the README true: every Go block in README.md is built against
// the code it describes, and every shell block that can run on a developer's
// machine is run against tokentrip and its emulators. It has no code of its own.
package docs
