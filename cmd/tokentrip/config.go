package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/tokentrip/tokentrip/provider"
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
		return mcv1.NewTransport(s.mcv1Config(logger, apiHosts))
	case providerMCv2:
		return mcv2.NewTransport(s.mcv2Config(logger, apiHosts))
	default:
		return acoustic.NewTransport(s.acousticConfig(logger))
	}
}

// common is what every provider's Config takes from the settings: the token
// client, the Source's logger, Store and hook, and the Transport's options over the
// API base, with apiHosts as extra hosts.
func (s *settings) common(logger *slog.Logger, apiHosts []string) provider.Common {
	opts := s.transportOptions
	opts.Base, opts.Hosts = s.apiBase, apiHosts
	return provider.Common{
		HTTPClient: s.tokenClient,
		Source:     transport.Settings{Logger: logger, Store: s.tokens, Hook: s.hook},
		Transport:  opts,
	}
}

// mcv1Config is the legacy-package configuration the settings describe.
func (s *settings) mcv1Config(logger *slog.Logger, apiHosts []string) mcv1.Config {
	return mcv1.Config{
		Subdomain:    s.subdomain,
		AuthURL:      s.authURL,
		ClientID:     s.clientID,
		ClientSecret: s.clientSecret,
		Common:       s.common(logger, apiHosts),
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
		Common:       s.common(logger, apiHosts),
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
		Common:       s.common(logger, nil),
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

// fieldNames are the library's configuration fields in the command's words, so
// that its errors speak them: the flag or variable that sets each, the same inside
// a sentence, and the key of a proxy config file.
var fieldNames = map[string]struct{ setting, inText, key string }{
	"Subdomain":       {"--subdomain (TOKENTRIP_SUBDOMAIN)", "--subdomain", "subdomain"},
	"AuthURL":         {"--auth-url (TOKENTRIP_AUTH_URL)", "--auth-url", "auth_url"},
	"ClientID":        {"--client-id (TOKENTRIP_CLIENT_ID)", "--client-id", "client_id"},
	"ClientSecret":    {envClientSecret + " (or --client-secret-file)", "the client secret", "the client secret"},
	"AccountID":       {"--account-id (TOKENTRIP_ACCOUNT_ID)", "--account-id", "account_id"},
	"Scope":           {"--scope (TOKENTRIP_SCOPE)", "--scope", "scope"},
	"Pod":             {"--pod (TOKENTRIP_POD)", "--pod", "pod"},
	"BaseURL":         {"--base-url (TOKENTRIP_BASE_URL)", "--base-url", "base_url"},
	"RefreshToken":    {envRefreshToken + " (or --refresh-token-file)", "the refresh token", "the refresh token"},
	"Transport.Hosts": {"--rest-url / --soap-url", "--rest-url / --soap-url", "rest_url / soap_url"},
}

// fieldWord finds the library's field names inside a problem's text.
var fieldWord = regexp.MustCompile(`\b(Subdomain|AuthURL|ClientID|ClientSecret|AccountID|Pod|BaseURL|RefreshToken)\b`)

// asUsage turns a configuration the library refused before sending anything into
// a usage error that names the flag or variable to fix. Other errors pass through.
func asUsage(err error) error {
	var ce *transport.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	return usagef("%s: bad setting %s: %s", ce.Provider, fieldName(ce.Field, false, false), reword(ce.Problem, false))
}

// asConfigKey rewrites a configuration the library refused in the config file's
// words. Other errors pass through.
func asConfigKey(err error) error {
	var ce *transport.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("%s: %s", fieldName(ce.Field, true, false), reword(ce.Problem, true))
}

// reword says the library's field names inside problem in the config file's keys
// (inFile) or the command line's flags.
func reword(problem string, inFile bool) string {
	return fieldWord.ReplaceAllStringFunc(problem, func(f string) string { return fieldName(f, inFile, true) })
}

// fieldName is field in the config file's words (inFile) or the command line's,
// inside a sentence or not; a field fieldNames lacks is left as it is.
func fieldName(field string, inFile, inText bool) string {
	n, ok := fieldNames[field]
	switch {
	case !ok:
		return field
	case inFile:
		return n.key
	case inText:
		return n.inText
	}
	return n.setting
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
