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
	"strconv"
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

// Main runs the command named by args[0] and returns the process exit code.
func Main(ctx context.Context, args []string, env *Env) int {
	if env.LookupEnv == nil {
		env.LookupEnv = os.LookupEnv
	}
	if len(args) == 0 || isHelp(args[0]) {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := root.child(args[0])
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "hookgate: unknown command %q\n\n", args[0])
		usage(env.Stderr)
		return 2
	}
	return cmd.dispatch(ctx, env, cmd.name, args[1:])
}

// usage is the top-level help: every command of the table.
func usage(w io.Writer) {
	fmt.Fprintln(w, "hookgate: a declarative webhook gateway\n\nUsage: hookgate COMMAND [flags]\n\nCommands:")
	listCommands(w, root.children)
	fmt.Fprintln(w, "\nRun 'hookgate COMMAND -h' for a command's flags.")
}

// newFlags returns the flag set of the command at path name ("dlq
// replay"), its Usage line from the command table; its errors and help
// go to stderr.
func newFlags(env *Env, name string) *flag.FlagSet {
	cmd := lookup(name)
	if cmd == nil {
		panic("cli: no command " + strconv.Quote(name) + " in the command table")
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: hookgate %s %s\n", name, cmd.usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args into fs and returns the exit code to stop with, or -1 to
// go on. -h prints the usage, the flags and the command's example (exit 0).
func parse(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printExample(fs.Output(), lookup(fs.Name()))
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
