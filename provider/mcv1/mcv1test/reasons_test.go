package mcv1test_test

import (
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
)

// The package spells its reasons out so that they show in its documentation; they
// must stay the ones the shared machinery counts under.
func TestReasonsMatchTheEmulator(t *testing.T) {
	for got, want := range map[string]string{
		mcv1test.ReasonBadRequest:           emulator.ReasonBadRequest,
		mcv1test.ReasonNotFound:             emulator.ReasonNotFound,
		mcv1test.ReasonInvalidClient:        emulator.ReasonInvalidClient,
		mcv1test.ReasonRevokedClient:        emulator.ReasonRevokedClient,
		mcv1test.ReasonWrongPackage:         emulator.ReasonWrongPackage,
		mcv1test.ReasonInvalidGrant:         emulator.ReasonInvalidGrant,
		mcv1test.ReasonReusedGrant:          emulator.ReasonReusedGrant,
		mcv1test.ReasonInjectedFailure:      emulator.ReasonInjectedFailure,
		mcv1test.ReasonMissingToken:         emulator.ReasonMissingToken,
		mcv1test.ReasonInvalidToken:         emulator.ReasonInvalidToken,
		mcv1test.ReasonExpiredToken:         emulator.ReasonExpiredToken,
		mcv1test.ReasonRevokedToken:         emulator.ReasonRevokedToken,
		mcv1test.ReasonThrottled:            emulator.ReasonThrottled,
		mcv1test.ReasonDuplicateCredentials: emulator.ReasonDuplicateCredentials,
		mcv1test.ReasonMalformedEnvelope:    emulator.ReasonMalformedEnvelope,
	} {
		if got != want {
			t.Errorf("%q != %q", got, want)
		}
	}
}
