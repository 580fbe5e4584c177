// Package docs holds tokentrip's long-form documentation (RELIABILITY.md) and the
// tests that keep the README true: every Go block in README.md is built against
// the code it describes. It has no code of its own.
package docs
