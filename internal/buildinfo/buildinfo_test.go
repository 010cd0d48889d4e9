package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "4e61b5c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6"},
		{Key: "vcs.time", Value: "2025-11-30T00:04:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name            string
		bi              debug.BuildInfo
		ldVersion       string
		ldCommit        string
		version, commit string
		modified        bool
	}{
		{name: "go install from the module proxy",
			bi:      debug.BuildInfo{Main: debug.Module{Path: "github.com/hookgate/hookgate", Version: "v1.4.0"}},
			version: "v1.4.0"},
		{name: "go build in a git checkout",
			bi:      debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20251130000400-4e61b5c0d1e2+dirty"}, Settings: vcs},
			version: "v0.0.0-20251130000400-4e61b5c0d1e2+dirty", commit: "4e61b5c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6", modified: true},
		{name: "go run without version information",
			bi:      debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			version: "dev"},
		{name: "ldflags win (the Dockerfile's build arguments)",
			bi:        debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: vcs},
			ldVersion: "v1.5.0-rc1", ldCommit: "abc123",
			version: "v1.5.0-rc1", commit: "abc123", modified: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, c, dirty, _ := fromBuildInfo(&tt.bi, tt.ldVersion, tt.ldCommit)
			if v != tt.version || c != tt.commit || dirty != tt.modified {
				t.Errorf("got version %q commit %q modified %v; want %q %q %v", v, c, dirty, tt.version, tt.commit, tt.modified)
			}
		})
	}
}

func TestUserAgent(t *testing.T) {
	if ua := UserAgent(); ua != "hookgate/"+Version || !strings.HasPrefix(ua, "hookgate/") || Version == "" {
		t.Errorf("UserAgent() = %q, Version = %q", ua, Version)
	}
}
