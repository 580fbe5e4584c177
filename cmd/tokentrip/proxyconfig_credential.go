package main

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// credential is one credential of a proxy config file: its name, the path prefix it
// serves, and its settings with the secrets read.
type credential struct {
	name   string
	prefix string // "/bu/12345": no trailing slash
	settings
}

// credentialKeys are the keys of a [[credential]] table and the providers each
// applies to.
var credentialKeys = map[string][]string{
	"name":               forAll,
	"prefix":             forAll,
	"provider":           forAll,
	"client_id":          forAll,
	"client_secret_env":  forAll,
	"client_secret_file": forAll,
	"subdomain":          forMC,
	"auth_url":           forMC,
	"rest_url":           forMC,
	"soap_url":           forMC,
	"rest_paths":         forMC,
	"account_id":         forMCv2,
	"scope":              forMCv2,
	"pod":                forAcoustic,
	"base_url":           forAcoustic,
	"refresh_token_env":  forAcoustic,
	"refresh_token_file": forAcoustic,
}

// secretWords mark a key that would hold a secret in the file itself.
var secretWords = []string{"secret", "password", "passwd", "token", "credential", "key"}

// Shapes of a credential's name, prefix segments and environment variable names.
var (
	namePattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	segmentPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
	envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	upperEnvName   = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
)

// maxNamePart is the longest part between underscores of a variable's name that
// an error shows when the name is not UPPER_CASE.
const maxNamePart = 16

// showableEnvName reports whether an error may show name, a variable the config
// names for a secret: a client secret or a refresh token pasted in its place has
// the same letters and digits, so only names shaped as people write them are
// shown: UPPER_CASE, or words joined by underscores (mc_secret, NOT_SET_3f1).
func showableEnvName(name string) bool {
	if upperEnvName.MatchString(name) {
		return true
	}
	if !strings.Contains(name, "_") {
		return false
	}
	for part := range strings.SplitSeq(name, "_") {
		if len(part) > maxNamePart {
			return false
		}
	}
	return true
}

// parseCredential reads the i-th [[credential]] table. It reports each problem to
// probs and returns false if there was one.
func parseCredential(env *environ, dir string, i int, t map[string]any, probs *configProblems) (credential, bool) {
	before := probs.n
	who := fmt.Sprintf("credential #%d", i+1)
	str := func(key string) string {
		v, ok := t[key]
		if !ok {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			probs.add(who, "%s must be a string", key)
		}
		return strings.TrimSpace(s)
	}
	var c credential
	c.name = str("name")
	switch {
	case c.name == "":
		probs.add(who, "name is required: it names the credential in logs and errors")
	case !namePattern.MatchString(c.name):
		probs.add(who, "name %q: use up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit", c.name)
	default:
		who = fmt.Sprintf("credential %q", c.name)
	}
	keys := slices.Sorted(maps.Keys(t))
	for _, key := range keys {
		v := t[key]
		_, known := credentialKeys[key]
		switch {
		case known:
		case isSecretKey(key):
			probs.add(who, "%s: secrets are not accepted in the config file (it ends up in backups and version control): %s", key, secretHint(key))
		default:
			if _, table := v.(map[string]any); table {
				probs.add(who, "unknown table %q", key)
			} else {
				probs.add(who, "unknown key %q", key)
			}
		}
	}

	c.provider = strings.ToLower(str("provider"))
	switch {
	case c.provider == "":
		probs.add(who, "provider is required: one of %s", strings.Join(providerNames, ", "))
		return c, false
	case !slices.Contains(providerNames, c.provider):
		probs.add(who, "unknown provider %q: use one of %s", c.provider, strings.Join(providerNames, ", "))
		return c, false
	}
	for _, key := range keys {
		if ps, ok := credentialKeys[key]; ok && !slices.Contains(ps, c.provider) {
			probs.add(who, "%s applies to %s only, not to %s", key, strings.Join(ps, " and "), c.provider)
		}
	}

	c.prefix = str("prefix")
	if _, given := t["prefix"]; !given && c.name != "" {
		c.prefix = "/" + c.name
	}
	if problem := prefixProblem(c.prefix); problem != "" {
		probs.add(who, "prefix %q: %s", c.prefix, problem)
	}
	c.prefix = strings.TrimSuffix(c.prefix, "/")

	c.clientID = str("client_id")
	if c.clientID == "" {
		probs.add(who, "client_id is required")
	}
	c.subdomain = str("subdomain")
	c.authURL = str("auth_url")
	c.restURL = str("rest_url")
	c.soapURL = str("soap_url")
	c.restPaths = str("rest_paths")
	c.accountID = str("account_id")
	c.pod = str("pod")
	c.baseURL = str("base_url")
	if v, ok := t["scope"]; ok {
		scopes, ok := stringList(v)
		if !ok {
			probs.add(who, `scope must be a list of strings, such as ["email_read", "email_write"]`)
		}
		c.scope = strings.Join(scopes, " ")
	}

	var err error
	if c.clientSecret, err = configSecret(env, dir, str("client_secret_env"), str("client_secret_file"), "client_secret"); err != nil {
		probs.add(who, "%v", err)
	}
	if c.provider == providerAcoustic {
		if c.refreshToken, err = configSecret(env, dir, str("refresh_token_env"), str("refresh_token_file"), "refresh_token"); err != nil {
			probs.add(who, "%v", err)
		}
	}
	if probs.n > before {
		return c, false
	}
	if err := c.validate(); err != nil {
		probs.add(who, "%v", err)
		return c, false
	}
	return c, true
}

