package mcv2_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/store"
)

func TestValidate(t *testing.T) {
	good := mcv2.Config{Subdomain: subdomain, ClientID: "client-id", ClientSecret: "s3cret"}
	tests := []struct {
		name  string
		edit  func(*mcv2.Config)
		field string // "" when the config is valid
	}{
		{"server to server", func(*mcv2.Config) {}, ""},
		{"business unit and scopes", func(c *mcv2.Config) { c.AccountID = "12345"; c.Scope = []string{"email_read email_write", "offline"} }, ""},
		{"public app", func(c *mcv2.Config) {
			c.ClientSecret = ""
			c.RefreshTokens = &store.Memory{}
			c.RedirectURI = redirectURI
		}, ""},
		{"emulator URL", func(c *mcv2.Config) { c.Subdomain = ""; c.AuthURL = "http://127.0.0.1:8080" }, ""},
		{"localhost URL with a path", func(c *mcv2.Config) { c.AuthURL = "http://localhost:8080/mc/" }, ""},
		{"https URL", func(c *mcv2.Config) { c.AuthURL = "https://auth.example.com" }, ""},
		{"auth URL with the token path", func(c *mcv2.Config) { c.AuthURL = "https://auth.example.com/v2/token" }, ""},

		{"no client id", func(c *mcv2.Config) { c.ClientID = "" }, "ClientID"},
		{"client id with a space", func(c *mcv2.Config) { c.ClientID = "client id" }, "ClientID"},
		{"no tenant", func(c *mcv2.Config) { c.Subdomain = "" }, "Subdomain"},
		{"subdomain too short", func(c *mcv2.Config) { c.Subdomain = "mc123" }, "Subdomain"},
		{"subdomain not mc", func(c *mcv2.Config) { c.Subdomain = "xx563885gzs27c5t9-63k636tzgm" }, "Subdomain"},
		{"subdomain upper case", func(c *mcv2.Config) { c.Subdomain = "MC563885GZS27C5T9-63K636TZGM" }, "Subdomain"},
		{"subdomain bad character", func(c *mcv2.Config) { c.Subdomain = "mc563885gzs27c5t9_63k636tzgm" }, "Subdomain"},
		{"subdomain is a host", func(c *mcv2.Config) { c.Subdomain = subdomain + ".auth.marketingcloudapis.com" }, "Subdomain"},
		{"no secret and no store", func(c *mcv2.Config) { c.ClientSecret = "" }, "ClientSecret"},
		{"secret with a newline", func(c *mcv2.Config) { c.ClientSecret = "s3cret\n" }, "ClientSecret"},
		{"secret from an empty file", func(c *mcv2.Config) { c.ClientSecret = "\n" }, "ClientSecret"},
		{"secret of spaces with a store", func(c *mcv2.Config) { c.ClientSecret, c.RefreshTokens = "  ", &store.Memory{} }, "ClientSecret"},
		{"secret with a CR LF inside", func(c *mcv2.Config) { c.ClientSecret = "s3cret\r\nX" }, "ClientSecret"},
		{"client id with a line break", func(c *mcv2.Config) { c.ClientID += "\n" }, "ClientID"},
		{"client id beyond ASCII", func(c *mcv2.Config) { c.ClientID = "client-idé" }, "ClientID"},
		{"subdomain as the auth URL", func(c *mcv2.Config) { c.Subdomain = "https://" + subdomain + ".auth.marketingcloudapis.com/" }, "Subdomain"},
		{"subdomain with a line break", func(c *mcv2.Config) { c.Subdomain += "\n" }, "Subdomain"},
		{"auth URL with a line break", func(c *mcv2.Config) { c.Subdomain, c.AuthURL = "", "https://auth.example.com\n" }, "AuthURL"},
		{"auth URL with a space before it", func(c *mcv2.Config) { c.Subdomain, c.AuthURL = "", " https://auth.example.com" }, "AuthURL"},
		{"auth URL with the secret as user info", func(c *mcv2.Config) { c.Subdomain, c.AuthURL = "", "https://client-id:s3cret@auth.example.com" }, "AuthURL"},
		{"redirect URI with a line break", func(c *mcv2.Config) { c.RedirectURI = redirectURI + "\n" }, "RedirectURI"},
		{"account not a MID", func(c *mcv2.Config) { c.AccountID = "BU-1" }, "AccountID"},
		{"plain http auth URL", func(c *mcv2.Config) { c.AuthURL = "http://auth.example.com" }, "AuthURL"},
		{"relative auth URL", func(c *mcv2.Config) { c.AuthURL = "/v2/token" }, "AuthURL"},
		{"auth URL with user info", func(c *mcv2.Config) { c.AuthURL = "https://user:pw@auth.example.com" }, "AuthURL"},
		{"auth URL with a query", func(c *mcv2.Config) { c.AuthURL = "https://auth.example.com/?x=1" }, "AuthURL"},
		{"auth URL with an empty query", func(c *mcv2.Config) { c.AuthURL = "https://auth.example.com/?" }, "AuthURL"},
		{"auth URL with a fragment", func(c *mcv2.Config) { c.AuthURL = "https://auth.example.com/#x" }, "AuthURL"},
		{"auth URL scheme", func(c *mcv2.Config) { c.AuthURL = "ftp://127.0.0.1" }, "AuthURL"},
		{"relative redirect URI", func(c *mcv2.Config) { c.RedirectURI = "/callback" }, "RedirectURI"},
		{"redirect URI with a fragment", func(c *mcv2.Config) { c.RedirectURI = redirectURI + "#x" }, "RedirectURI"},
		{"scope with a quote", func(c *mcv2.Config) { c.Scope = []string{`email"read`} }, "Scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			_, newErr := mcv2.NewProvider(cfg)
			testkit.WantConfigError(t, "mcv2", tt.field, "", []string{"s3cret"}, cfg.Validate(), newErr)
		})
	}
}

// A Provider holds the secret and, after Exchange, tokens: printing it shows none.
func TestProviderRendersWithoutSecrets(t *testing.T) {
	srv := start(t)
	cfg := webConfig(srv, &store.Memory{})
	p := newProvider(t, cfg)
	tok := exchange(t, srv, p)
	for how, out := range map[string]string{
		"%v":  fmt.Sprintf("%v", p),
		"%+v": fmt.Sprintf("%+v", p),
		"%#v": fmt.Sprintf("%#v", p),
	} {
		testkit.WantAbsent(t, how, out, cfg.ClientSecret, tok.AccessToken)
		if !strings.Contains(out, cfg.ClientID) {
			t.Errorf("%s hides the client id: %s", how, out)
		}
	}
}

// A callback's code is a secret until redeemed: no rendering shows it.
func TestCallbackRendersWithoutCode(t *testing.T) {
	const code = "code-secret-value"
	cb := mcv2.Callback{Code: code, Subdomain: "mctenant"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("callback", "cb", cb)
	js, err := json.Marshal(cb)
	if err != nil {
		t.Fatal(err)
	}
	for how, out := range map[string]string{
		"%v":   fmt.Sprintf("%v", cb),
		"%+v":  fmt.Sprintf("%+v", cb),
		"%#v":  fmt.Sprintf("%#v", cb),
		"json": string(js),
		"slog": logged.String(),
	} {
		testkit.WantAbsent(t, how, out, code)
		if !strings.Contains(out, "mctenant") {
			t.Errorf("%s hides the subdomain: %s", how, out)
		}
	}
}
