// Package storetest helps the tests of transport.Store implementations and of the
// Source plant and read the values a Source keeps in a Store: a token and the time
// its fetch started, in the Source's byte format (internal/tokenwire).
package storetest

import (
	"context"
	"time"

	"github.com/tokentrip/tokentrip/internal/tokenwire"
	"github.com/tokentrip/tokentrip/transport"
)

// Stored is a token as a Source saves it in a Store.
type Stored struct {
	Token   transport.Token
	Fetched time.Time
}

// Value is s as a Source saves it.
func (s Stored) Value() []byte { return tokenwire.EncodeFields(tokenwire.Fields(s.Token), s.Fetched) }

// Load is st.Load, decoded as a Source decodes it: a value that is not a token is
// tokenwire.ErrNotToken, and no value false.
func Load(ctx context.Context, st transport.Store, key string) (Stored, bool, error) {
	v, ok, err := st.Load(ctx, key)
	if err != nil || !ok {
		return Stored{}, ok, err
	}
	f, fetched, err := tokenwire.DecodeFields(v)
	return Stored{Token: transport.Token(f), Fetched: fetched}, err == nil, err
}
