// Package buildinfo holds hookgate's version, set at build time with
// -ldflags "-X github.com/hookgate/hookgate/gateway/buildinfo.Version=v1.2.3".
package buildinfo

import "runtime/debug"

// Version is hookgate's version.
var Version = ""

func init() {
	if Version != "" {
		return
	}
	Version = "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		Version = bi.Main.Version
	}
}

// UserAgent is the User-Agent header of every delivery: hookgate/<version>.
func UserAgent() string { return "hookgate/" + Version }
