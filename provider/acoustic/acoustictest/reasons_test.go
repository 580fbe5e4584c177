package acoustictest_test

import (
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
)

// The package spells its reasons out so that they show in its documentation; they
// must stay the ones the shared machinery counts under.
func TestReasonsMatchTheEmulator(t *testing.T) {
	for got, want := range map[string]string{
		acoustictest.ReasonBadRequest:        emulator.ReasonBadRequest,
		acoustictest.ReasonNotFound:          emulator.ReasonNotFound,
		acoustictest.ReasonInvalidClient:     emulator.ReasonInvalidClient,
		acoustictest.ReasonRevokedClient:     emulator.ReasonRevokedClient,
		acoustictest.ReasonUnsupportedGrant:  emulator.ReasonUnsupportedGrant,
		acoustictest.ReasonInvalidGrant:      emulator.ReasonInvalidGrant,
		acoustictest.ReasonInjectedFailure:   emulator.ReasonInjectedFailure,
		acoustictest.ReasonMintLimit:         emulator.ReasonMintLimit,
		acoustictest.ReasonMissingToken:      emulator.ReasonMissingToken,
		acoustictest.ReasonInvalidToken:      emulator.ReasonInvalidToken,
		acoustictest.ReasonExpiredToken:      emulator.ReasonExpiredToken,
		acoustictest.ReasonRevokedToken:      emulator.ReasonRevokedToken,
		acoustictest.ReasonMalformedEnvelope: emulator.ReasonMalformedEnvelope,
		acoustictest.ReasonConcurrencyLimit:  emulator.ReasonConcurrencyLimit,
	} {
		if got != want {
			t.Errorf("%q != %q", got, want)
		}
	}
}
