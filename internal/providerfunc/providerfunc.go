// Package providerfunc makes a transport.Provider of a function, for tests: a token
// endpoint whose answers a test decides call by call.
package providerfunc

import (
	"context"

	"github.com/tokentrip/tokentrip/transport"
)

// Func adapts a function to the transport.Provider interface.
type Func func(ctx context.Context) (transport.Token, error)

// Fetch calls f.
func (f Func) Fetch(ctx context.Context) (transport.Token, error) { return f(ctx) }
