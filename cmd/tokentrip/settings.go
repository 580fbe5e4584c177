package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokentrip/tokentrip/transport"
)

// Provider names, as --provider and TOKENTRIP_PROVIDER take them.
const (
	providerMCv1     = "mcv1"
	providerMCv2     = "mcv2"
	providerAcoustic = "acoustic"
)

var providerNames = []string{providerMCv1, providerMCv2, providerAcoustic}

// Which providers a setting applies to.
var (
	forAll      = providerNames
	forMC       = []string{providerMCv1, providerMCv2}
	forMCv2     = []string{providerMCv2}
	forAcoustic = []string{providerAcoustic}
)

// defaultTimeout bounds "tokentrip token"'s wait for the token endpoint.
const defaultTimeout = 30 * time.Second

// Environment variables of the secrets, which have no flag.
const (
	envClientSecret = "TOKENTRIP_CLIENT_SECRET"
	envRefreshToken = "TOKENTRIP_REFRESH_TOKEN"
)

// secretFlags are the flags people reach for to pass a secret. tokentrip refuses
// them with a pointer to the environment variable or file that takes the secret,
// since a flag's value shows in the shell history and the process list.
var secretFlags = map[string]string{
	"client-secret": envClientSecret + " or --client-secret-file",
	"clientsecret":  envClientSecret + " or --client-secret-file",
	"secret":        envClientSecret + " or --client-secret-file",
	"refresh-token": envRefreshToken + " or --refresh-token-file",
	"refreshtoken":  envRefreshToken + " or --refresh-token-file",
}

// settings is what the token and proxy commands are told, from flags, the
// environment and secret files.
type settings struct {
	provider         string
	clientID         string
	clientSecretFile string
	subdomain        string
	authURL          string
	accountID        string
	scope            string
	pod              string
	baseURL          string
	refreshTokenFile string
	logLevel         string
	logFormat        string

	// token
	jsonOut  bool
	timeout  time.Duration
	cacheDir string // --cache: keep tokens between runs there (token.go)

	// proxy
	listen      string
	allowRemote bool
	restURL     string
	soapURL     string
	restPaths   string // --rest-paths, a config file's rest_paths

	proxySettings // the proxy's guards, caps and timeouts: proxy_settings.go

	// The secrets, read from the environment or from files, never from a flag.
	clientSecret string
	refreshToken string

	// tokens is the Store the credential's Source shares tokens through (nil: none).
	tokens transport.Store
}

// option is one flag, with the environment variable that stands in for it when the
// flag is not given and the providers it applies to.
type option struct {
	name      string         // the flag, without dashes
	env       string         // its environment variable; "" for none
	arg       string         // the value's placeholder in the usage, "" for a boolean flag
	usage     string         // what it sets
	providers []string       // the providers it applies to
	str       *string        // where a string value goes
	dur       *time.Duration // where a duration goes
	def       string         // the default, as shown in the usage
}

// cli is the flag set of one command with its options.
type cli struct {
	cmd     string
	summary string
	fs      *flag.FlagSet
	opts    []*option
	env     *environ
}

// newCLI returns the empty flag set of cmd; parse errors are returned, not printed.
func newCLI(cmd, summary string, env *environ) *cli {
	fs := flag.NewFlagSet("tokentrip "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := &cli{cmd: cmd, summary: summary, fs: fs, env: env}
	fs.Usage = func() {}
	return c
}

// str registers a string flag, its variable and the providers it applies to.
func (c *cli) str(dst *string, name, env, arg, def, usage string, providers []string) {
	*dst = def
	c.fs.StringVar(dst, name, def, usage)
	c.opts = append(c.opts, &option{name: name, env: env, arg: arg, usage: usage, providers: providers, str: dst, def: def})
}

// duration registers a duration flag and its variable.
func (c *cli) duration(dst *time.Duration, name, env, arg string, def time.Duration, usage string) {
	*dst = def
	c.fs.DurationVar(dst, name, def, usage)
	c.opts = append(c.opts, &option{name: name, env: env, arg: arg, usage: usage, providers: forAll, dur: dst, def: def.String()})
}

// boolean registers a boolean flag, which has no variable: what it allows must be
// asked for on the command line.
func (c *cli) boolean(dst *bool, name, usage string) {
	c.fs.BoolVar(dst, name, false, usage)
	c.opts = append(c.opts, &option{name: name, usage: usage, providers: forAll})
}

// credentialFlags registers the settings of a credential, which token and proxy
// share.
func (c *cli) credentialFlags(s *settings) {
	c.str(&s.provider, "provider", "TOKENTRIP_PROVIDER", "NAME", "",
		"the protocol: mcv1 (Marketing Cloud legacy package), mcv2 (enhanced package) or acoustic (required)", forAll)
	c.str(&s.clientID, "client-id", "TOKENTRIP_CLIENT_ID", "ID", "",
		"the API integration's (or application's) client id (required)", forAll)
	c.str(&s.clientSecretFile, "client-secret-file", "TOKENTRIP_CLIENT_SECRET_FILE", "PATH", "",
		"a file holding the client secret (or set "+envClientSecret+"; never a flag)", forAll)
	c.str(&s.subdomain, "subdomain", "TOKENTRIP_SUBDOMAIN", "SUB", "",
		"the tenant subdomain, the 28 characters starting with mc in https://SUB.auth.marketingcloudapis.com", forMC)
	c.str(&s.authURL, "auth-url", "TOKENTRIP_AUTH_URL", "URL", "",
		"the auth service's base URL instead of the subdomain's: an older stack, a sandbox or an emulator", forMC)
	c.str(&s.accountID, "account-id", "TOKENTRIP_ACCOUNT_ID", "MID", "",
		"the MID of the business unit the token is for (default: the package's own)", forMCv2)
	c.str(&s.scope, "scope", "TOKENTRIP_SCOPE", "SCOPES", "",
		"space-separated scopes to request (default: every scope the package grants)", forMCv2)
	c.str(&s.pod, "pod", "TOKENTRIP_POD", "POD", "",
		"the org's pod: 1 to 9, A, B or PILOT", forAcoustic)
	c.str(&s.baseURL, "base-url", "TOKENTRIP_BASE_URL", "URL", "",
		"the org's API base URL instead of --pod: a newer pod or an emulator", forAcoustic)
	c.str(&s.refreshTokenFile, "refresh-token-file", "TOKENTRIP_REFRESH_TOKEN_FILE", "PATH", "",
		"a file holding the refresh token (or set "+envRefreshToken+"; never a flag)", forAcoustic)
}

// logFlags registers the log settings; def is the command's default level.
func (c *cli) logFlags(s *settings, def string) {
	c.str(&s.logLevel, "log-level", "TOKENTRIP_LOG_LEVEL", "LEVEL", def,
		"what to log on stderr: debug (every token event), info, warn or error", forAll)
	c.str(&s.logFormat, "log-format", "TOKENTRIP_LOG_FORMAT", "FORMAT", "text",
		"the log's format: text or json", forAll)
}

// usageError is a mistake in how tokentrip was called: exit code 2, with the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseArgs parses args into s for the command's run function. When it reports
// false the command ends with the code it returns: 0 after the usage for -h, or
// that of the usage error it printed.
func (c *cli) parseArgs(args []string, s *settings) (int, bool) {
	err := c.parse(args, s)
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		c.usage(c.env.stdout, synopses[c.cmd])
		return exitOK, false
	}
	return failure(c.env, c.cmd, err), false
}

