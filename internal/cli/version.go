package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hookgate/hookgate/internal/buildinfo"
)

// versionCmd is `hookgate version [-json]`: the version, the commit it was
// built from and the Go release that compiled it, as lines or one JSON
// object (buildinfo.Info).
func versionCmd(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "version")
	asJSON := fs.Bool("json", false, "print one JSON object: version, commit, modified, commit_time, go_version, platform")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "hookgate version: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	info := buildinfo.Read()
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(info); err != nil {
			fmt.Fprintf(env.Stderr, "hookgate version: %v\n", err)
			return 1
		}
		return 0
	}
	commit := info.Commit
	switch {
	case commit == "":
		commit = "unknown"
	case info.Modified:
		commit += " (modified)"
	}
	fmt.Fprintf(env.Stdout, "hookgate %s\ncommit:   %s\ngo:       %s %s\n", info.Version, commit, info.GoVersion, info.Platform)
	return 0
}
