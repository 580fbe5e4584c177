package mcv1

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/tokentrip/tokentrip/internal/marketingcloud"
)

// configView is what a rendering of a Config shows: every field a reader needs to
// recognise the configuration, secrets replaced and URLs cleaned.
type configView struct {
	Subdomain       string   `json:"subdomain,omitempty"`
	AuthURL         string   `json:"auth_url,omitempty"`
	ClientID        string   `json:"client_id"`
	ClientSecret    string   `json:"client_secret"`
	Offline         bool     `json:"offline"`
	RefreshTokens   string   `json:"refresh_tokens,omitempty"`
	RefreshTokenKey string   `json:"refresh_token_key,omitempty"`
	Store           string   `json:"store,omitempty"`
	Legacy          bool     `json:"legacy"`
	APIHosts        []string `json:"api_hosts,omitempty"`
}

func (c Config) view() configView {
	v := configView{
		Subdomain:       c.Subdomain,
		AuthURL:         marketingcloud.CleanURL(c.AuthURL),
		ClientID:        c.ClientID,
		Offline:         c.Offline,
		RefreshTokenKey: c.RefreshTokenKey,
		Legacy:          c.Legacy,
	}
	if c.ClientSecret != "" {
		v.ClientSecret = marketingcloud.Redacted
	}
	if c.RefreshTokens != nil {
		v.RefreshTokens = describe(c.RefreshTokens)
	}
	if c.Store != nil {
		v.Store = "set"
	}
	for _, h := range c.APIHosts {
		v.APIHosts = append(v.APIHosts, marketingcloud.CleanURL(h))
	}
	return v
}

// String renders the Config with its secret redacted; %v and %+v use it.
func (c Config) String() string {
	v := c.view()
	return fmt.Sprintf("mcv1.Config{Subdomain:%s AuthURL:%s ClientID:%s ClientSecret:%s Offline:%t RefreshTokens:%s RefreshTokenKey:%s Store:%s Legacy:%t APIHosts:%v}",
		v.Subdomain, v.AuthURL, v.ClientID, v.ClientSecret, v.Offline, v.RefreshTokens, v.RefreshTokenKey, v.Store, v.Legacy, v.APIHosts)
}

// GoString renders the Config for %#v with its secret redacted.
func (c Config) GoString() string {
	v := c.view()
	return fmt.Sprintf("mcv1.Config{Subdomain:%q, AuthURL:%q, ClientID:%q, ClientSecret:%q, Offline:%t, RefreshTokens:%q, RefreshTokenKey:%q, Store:%q, Legacy:%t, APIHosts:%#v}",
		v.Subdomain, v.AuthURL, v.ClientID, v.ClientSecret, v.Offline, v.RefreshTokens, v.RefreshTokenKey, v.Store, v.Legacy, v.APIHosts)
}

// MarshalJSON renders the Config for logs and diagnostics, with its secret
// redacted; the result is a description, not a Config to read back.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.view()) }

// LogValue renders the Config as a slog group, with its secret redacted.
func (c Config) LogValue() slog.Value {
	v := c.view()
	attrs := []slog.Attr{
		slog.String("subdomain", v.Subdomain),
		slog.String("auth_url", v.AuthURL),
		slog.String("client_id", v.ClientID),
		slog.String("client_secret", v.ClientSecret),
		slog.Bool("offline", v.Offline),
		slog.Bool("legacy", v.Legacy),
	}
	if v.RefreshTokens != "" {
		attrs = append(attrs, slog.String("refresh_tokens", v.RefreshTokens), slog.String("refresh_token_key", v.RefreshTokenKey))
	}
	if v.Store != "" {
		attrs = append(attrs, slog.String("store", v.Store))
	}
	if len(v.APIHosts) > 0 {
		attrs = append(attrs, slog.Any("api_hosts", v.APIHosts))
	}
	return slog.GroupValue(attrs...)
}

// describe names a refresh-token store: its own String when it has one (the stores
// of package store show no token), its type otherwise.
func describe(s any) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", s)
}
