// Package cli is hookgate's command line: it parses arguments, loads the
// config and runs one command. main.go only calls Main.
//
// Commands write results to stdout and diagnostics to stderr, and return an
// exit code; nothing here calls os.Exit.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/plugins"

	// Every built-in verify and sign plugin.
	_ "github.com/hookgate/hookgate/plugins/standard"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	LookupEnv func(string) (string, bool)
	// Registry holds the plugins; nil means plugins.Default.
	Registry *plugins.Registry
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) int
}

var commands = map[string]command{
	"run":      {"run the gateway", runCmd},
	"validate": {"check a config file and print every problem", validateCmd},
	"fmt":      {"format config files canonically", fmtCmd},
	"route":    {"dry run: show where an event would go and the exact requests", routeCmd},
	"plan":     {"compare what a new config does with recorded events to what the current one does", planCmd},
	"test":     {"run the config's *.hctest test blocks: what each event gets, pass or fail with a diff", testCmd},
	"version":  {"print hookgate's version", versionCmd},
	"send":     {"sign an event the way a source verifies and POST it to the gateway", sendCmd},
	"sink":     {"a local receiver that prints, checks and fails deliveries", sinkCmd},
	"bench":    {"load-test the gateway (or a bare relay) end to end", benchCmd},

	"deliveries": {"list deliveries, show one with its attempts, or discard one (admin API)", deliveriesCmd},
	"dlq":        {"list, replay or export dead-lettered deliveries (admin API)", dlqCmd},
	"events":     {"search, show or export accepted events (admin API)", eventsCmd},
	"stats":      {"per destination: deliveries by state, success rate, latency, retries (admin API)", statsCmd},
	"backup":     {"save a consistent snapshot of the running gateway's embedded store to a file (admin API)", backupCmd},

	"destinations": {"send a test event to a destination and show the attempt, or list its blocked ordering keys (admin API)", destinationsCmd},
}

// Main runs the command named by args[0] and returns the process exit code.
func Main(ctx context.Context, args []string, env *Env) int {
	if env.LookupEnv == nil {
		env.LookupEnv = os.LookupEnv
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "hookgate: unknown command %q\n\n", args[0])
		usage(env.Stderr)
		return 2
	}
	return cmd.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "hookgate: a declarative webhook gateway\n\nUsage: hookgate COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'hookgate COMMAND -h' for a command's flags.")
}

// newFlags returns a flag set whose errors and help go to stderr.
func newFlags(env *Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: hookgate %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args into fs and returns the exit code to stop with, or -1 to
// go on.
func parse(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	return -1
}

// configFlag declares -config, defaulting to $HOOKGATE_CONFIG or config.hcl.
func configFlag(env *Env, fs *flag.FlagSet) *string {
	def := "config.hcl"
	if v, ok := env.LookupEnv("HOOKGATE_CONFIG"); ok && v != "" {
		def = v
	}
	return fs.String("config", def, "config file (default $HOOKGATE_CONFIG or config.hcl)")
}

// load loads the config at path, printing every diagnostic (warnings too) to
// stderr. It returns nil when the config has errors.
func load(env *Env, path string) *config.Config {
	l := &config.Loader{Registry: env.Registry, LookupEnv: env.LookupEnv}
	cfg, diags := l.Load(path)
	config.WriteDiagnostics(env.Stderr, diags, l.Files())
	return cfg
}

// headerFlags collects repeated -H 'Key: Value' flags.
type headerFlags []string

func (h *headerFlags) String() string { return strings.Join(*h, ", ") }

func (h *headerFlags) Set(v string) error {
	k, _, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want 'Key: Value', got %q", v)
	}
	*h = append(*h, v)
	return nil
}
