package mcv1_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// subdomain is a well-formed tenant subdomain: 28 characters starting with "mc".
const subdomain = "mc563885gzs27c5t9-63k636ttgm"

func TestValidate(t *testing.T) {
	valid := mcv1.Config{Subdomain: subdomain, ClientID: "id", ClientSecret: "s3cr3t-value"}
	withURL := func(u string) mcv1.Config {
		c := valid
		c.Subdomain, c.AuthURL = "", u
		return c
	}
	tests := []struct {
		name  string
		edit  func(*mcv1.Config)
		field string // "" when the config is valid
	}{
		{name: "subdomain", edit: func(*mcv1.Config) {}},
		{name: "stack auth URL", edit: func(c *mcv1.Config) { *c = withURL("https://auth-s7.exacttargetapis.com") }},
		{name: "auth URL with the token path", edit: func(c *mcv1.Config) { *c = withURL("https://auth.exacttargetapis.com/v1/requestToken") }},
		{name: "auth URL with the token path and a slash", edit: func(c *mcv1.Config) { *c = withURL("https://auth.exacttargetapis.com/v1/requestToken/") }},
		{name: "loopback over http", edit: func(c *mcv1.Config) { *c = withURL("http://127.0.0.1:8080") }},
		{name: "localhost over http", edit: func(c *mcv1.Config) { *c = withURL("http://localhost:8080/") }},
		{name: "offline with a store", edit: func(c *mcv1.Config) { c.Offline, c.RefreshTokens, c.RefreshTokenKey = true, &store.Memory{}, "k" }},

		{name: "neither subdomain nor auth URL", edit: func(c *mcv1.Config) { c.Subdomain = "" }, field: "Subdomain"},
		{name: "both subdomain and auth URL", edit: func(c *mcv1.Config) { c.AuthURL = "https://auth.exacttargetapis.com" }, field: "AuthURL"},
		{name: "subdomain too short", edit: func(c *mcv1.Config) { c.Subdomain = "mc563885gzs27c5t9" }, field: "Subdomain"},
		{name: "subdomain too long", edit: func(c *mcv1.Config) { c.Subdomain = subdomain + "x" }, field: "Subdomain"},
		{name: "subdomain not starting with mc", edit: func(c *mcv1.Config) { c.Subdomain = "xx563885gzs27c5t9-63k636ttgm" }, field: "Subdomain"},
		{name: "subdomain in upper case", edit: func(c *mcv1.Config) { c.Subdomain = strings.ToUpper(subdomain) }, field: "Subdomain"},
		{name: "subdomain with an underscore", edit: func(c *mcv1.Config) { c.Subdomain = "mc563885gzs27c5t9_63k636ttgm" }, field: "Subdomain"},
		{name: "whole auth host as subdomain", edit: func(c *mcv1.Config) { c.Subdomain = subdomain + ".auth.marketingcloudapis.com" }, field: "Subdomain"},
		{name: "plain http to a remote host", edit: func(c *mcv1.Config) { *c = withURL("http://auth.exacttargetapis.com") }, field: "AuthURL"},
		{name: "other scheme", edit: func(c *mcv1.Config) { *c = withURL("ftp://127.0.0.1") }, field: "AuthURL"},
		{name: "relative URL", edit: func(c *mcv1.Config) { *c = withURL("auth.exacttargetapis.com") }, field: "AuthURL"},
		{name: "URL with user info", edit: func(c *mcv1.Config) { *c = withURL("https://id:pw@auth.exacttargetapis.com") }, field: "AuthURL"},
		{name: "URL with ?legacy=1", edit: func(c *mcv1.Config) { *c = withURL("https://auth.exacttargetapis.com/v1/requestToken?legacy=1") }, field: "AuthURL"},
		{name: "URL with an empty query", edit: func(c *mcv1.Config) { *c = withURL("https://auth.exacttargetapis.com/?") }, field: "AuthURL"},
		{name: "URL with a fragment", edit: func(c *mcv1.Config) { *c = withURL("https://auth.exacttargetapis.com/#x") }, field: "AuthURL"},
		{name: "unparsable URL", edit: func(c *mcv1.Config) { *c = withURL("https://auth.exacttargetapis.com:port") }, field: "AuthURL"},
		{name: "no client id", edit: func(c *mcv1.Config) { c.ClientID = "" }, field: "ClientID"},
		{name: "no client secret", edit: func(c *mcv1.Config) { c.ClientSecret = "" }, field: "ClientSecret"},
		{name: "client id with a line break", edit: func(c *mcv1.Config) { c.ClientID += "\n" }, field: "ClientID"},
		{name: "client secret with a line break", edit: func(c *mcv1.Config) { c.ClientSecret += "\n" }, field: "ClientSecret"},
		{name: "subdomain as the auth URL", edit: func(c *mcv1.Config) { c.Subdomain = "https://" + subdomain + ".auth.marketingcloudapis.com/" }, field: "Subdomain"},
		{name: "subdomain with a line break", edit: func(c *mcv1.Config) { c.Subdomain += "\n" }, field: "Subdomain"},
		{name: "subdomain with a space before it", edit: func(c *mcv1.Config) { c.Subdomain = " " + subdomain }, field: "Subdomain"},
		{name: "auth URL with a line break", edit: func(c *mcv1.Config) { *c = withURL("https://auth.exacttargetapis.com\n") }, field: "AuthURL"},
		{name: "auth URL with a space before it", edit: func(c *mcv1.Config) { *c = withURL(" https://auth.exacttargetapis.com") }, field: "AuthURL"},
		{name: "auth URL with the secret as user info", edit: func(c *mcv1.Config) { *c = withURL("https://id:s3cr3t-value@auth.exacttargetapis.com") }, field: "AuthURL"},
		{name: "client secret from an empty file", edit: func(c *mcv1.Config) { c.ClientSecret = "\n" }, field: "ClientSecret"},
		{name: "client secret of spaces", edit: func(c *mcv1.Config) { c.ClientSecret = "   " }, field: "ClientSecret"},
		{name: "client secret with a CR LF inside", edit: func(c *mcv1.Config) { c.ClientSecret = "s3cr3t\r\nvalue" }, field: "ClientSecret"},
		{name: "client id with a NUL", edit: func(c *mcv1.Config) { c.ClientID = "id\x00" }, field: "ClientID"},
		{name: "client id with a space before it", edit: func(c *mcv1.Config) { c.ClientID = " id" }, field: "ClientID"},
		{name: "extra host with user info", edit: func(c *mcv1.Config) { c.Transport.Hosts = []string{"https://u:pw@api.example.com"} }, field: "Transport.Hosts"},
		{name: "extra host over plain http", edit: func(c *mcv1.Config) { c.Transport.Hosts = []string{"http://api.example.com"} }, field: "Transport.Hosts"},
		{name: "store without offline", edit: func(c *mcv1.Config) { c.RefreshTokens = &store.Memory{} }, field: "RefreshTokens"},
		{name: "store key without offline", edit: func(c *mcv1.Config) { c.RefreshTokenKey = "k" }, field: "RefreshTokenKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			err := cfg.Validate()
			_, newErr := mcv1.NewTransport(cfg)
			testkit.WantConfigError(t, "mcv1", tt.field, "", []string{"s3cr3t-value", "pw"}, err, newErr)
			if err != nil {
				wantNoSecrets(t, "error", err.Error())
			}
		})
	}
}

