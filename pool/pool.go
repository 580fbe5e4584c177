package pool

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/tokentrip/tokentrip/transport"
)

// Builder makes one credential's Transport, typically by calling a provider's
// NewTransport with the credential's Config. It runs on the credential's first use
// and again only after it failed; it must not send anything.
type Builder func() (*transport.Transport, error)

// Pool is a set of credentials keyed by name, each built on first use. Its zero
// value is an empty pool, ready to use; it is safe for concurrent use and must not
// be copied after first use.
type Pool struct {
	mu      sync.RWMutex
	entries map[string]*entry
}

// entry is one credential: its Builder until first use, then its Transport.
type entry struct {
	build Builder
	mu    sync.Mutex                          // held while building
	tr    atomic.Pointer[transport.Transport] // nil until built
}

// Add puts a credential in the pool under name, to be built by build on its
// first use. It fails with ErrDuplicate if the pool already holds name. Add checks
// nothing about the credential itself: to refuse a bad configuration at start-up
// rather than on first use, call the provider Config's Validate first.
func (p *Pool) Add(name string, build Builder) error {
	if build == nil {
		return &Error{Name: name, Err: errors.New("nil Builder")}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.entries[name]; ok {
		return &Error{Name: name, Err: ErrDuplicate}
	}
	if p.entries == nil {
		p.entries = make(map[string]*entry)
	}
	p.entries[name] = &entry{build: build}
	return nil
}

// Transport returns the Transport of the credential called name, building it
// first if this is its first use. Concurrent first calls share one build. A
// Builder's error is returned as an *Error naming the credential, and the next
// call builds again.
func (p *Pool) Transport(name string) (*transport.Transport, error) {
	e := p.entry(name)
	if e == nil {
		return nil, &Error{Name: name, Err: ErrUnknown}
	}
	if tr := e.tr.Load(); tr != nil {
		return tr, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if tr := e.tr.Load(); tr != nil {
		return tr, nil // built while this call waited
	}
	tr, err := e.build()
	switch {
	case err != nil:
		return nil, &Error{Name: name, Err: err}
	case tr == nil:
		return nil, &Error{Name: name, Err: errors.New("the Builder returned no Transport")}
	}
	e.tr.Store(tr)
	// The Builder and whatever it holds (a Config with its secret) are no longer
	// needed: the Transport has what it needs.
	e.build = nil
	return tr, nil
}

// Built returns the Transport of the credential called name if it has been built,
// and builds nothing: for health checks, statistics and tests that must not
// create credentials as they look.
func (p *Pool) Built(name string) (*transport.Transport, bool) {
	if e := p.entry(name); e != nil {
		if tr := e.tr.Load(); tr != nil {
			return tr, true
		}
	}
	return nil, false
}

// CloseIdleConnections closes the idle connections of every Transport built so
// far, as a program does on shutdown.
func (p *Pool) CloseIdleConnections() {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, e := range p.entries {
		if tr := e.tr.Load(); tr != nil {
			tr.CloseIdleConnections()
		}
	}
}

func (p *Pool) entry(name string) *entry {
	p.mu.RLock()
	e := p.entries[name]
	p.mu.RUnlock()
	return e
}
