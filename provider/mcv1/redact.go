package mcv1

import (
	"github.com/tokentrip/tokentrip/internal/providerkit"
)

// rendering is what a Config shows of itself: the secret redacted, URLs cleaned.
func (c Config) rendering() providerkit.Rendering {
	return providerkit.Render("mcv1.Config", c.Common,
		"Subdomain", c.Subdomain, "AuthURL", providerkit.CleanURL(c.AuthURL), "ClientID", c.ClientID,
		"ClientSecret", providerkit.Secret(c.ClientSecret), "Offline", c.Offline,
		"RefreshTokens", providerkit.Describe(c.RefreshTokens), "RefreshTokenKey", c.RefreshTokenKey, "Legacy", c.Legacy)
}

// String renders the Config with its secret redacted; %v, %+v and log/slog's text
// handler use it.
func (c Config) String() string { return c.rendering().String() }

// GoString renders the Config for %#v with its secret redacted.
func (c Config) GoString() string { return c.String() }

// MarshalJSON renders the Config for logs and diagnostics (log/slog's JSON handler
// among them), with its secret redacted; the result is a description, not a Config
// to read back.
func (c Config) MarshalJSON() ([]byte, error) { return c.rendering().JSON() }