// isSecretKey reports whether an unknown key looks like it holds a secret.
func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// secretHint says where a secret goes instead of the key that held it.
func secretHint(key string) string {
	if strings.Contains(strings.ToLower(key), "refresh") {
		return "name an environment variable with refresh_token_env, or a file with refresh_token_file"
	}
	return "name an environment variable with client_secret_env, or a file with client_secret_file"
}

// stringList converts a TOML array of strings.
func stringList(v any) ([]string, bool) {
	items, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// prefixProblem says what is wrong with a route prefix, or "". A prefix is one or
// more path segments of unreserved characters, so that it reads the same escaped
// or not.
func prefixProblem(prefix string) string {
	p, ok := strings.CutPrefix(prefix, "/")
	p = strings.TrimSuffix(p, "/")
	switch {
	case !ok:
		return `must start with "/", such as "/bu/12345"`
	case p == "":
		return "must name at least one path segment, such as /bu/12345"
	}
	for i, seg := range strings.Split(p, "/") {
		switch {
		case seg == "":
			return "has an empty segment (//)"
		case seg == "." || seg == "..":
			return `has a "." or ".." segment`
		case !segmentPattern.MatchString(seg):
			return "segments may hold letters, digits, '.', '_', '~' and '-' only"
		case i == 0 && seg == "-":
			return `/-/ is the proxy's own (health and metrics)`
		}
	}
	return ""
}

// configSecret reads a secret from the environment variable or the file a
// credential names (a relative path is taken from the config file's directory).
// Errors name the key, the variable or the file, never the secret.
func configSecret(env *environ, dir, envName, path, key string) (string, error) {
	switch {
	case envName != "" && path != "":
		return "", fmt.Errorf("both %s_env and %s_file are set: give the secret one way only", key, key)
	case envName == "" && path == "":
		return "", fmt.Errorf("%s_env or %s_file is required: the environment variable or the file that holds it", key, key)
	case envName != "":
		if !envNamePattern.MatchString(envName) {
			// Not echoed: the secret itself may have been written here.
			return "", fmt.Errorf("%s_env must be the name of an environment variable (letters, digits and _), not the secret", key)
		}
		v := env.getenv(envName)
		switch {
		case v == "" && showableEnvName(envName):
			return "", fmt.Errorf("%s_env: %s is not set or empty", key, envName)
		case v == "":
			return "", fmt.Errorf("%s_env: the variable it names is not set or empty (the name is not shown: it looks like a secret pasted in its place)", key)
		}
		return v, nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	return readSecret(&environ{getenv: func(string) string { return "" }}, "", path, key+"_file")
}

// validate checks the credential's settings as the library and the router will,
// sending nothing.
func (c *credential) validate() error {
	// The endpoints first: the router's words for them are the most precise.
	if _, err := endpointURL("rest_url", c.restURL, false); err != nil {
		return err
	}
	if _, err := endpointURL("soap_url", c.soapURL, true); err != nil {
		return err
	}
	var err error
	switch c.provider {
	case providerMCv1:
		err = c.mcv1Config(nil, c.apiHosts()).Validate()
	case providerMCv2:
		err = c.mcv2Config(nil, c.apiHosts()).Validate()
	default:
		err = c.acousticConfig(nil).Validate()
	}
	if err != nil {
		return asConfigKey(err)
	}
	switch strings.ToLower(c.restPaths) {
	case "", restPathsPrefixed, restPathsAll:
	default:
		return fmt.Errorf("rest_paths %q: use %q (only /rest/... goes to REST) or %q (every path but SOAP's does)", c.restPaths, restPathsPrefixed, restPathsAll)
	}
	return nil
}

// checkUnique refuses two credentials with one name or one prefix, and a prefix
// inside another's, which would leave it unclear which credential a path is for.
// Both compare without regard to case.
func checkUnique(creds []credential, probs *configProblems) {
	names := map[string]string{}
	prefixes := map[string]string{}
	for _, c := range creds {
		if other, ok := names[strings.ToLower(c.name)]; ok {
			probs.add(fmt.Sprintf("credential %q", c.name), "the name is taken by an earlier credential (%q)", other)
		}
		names[strings.ToLower(c.name)] = c.name
		if other, ok := prefixes[strings.ToLower(c.prefix)]; ok {
			probs.add(fmt.Sprintf("credential %q", c.name), "prefix %s is taken by credential %q", c.prefix, other)
			continue
		}
		prefixes[strings.ToLower(c.prefix)] = c.name
	}
	for _, c := range creds {
		p := strings.ToLower(c.prefix)
		for i := strings.LastIndexByte(p, '/'); i > 0; i = strings.LastIndexByte(p[:i], '/') {
			if other, ok := prefixes[p[:i]]; ok {
				probs.add(fmt.Sprintf("credential %q", c.name), "prefix %s lies inside credential %q's prefix %s", c.prefix, other, c.prefix[:i])
			}
		}
	}
}
