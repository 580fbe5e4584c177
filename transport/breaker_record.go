package transport

import (
	"fmt"
	"time"

	"github.com/tokentrip/tokentrip/internal/tokenwire"
)

// breakerKeySuffix follows Settings.StoreKey in the key of the breaker's state.
const breakerKeySuffix = ":breaker"

// breakerRecord is a fleet's circuit breaker as a Store keeps it.
type breakerRecord struct {
	// OpenUntil is when the fleet's breaker lets a probe through, on the wall
	// clock (the breaker's cooldown runs in real time). Zero or past: closed.
	OpenUntil time.Time
	// Failures counts the fleet's consecutive failed fetches; a success resets it.
	Failures int
}

func (r breakerRecord) encode() []byte {
	return tokenwire.Breaker{OpenUntil: tokenwire.UnixNano(r.OpenUntil), Failures: r.Failures}.Encode()
}

// decodeBreaker reads a value encode wrote; anything else — an empty object, null,
// the format gobreaker writes, text — wraps ErrCorruptValue.
func decodeBreaker(data []byte) (breakerRecord, error) {
	w, err := tokenwire.DecodeBreaker(data)
	if err != nil {
		return breakerRecord{}, fmt.Errorf("%w: %w", ErrCorruptValue, err)
	}
	return breakerRecord{OpenUntil: tokenwire.Time(w.OpenUntil), Failures: w.Failures}, nil
}
