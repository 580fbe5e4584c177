// Package tokenpairs names what a refresh-token store offers when it keeps, with
// each refresh token, the access token issued with it, as store.Memory and
// redisstore.RefreshTokens do. When two holders of one rotating refresh token
// spend it at the same moment, the provider refuses the second (the token was
// single use); the holder that lost then waits for the winner's successor to be
// stored and adopts the winner's access token with it, instead of failing or
// spending the successor too: one refresh per rotation, however many processes
// share the credential. The providers look for it on their RefreshTokens; a
// user's store offers it by having the two methods.
package tokenpairs

import (
	"context"

	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// Store is a store.RefreshTokens that keeps an access token with each refresh
// token. A provider reads the pair through LoadPair and checks the access token
// as if it came from the network before it uses it.
type Store interface {
	store.RefreshTokens
	// LoadPair returns the stored refresh token for key ("" if none) and the access
	// token stored with it (the zero Token if none).
	LoadPair(ctx context.Context, key string) (refresh string, access transport.Token, err error)
	// CompareAndSwapPair is CompareAndSwap that also stores access with next. A plain
	// CompareAndSwap leaves no access token with the refresh token it stores.
	CompareAndSwapPair(ctx context.Context, key, prev, next string, access transport.Token) error
}

var _ Store = (*store.Memory)(nil)
