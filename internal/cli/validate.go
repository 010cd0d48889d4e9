package cli

import (
	"context"
	"fmt"
)

// validateCmd is `hookgate validate [-config F]`: exit 0 and "F: ok" when the
// config is valid; otherwise every diagnostic on stderr and exit 1.
func validateCmd(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "validate")
	path := configFlag(env, fs)
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		*path = fs.Arg(0)
	}
	if load(env, *path) == nil {
		return 1
	}
	fmt.Fprintf(env.Stdout, "%s: ok\n", *path)
	return 0
}
