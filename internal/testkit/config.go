package testkit

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/transport"
)

// WantConfigError fails the test unless the errors of one Config — from Validate
// and the constructors that validate it — agree: all nil when field is "", and
// otherwise each a *transport.ConfigError of the provider called provider for
// field, whose problem holds says and whose text shows none of secrets.
func WantConfigError(t testing.TB, provider, field, says string, secrets []string, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if field == "" {
			if err != nil {
				t.Fatalf("error %v, want none", err)
			}
			continue
		}
		ce, ok := errors.AsType[*transport.ConfigError](err)
		if !ok || !errors.Is(err, transport.ErrConfig) || ce.Provider != provider || ce.Field != field || ce.Problem == "" || !strings.Contains(ce.Problem, says) {
			t.Fatalf("error %#v, want a ConfigError of %s for %s saying %q", err, provider, field, says)
		}
		WantAbsent(t, "error", err.Error(), secrets...)
	}
}
