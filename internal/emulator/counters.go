package emulator

import (
	"maps"
	"sync"
)

// Kinds of API call, as counted in Counts.Calls.
const (
	CallREST   = "rest"
	CallSOAP   = "soap"
	CallXMLAPI = "xmlapi"
)

// Counters records what an emulator has seen. It is safe for concurrent use; the
// zero value is ready.
type Counters struct {
	mu     sync.Mutex
	counts Counts
}

// Counts is a snapshot of Counters. Its maps belong to the caller.
type Counts struct {
	TokenRequests        int            // requests that reached a token endpoint
	TokenRequestsByGrant map[string]int // the same, by grant type (when the body could be read)
	TokensIssued         int            // access tokens newly issued
	Calls                map[string]int // API calls received, accepted or not, by kind (CallREST…)
	Rejections           map[string]int // refused requests by reason (ReasonInvalidClient…)
}

// TokenRequest counts a request to a token endpoint; grant may be empty when the
// body could not be read.
func (c *Counters) TokenRequest(grant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.TokenRequests++
	if grant != "" {
		increment(&c.counts.TokenRequestsByGrant, grant)
	}
}

// TokenIssued counts a newly issued access token.
func (c *Counters) TokenIssued() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.TokensIssued++
}

// Call counts an API call of the given kind.
func (c *Counters) Call(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	increment(&c.counts.Calls, kind)
}

// Reject counts a refused request.
func (c *Counters) Reject(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	increment(&c.counts.Rejections, reason)
}

// Snapshot returns a copy of the counts. Its maps are never nil.
func (c *Counters) Snapshot() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.counts
	s.TokenRequestsByGrant = cloneMap(s.TokenRequestsByGrant)
	s.Calls = cloneMap(s.Calls)
	s.Rejections = cloneMap(s.Rejections)
	return s
}

// Reset sets every count back to zero.
func (c *Counters) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = Counts{}
}

func increment(m *map[string]int, key string) {
	if *m == nil {
		*m = make(map[string]int)
	}
	(*m)[key]++
}

func cloneMap(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return maps.Clone(m)
}
