package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// A TokenPairs keeps the access token issued with each refresh token: a holder of
// the credential whose own rotation was refused — another holder spent the same
// refresh token first — finds the winner's successor and access token, and uses
// them instead of failing. The providers do this by themselves.
func ExampleTokenPairs() {
	ctx := context.Background()
	var rts store.TokenPairs = &store.Memory{}
	_ = rts.CompareAndSwap(ctx, "user-1", "", "rt-1")

	// The winner spent rt-1 and stores its successor with the access token.
	access := transport.Token{AccessToken: "at-2", Expiry: time.Now().Add(20 * time.Minute)}
	_ = rts.CompareAndSwapPair(ctx, "user-1", "rt-1", "rt-2", access)

	// The loser spent rt-1 too, was refused, and lost the compare-and-swap.
	err := rts.CompareAndSwapPair(ctx, "user-1", "rt-1", "rt-2b", transport.Token{})
	fmt.Println(errors.Is(err, store.ErrConflict))
	next, tok, _ := rts.LoadPair(ctx, "user-1")
	fmt.Println(next, tok.AccessToken)
	// Output:
	// true
	// rt-2 at-2
}
