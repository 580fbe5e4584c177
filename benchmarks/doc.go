// Package benchmarks measures tokentrip against its anchors — golang.org/x/oauth2, a
// full-parse etree injector and the plain copy that bounds what any implementation
// can do — side by side in one run. It holds only benchmarks; see README.md.
package benchmarks