func TestHosts(t *testing.T) {
	legacy := []string{
		"www.exacttargetapis.com", "webservice.exacttarget.com", "webservice.s4.exacttarget.com",
		"webservice.s6.exacttarget.com", "webservice.s7.exacttarget.com", "webservice.s10.exacttarget.com",
	}
	tests := []struct {
		name string
		cfg  mcv1.Config
		want []string
	}{
		{
			name: "tenant",
			cfg:  mcv1.Config{Subdomain: subdomain},
			want: append([]string{subdomain + ".auth.marketingcloudapis.com", subdomain + ".rest.marketingcloudapis.com", subdomain + ".soap.marketingcloudapis.com"}, legacy...),
		},
		{
			name: "older stack and API hosts",
			cfg:  mcv1.Config{AuthURL: "https://auth-s7.exacttargetapis.com", Common: provider.Common{Transport: transport.Options{Hosts: []string{"127.0.0.1:9"}}}},
			want: append(append([]string{"https://auth-s7.exacttargetapis.com"}, legacy...), "127.0.0.1:9"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.ClientID, tt.cfg.ClientSecret = "id", "secret"
			if got := newProvider(t, tt.cfg).Hosts(); !slices.Equal(got, tt.want) {
				t.Errorf("Hosts() = %q\nwant %q", got, tt.want)
			}
		})
	}
}
