package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// defaultEmulateListen is where "tokentrip emulate" serves unless told otherwise:
// beside the proxy's default port.
const defaultEmulateListen = "127.0.0.1:8788"

// emulatorInfo is what "tokentrip emulate" prints on stdout: where the emulator
// is, the credentials it accepts, and the settings that point "tokentrip token"
// and "tokentrip proxy" at it.
type emulatorInfo struct {
	Provider     string `json:"provider"`
	BaseURL      string `json:"base_url"`
	TokenURL     string `json:"token_url"`
	ControlsURL  string `json:"controls_url"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	AccountID    string `json:"account_id,omitempty"`    // mcv2: a business unit to ask for
	RefreshToken string `json:"refresh_token,omitempty"` // acoustic
	APIUsername  string `json:"api_username,omitempty"`  // Marketing Cloud SOAP UsernameToken
	APIPassword  string `json:"api_password,omitempty"`
	// Env holds the TOKENTRIP_ variables that make "tokentrip token" and
	// "tokentrip proxy" use this emulator and its credentials.
	Env map[string]string `json:"env"`
}

// emulatorServer is what the three emulator packages' servers have in common here.
type emulatorServer interface {
	Close()
}

// runEmulate is "tokentrip emulate": serve one vendor's emulator until SIGINT or
// SIGTERM, for tests written in any language and for trying tokentrip without
// real credentials.
func runEmulate(ctx context.Context, env *environ, args []string) int {
	var s settings
	c := emulateCLI(env, &s)
	if code, ok := c.parseArgs(args, &s); !ok {
		return code
	}
	if err := checkEmulateListen(s.listen); err != nil {
		return failure(env, "emulate", err)
	}
	s.logLevel = "info"
	if _, err := s.newLogger(env.stderr); err != nil {
		return failure(env, "emulate", err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return failure(env, "emulate", err)
	}
	srv, info := startEmulator(s.provider, ln)

	// The proxy's line, in the same form and log format: scripts that start the
	// emulator on port 0 read the address from it (or from the JSON on stdout).
	announceListening(env, &s, "emulate", info.BaseURL, s.provider, "provider", s.provider)
	out, err := json.Marshal(info)
	if err != nil {
		srv.Close()
		return failure(env, "emulate", err)
	}
	fmt.Fprintf(env.stdout, "%s\n", out)

	<-ctx.Done()
	return closeEmulator(env, srv, stop)
}

// emulateGrace is how long "tokentrip emulate" waits, once told to stop, for
// requests still in flight. Held and delayed requests are cut short at once; what
// remains is a client sending its body slowly, or not at all.
const emulateGrace = 2 * time.Second

// closeEmulator stops srv after a SIGINT or SIGTERM: a second signal ends the
// process at once, and requests still in flight after emulateGrace are cut short
// (exit 1), so that a stalled client cannot keep the emulator from stopping.
func closeEmulator(env *environ, srv emulatorServer, stopSignals func()) int {
	stopSignals() // the default action again: a second Ctrl-C ends the process
	fmt.Fprintf(env.stderr, "tokentrip emulate: stopping; requests in flight get %s, a second SIGINT or SIGTERM ends it at once\n", emulateGrace)
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
		return exitOK
	case <-time.After(emulateGrace):
		fmt.Fprintf(env.stderr, "tokentrip emulate: requests still in flight after %s were cut short\n", emulateGrace)
		return exitFailure
	}
}

// emulateCLI is the flag set of "tokentrip emulate", filling s. --listen and
// --log-format have no variable: TOKENTRIP_LISTEN and TOKENTRIP_LOG_FORMAT are the
// proxy's, and must not change the emulator.
func emulateCLI(env *environ, s *settings) *cli {
	c := newCLI("emulate", "Serve a vendor's emulator over HTTP: its token endpoint and APIs, plus JSON controls under "+emulator.ControlPrefix+".\n"+
		"stdout gets one JSON object with the base URL, the test credentials and the TOKENTRIP_ variables for token and proxy.", env)
	c.str(&s.provider, "provider", "TOKENTRIP_PROVIDER", "NAME", "",
		"the vendor to emulate: mcv1 (Marketing Cloud legacy package), mcv2 (enhanced package) or acoustic (required)", forAll)
	c.str(&s.listen, "listen", "", "ADDR", defaultEmulateListen,
		"the address to serve on; port 0 picks a free one", forAll)
	c.str(&s.logFormat, "log-format", "", "FORMAT", "text",
		"the listening line's format on stderr, as the proxy's: text or json", forAll)
	return c
}

// checkEmulateListen refuses an address that cannot be listened on before anything
// starts. Any interface is allowed: the emulator guards no real credential.
func checkEmulateListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--listen %q: want host:port, such as %s", addr, defaultEmulateListen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usagef("--listen %q: the port must be a number from 0 to 65535", addr)
	}
	return nil
}

// startEmulator serves provider's emulator on ln and says how to reach it.
func startEmulator(provider string, ln net.Listener) (emulatorServer, emulatorInfo) {
	var info emulatorInfo
	switch provider {
	case providerMCv1:
		srv := mcv1test.NewServer(mcv1test.WithListener(ln))
		info = emulatorInfo{
			BaseURL: srv.URL, TokenURL: srv.URL + emulator.MCv1TokenPath,
			ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
			APIUsername: srv.APIUsername, APIPassword: srv.APIPassword,
			Env: map[string]string{
				"TOKENTRIP_AUTH_URL": srv.URL,
				"TOKENTRIP_REST_URL": srv.URL,
				"TOKENTRIP_SOAP_URL": srv.URL + "/Service.asmx",
			},
		}
		return finish(srv, provider, info)
	case providerMCv2:
		srv := mcv2test.NewServer(mcv2test.WithListener(ln))
		info = emulatorInfo{
			BaseURL: srv.URL, TokenURL: srv.URL + emulator.MCv2TokenPath,
			ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
			AccountID:   srv.AccountID,
			APIUsername: srv.APIUsername, APIPassword: srv.APIPassword,
			Env: map[string]string{
				"TOKENTRIP_AUTH_URL":   srv.URL,
				"TOKENTRIP_ACCOUNT_ID": srv.AccountID,
			},
		}
		return finish(srv, provider, info)
	default:
		srv := acoustictest.NewServer(acoustictest.WithListener(ln))
		info = emulatorInfo{
			BaseURL: srv.URL, TokenURL: srv.URL + emulator.AcousticTokenPath,
			ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
			RefreshToken: srv.RefreshToken,
			Env: map[string]string{
				"TOKENTRIP_BASE_URL":      srv.URL,
				"TOKENTRIP_REFRESH_TOKEN": srv.RefreshToken,
			},
		}
		return finish(srv, provider, info)
	}
}

// finish fills what every provider's info holds.
func finish(srv emulatorServer, provider string, info emulatorInfo) (emulatorServer, emulatorInfo) {
	info.Provider = provider
	info.ControlsURL = info.BaseURL + emulator.ControlPrefix
	info.Env["TOKENTRIP_PROVIDER"] = provider
	info.Env["TOKENTRIP_CLIENT_ID"] = info.ClientID
	info.Env[envClientSecret] = info.ClientSecret
	return srv, info
}
