package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
)

// maxSecretFile bounds what is read from a secret file: a secret is a line, and a
// path pointing at something huge by mistake should fail rather than fill memory.
const maxSecretFile = 64 << 10

// readSecrets fills the client secret and the refresh token from their environment
// variables or their files. Giving both for one secret is an error: tokentrip will
// not guess which one is stale.
func (s *settings) readSecrets(env *environ) error {
	var err error
	s.clientSecret, err = readSecret(env, envClientSecret, s.clientSecretFile, "--client-secret-file")
	if err != nil {
		return err
	}
	if s.provider != providerAcoustic {
		// Marketing Cloud refresh tokens rotate on every use; a command line
		// cannot keep the new one, so the CLI does not take them.
		return nil
	}
	s.refreshToken, err = readSecret(env, envRefreshToken, s.refreshTokenFile, "--refresh-token-file")
	return err
}

// readSecret returns the secret in the variable named by envName or in the file at
// path. Errors name the variable or the file, never the secret.
func readSecret(env *environ, envName, path, flagName string) (string, error) {
	fromEnv := env.getenv(envName)
	switch {
	case fromEnv != "" && path != "":
		return "", usagef("both %s and %s are set: give the secret one way only", envName, flagName)
	case path == "":
		return fromEnv, nil
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return "", usagef("%s: cannot read %s: %v", flagName, path, pe.Err)
		}
		return "", usagef("%s: cannot read %s", flagName, path)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", usagef("%s: cannot read %s", flagName, path)
	}
	if len(data) > maxSecretFile {
		return "", usagef("%s: %s is larger than %d bytes; it should hold the secret alone", flagName, path, maxSecretFile)
	}
	// Editors end files with a line break; the secret is the line before it.
	secret := bytes.TrimRight(data, "\r\n")
	switch {
	case len(secret) == 0:
		return "", usagef("%s: %s is empty", flagName, path)
	case bytes.ContainsAny(secret, "\r\n"):
		// A file of several lines is the wrong file (a .env, a key file), and all
		// of it would go to the vendor's token endpoint as the secret.
		return "", usagef("%s: %s holds more than one line; it should hold the secret alone", flagName, path)
	}
	return string(secret), nil
}
