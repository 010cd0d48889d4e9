package cli

import (
	"context"
	"fmt"
)

// runCmd is `hookgate run [-config F]`. It loads and checks the config; the
// ingest and delivery servers are the next milestone, so for now it says so
// and exits non-zero rather than pretend to serve.
func runCmd(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "run", "[-config F]")
	path := configFlag(env, fs)
	if code := parse(fs, args); code >= 0 {
		return code
	}
	cfg := load(env, *path)
	if cfg == nil {
		return 1
	}
	fmt.Fprintf(env.Stderr, "hookgate: %s: ok (%d sources, %d routes, %d destinations)\n", *path, len(cfg.Sources), len(cfg.Routes), len(cfg.Destinations))
	fmt.Fprintln(env.Stderr, "hookgate: the ingest and delivery servers are not built yet; use `hookgate route` to dry-run events")
	return 3
}