// parse reads args, then the environment for every flag not given, then the
// secrets. It returns flag.ErrHelp when help was asked for.
func (c *cli) parse(args []string, s *settings) error {
	given, err := c.parseFlags(args)
	if err != nil {
		return err
	}
	if s.provider == "" {
		return usagef("--provider (or TOKENTRIP_PROVIDER) is required: one of %s", strings.Join(providerNames, ", "))
	}
	s.provider = strings.ToLower(s.provider)
	if !slices.Contains(providerNames, s.provider) {
		return usagef("unknown provider %q: use one of %s", s.provider, strings.Join(providerNames, ", "))
	}
	// A flag given for another provider is a mistake; a variable set for another
	// provider is left alone, since one shell may serve several.
	for _, o := range c.opts {
		if given[o.name] && !slices.Contains(o.providers, s.provider) {
			return usagef("--%s applies to %s only, not to %s", o.name, strings.Join(o.providers, " and "), s.provider)
		}
	}
	if s.timeout <= 0 && c.fs.Lookup("timeout") != nil {
		return usagef("--timeout must be positive")
	}
	return s.readSecrets(c.env)
}

// parseFlags reads args, then the environment for every flag not given, and
// returns the names of the flags given. It returns flag.ErrHelp when help was asked
// for.
func (c *cli) parseFlags(args []string) (map[string]bool, error) {
	if err := refuseSecretFlags(args); err != nil {
		return nil, err
	}
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{msg: err.Error()}
	}
	if c.fs.NArg() > 0 {
		// The arguments are not echoed: a misplaced secret would end up on the screen.
		return nil, usagef("unexpected argument(s) after the flags (%d); every setting is a --flag or a TOKENTRIP_ variable", c.fs.NArg())
	}
	given := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, o := range c.opts {
		if given[o.name] || o.env == "" {
			continue
		}
		v := strings.TrimSpace(c.env.getenv(o.env))
		if v == "" {
			continue
		}
		switch {
		case o.str != nil:
			*o.str = v
		case o.dur != nil:
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, usagef("%s: %q is not a duration such as 30s or 2m", o.env, v)
			}
			*o.dur = d
		}
	}
	return given, nil
}

// refuseSecretFlags turns away a secret given as a flag, before the flag package
// could echo anything, and says where the secret goes instead.
func refuseSecretFlags(args []string) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if where, ok := secretFlags[strings.ToLower(name)]; ok {
			return usagef("secrets are not accepted as flags (they would show in the shell history and the process list): use %s", where)
		}
	}
	return nil
}

// usage prints the command's usage with every flag and its variable.
func (c *cli) usage(w io.Writer, synopsis string) {
	fmt.Fprintf(w, "Usage: tokentrip %s %s\n\n%s\n\nFlags (a flag wins over its environment variable):\n", c.cmd, synopsis, c.summary)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, o := range c.opts {
		flagCol := "  --" + o.name
		if o.arg != "" {
			flagCol += " " + o.arg
		}
		env := o.env
		if env == "" {
			env = "-"
		}
		note := o.usage
		if o.def != "" && o.def != "0s" {
			note += " (default " + o.def + ")"
		}
		if len(o.providers) != len(forAll) {
			note += " [" + strings.Join(o.providers, ", ") + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", flagCol, env, note)
	}
	if c.fs.Lookup("client-id") != nil {
		// The secrets have variables and files, never flags.
		fmt.Fprintf(tw, "  (no flag)\t%s\tthe client secret (or --client-secret-file)\n", envClientSecret)
		fmt.Fprintf(tw, "  (no flag)\t%s\tthe refresh token (or --refresh-token-file) [acoustic]\n", envRefreshToken)
	}
	_ = tw.Flush()
}
