package mcv2test_test

import (
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// The package spells its reasons out so that they show in its documentation; they
// must stay the ones the shared machinery counts under.
func TestReasonsMatchTheEmulator(t *testing.T) {
	for got, want := range map[string]string{
		mcv2test.ReasonBadRequest:           emulator.ReasonBadRequest,
		mcv2test.ReasonNotFound:             emulator.ReasonNotFound,
		mcv2test.ReasonInvalidClient:        emulator.ReasonInvalidClient,
		mcv2test.ReasonRevokedClient:        emulator.ReasonRevokedClient,
		mcv2test.ReasonWrongPackage:         emulator.ReasonWrongPackage,
		mcv2test.ReasonUnsupportedGrant:     emulator.ReasonUnsupportedGrant,
		mcv2test.ReasonUnauthorizedClient:   emulator.ReasonUnauthorizedClient,
		mcv2test.ReasonInvalidGrant:         emulator.ReasonInvalidGrant,
		mcv2test.ReasonReusedGrant:          emulator.ReasonReusedGrant,
		mcv2test.ReasonInjectedFailure:      emulator.ReasonInjectedFailure,
		mcv2test.ReasonMissingToken:         emulator.ReasonMissingToken,
		mcv2test.ReasonInvalidToken:         emulator.ReasonInvalidToken,
		mcv2test.ReasonExpiredToken:         emulator.ReasonExpiredToken,
		mcv2test.ReasonRevokedToken:         emulator.ReasonRevokedToken,
		mcv2test.ReasonThrottled:            emulator.ReasonThrottled,
		mcv2test.ReasonDuplicateCredentials: emulator.ReasonDuplicateCredentials,
		mcv2test.ReasonMalformedEnvelope:    emulator.ReasonMalformedEnvelope,
	} {
		if got != want {
			t.Errorf("%q != %q", got, want)
		}
	}
}
