package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/transport"
)

// newTransport builds the library's Transport for the configured credential.
// Marketing Cloud transports put the token in SOAP envelopes as fueloauth and on
// REST calls as a Bearer header. apiHosts are extra hosts the credential may go to (the proxy's --rest-url and --soap-url).
func (s *settings) newTransport(logger *slog.Logger, apiHosts []string) (*transport.Transport, error) {
	switch s.provider {
	case providerMCv1:
		return mcv1.NewTransport(s.mcv1Config(logger, apiHosts), s.transportOptions)
	case providerMCv2:
		return mcv2.NewTransport(s.mcv2Config(logger, apiHosts), s.transportOptions)
	default:
		return acoustic.NewTransport(s.acousticConfig(logger), s.transportOptions)
	}
}

// mcv1Config is the legacy-package configuration the settings describe.
func (s *settings) mcv1Config(logger *slog.Logger, apiHosts []string) mcv1.Config {
	return mcv1.Config{
		Subdomain:    s.subdomain,
		AuthURL:      s.authURL,
		ClientID:     s.clientID,
		ClientSecret: s.clientSecret,
		APIHosts:     apiHosts,
		Logger:       logger,
		Store:        s.tokens,
		HTTPClient:   s.tokenClient,
		Base:         s.apiBase,
		Hook:         s.hook,
	}
}

// mcv2Config is the enhanced-package configuration the settings describe.
func (s *settings) mcv2Config(logger *slog.Logger, apiHosts []string) mcv2.Config {
	return mcv2.Config{
		Subdomain:    s.subdomain,
		AuthURL:      s.authURL,
		ClientID:     s.clientID,
		ClientSecret: s.clientSecret,
		AccountID:    s.accountID,
		Scope:        strings.Fields(s.scope),
		APIHosts:     apiHosts,
		Logger:       logger,
		Store:        s.tokens,
		HTTPClient:   s.tokenClient,
		Base:         s.apiBase,
		Hook:         s.hook,
	}
}

// acousticConfig is the Acoustic configuration the settings describe.
func (s *settings) acousticConfig(logger *slog.Logger) acoustic.Config {
	return acoustic.Config{
		Pod:          s.pod,
		BaseURL:      s.baseURL,
		ClientID:     s.clientID,
		ClientSecret: s.clientSecret,
		RefreshToken: s.refreshToken,
		Logger:       logger,
		Store:        s.tokens,
		HTTPClient:   s.tokenClient,
		Base:         s.apiBase,
		Hook:         s.hook,
		Limiter:      s.acousticLimiter,
	}
}

// newLogger returns the logger of the command's stderr at the configured level and
// format.
func (s *settings) newLogger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.logLevel)); err != nil {
		return nil, usagef("--log-level %q: use debug, info, warn or error", s.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(s.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, usagef("--log-format %q: use text or json", s.logFormat)
	}
}

// settingNames maps the library's configuration fields to the flag and variable
// that set them, so that its errors speak the command line's language.
var settingNames = map[string]string{
	"Subdomain":    "--subdomain (TOKENTRIP_SUBDOMAIN)",
	"AuthURL":      "--auth-url (TOKENTRIP_AUTH_URL)",
	"ClientID":     "--client-id (TOKENTRIP_CLIENT_ID)",
	"ClientSecret": envClientSecret + " (or --client-secret-file)",
	"AccountID":    "--account-id (TOKENTRIP_ACCOUNT_ID)",
	"Scope":        "--scope (TOKENTRIP_SCOPE)",
	"Pod":          "--pod (TOKENTRIP_POD)",
	"BaseURL":      "--base-url (TOKENTRIP_BASE_URL)",
	"RefreshToken": envRefreshToken + " (or --refresh-token-file)",
	"APIHosts":     "--rest-url / --soap-url",
}

// fieldWord finds the library's field names inside a problem's text.
var fieldWord = regexp.MustCompile(`\b(Subdomain|AuthURL|ClientID|ClientSecret|AccountID|Pod|BaseURL|RefreshToken)\b`)

// flagNames maps field names to the short flag form used inside sentences.
var flagNames = map[string]string{
	"Subdomain":    "--subdomain",
	"AuthURL":      "--auth-url",
	"ClientID":     "--client-id",
	"ClientSecret": "the client secret",
	"AccountID":    "--account-id",
	"Pod":          "--pod",
	"BaseURL":      "--base-url",
	"RefreshToken": "the refresh token",
}

// asUsage turns a configuration the library refused before sending anything into
// a usage error that names the flag or variable to fix. Other errors pass through.
func asUsage(err error) error {
	var ce *transport.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	name, ok := settingNames[ce.Field]
	if !ok {
		name = ce.Field
	}
	problem := fieldWord.ReplaceAllStringFunc(ce.Problem, func(f string) string { return flagNames[f] })
	return usagef("%s: bad setting %s: %s", ce.Provider, name, problem)
}

// failure prints a command's error on stderr and returns its exit code: 2 and the
// command's synopsis for a usage error, 1 for anything else. The library's errors
// carry no secret (and say what to do next), so they are printed as they are.
func failure(env *environ, cmd string, err error) int {
	fmt.Fprintf(env.stderr, "tokentrip %s: %v\n", cmd, err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.stderr, "Usage: tokentrip %s %s\nRun \"tokentrip %s -h\" for every flag and variable.\n", cmd, synopses[cmd], cmd)
		return exitUsage
	}
	return exitFailure
}
