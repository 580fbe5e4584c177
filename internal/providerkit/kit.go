// Package providerkit is the one builder every provider (mcv1, mcv2, acoustic) makes
// its parts with from a provider.Common: the token-endpoint client, the clock, the
// log lines, the Source and the Transport, the checks of the shared settings and the
// renderings of a Config. What differs per vendor is passed in; the rest is done
// here once, so that the providers cannot drift apart.
package providerkit

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/transport"
)

// Kit is what a provider builds from its provider.Common when it is created.
type Kit struct {
	// Name is the provider's name: the prefix of its errors, log lines and Source
	// names ("mcv1", "mcv2", "acoustic").
	Name string
	// Now is Common.Source.Clock, or time.Now when that is nil.
	Now func() time.Time
	// Endpoint sends the token requests with Common's HTTPClient, Retry and
	// Source.Logger.
	Endpoint *endpoint.Client

	logger *slog.Logger
}

// New returns the Kit of the provider called name.
func New(name string, c provider.Common) Kit {
	now := c.Source.Clock
	if now == nil {
		now = time.Now
	}
	return Kit{
		Name:     name,
		Now:      now,
		Endpoint: endpoint.NewClient(name, c.HTTPClient, c.Retry, c.Source.Logger),
		logger:   c.Source.Logger,
	}
}

// Log writes one of the provider's own log lines, "tokentrip: <what>" with the
// provider's name and attrs, when Common.Source.Logger is set. attrs never carry a
// token, a secret or a client id.
func (k Kit) Log(ctx context.Context, level slog.Level, what string, attrs ...slog.Attr) {
	if k.logger != nil {
		k.logger.LogAttrs(ctx, level, "tokentrip: "+what, append([]slog.Attr{slog.String("provider", k.Name)}, attrs...)...)
	}
}

// NewError returns a sentinel error of the provider called name: every provider
// error reads "<provider>: …", as ConfigError, StoredError and transport.FetchError
// do.
func NewError(name, msg string) error { return errors.New(name + ": " + msg) }

// ConfigError is the *transport.ConfigError of the provider called name for
// field: it reads "<provider>: invalid configuration: <field>: <problem>".
func ConfigError(name, field, problem string) error {
	return &transport.ConfigError{Provider: name, Field: field, Problem: problem}
}
