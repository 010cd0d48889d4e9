// Package buildinfo holds hookgate's version and what it was built from.
//
// The version comes, first found, from -ldflags
// "-X github.com/hookgate/hookgate/internal/buildinfo.Version=v1.2.3" (the
// Dockerfile's VERSION build argument), from the module version Go records
// in the binary (`go install github.com/hookgate/hookgate@v1.2.3`, or the
// pseudo-version `go build` derives from a git checkout), or is "dev". The
// commit comes from -X ….Commit or from the vcs.revision Go records when it
// builds inside a git checkout.
//
// It must not import anything of hookgate's: every part may read it.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Version is hookgate's version: set with -ldflags -X, else read from the
// binary's build information in init.
var Version = ""

// Commit is the git commit hookgate was built from: set with -ldflags -X,
// else read from the binary's build information in init; empty when
// unknown (a `go install` from the module proxy records none).
var Commit = ""

// modified and built are read from the build information in init.
var (
	modified bool
	built    string
)

func init() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	Version, Commit, modified, built = fromBuildInfo(bi, Version, Commit)
}

// fromBuildInfo resolves the version and commit: what -ldflags set wins,
// then what Go recorded in bi.
func fromBuildInfo(bi *debug.BuildInfo, version, commit string) (v, c string, dirty bool, at string) {
	v, c = version, commit
	if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if v == "" {
		v = "dev"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if c == "" {
				c = s.Value
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		case "vcs.time":
			at = s.Value
		}
	}
	return v, c, dirty, at
}

// Info is what `hookgate version` prints.
type Info struct {
	// Version is Version.
	Version string `json:"version"`
	// Commit is Commit: empty when unknown.
	Commit string `json:"commit"`
	// Modified reports that the git checkout had uncommitted changes.
	Modified bool `json:"modified"`
	// CommitTime is the commit's time (RFC 3339), when Go recorded it.
	CommitTime string `json:"commit_time,omitempty"`
	// GoVersion is the Go release that compiled the binary.
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Read returns the build's Info.
func Read() Info {
	return Info{
		Version:    Version,
		Commit:     Commit,
		Modified:   modified,
		CommitTime: built,
		GoVersion:  runtime.Version(),
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// UserAgent is the User-Agent header of every delivery: hookgate/<version>.
func UserAgent() string { return "hookgate/" + Version }
