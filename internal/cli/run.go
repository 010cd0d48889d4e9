package cli

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/gateway"
)

// runGCPercent is the garbage collector's target for `hookgate run` when
// GOGC is not set: the heap may grow to 5× what is live between
// collections instead of Go's default 2×. The gateway's live heap is small
// (tens of MB, flat with a million deliveries waiting) while every event
// allocates request and record buffers, so with Go's default collecting
// took a large share of its CPU (docs/operating.md, "Memory and the garbage
// collector", has the figures). GOGC in the environment overrides it.
const runGCPercent = 400

// runCmd is `hookgate run [-config F]`: loads the config and serves it until
// SIGINT or SIGTERM, then shuts down cleanly (exit 0). SIGHUP reloads the
// config file.
func runCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "run")
	path := configFlag(env, fs)
	watch := fs.Bool("watch", false, "reload the config whenever its file changes (as SIGHUP does)")
	format := fs.String("log-format", "text", "log format: text or json")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(env.Stderr, "hookgate run: -log-level %q: want debug, info, warn or error\n", *level)
		return 2
	}
	hopts := &slog.HandlerOptions{Level: lvl}
	var logger *slog.Logger
	switch *format {
	case "text":
		logger = slog.New(slog.NewTextHandler(env.Stderr, hopts))
	case "json":
		logger = slog.New(slog.NewJSONHandler(env.Stderr, hopts))
	default:
		fmt.Fprintf(env.Stderr, "hookgate run: -log-format %q: want text or json\n", *format)
		return 2
	}
	cfg := load(env, *path)
	if cfg == nil {
		return 1
	}
	if _, set := env.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(runGCPercent)
	}
	if _, set := env.LookupEnv("GOMEMLIMIT"); !set {
		if limit := defaultMemoryLimit(); limit > 0 {
			debug.SetMemoryLimit(limit)
		}
	}
	opts := gateway.Options{
		Logger: logger,
		Path:   *path,
		Watch:  *watch,
		// A reload compiles exactly as start-up did.
		NewLoader: func() *config.Loader { return &config.Loader{Registry: env.Registry, LookupEnv: env.LookupEnv} },
	}
	if err := gateway.Run(ctx, cfg, opts); err != nil {
		logger.Error("hookgate stopped", "error", err)
		return 1
	}
	return 0
}
