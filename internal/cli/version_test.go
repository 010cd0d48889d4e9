package cli

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/buildinfo"
)

// TestVersion: both forms carry the version, the commit and the Go
// release, and agree. (deploy/deploy_test.go checks a real build's, whose
// commit Go recorded from the git checkout.)
func TestVersion(t *testing.T) {
	code, out, errOut := run(t, "", "version", "-json")
	if code != 0 {
		t.Fatalf("version -json: exit %d\n%s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("version -json: %v\n%s", err, out)
	}
	for _, k := range []string{"version", "commit", "modified", "go_version", "platform"} {
		if _, ok := got[k]; !ok {
			t.Errorf("version -json has no %q:\n%s", k, out)
		}
	}
	if got["version"] != buildinfo.Version || got["version"] == "" || got["go_version"] != runtime.Version() {
		t.Errorf("version -json:\n%s", out)
	}

	code, out, _ = run(t, "", "version")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || lines[0] != "hookgate "+buildinfo.Version ||
		!strings.HasPrefix(lines[1], "commit:") || !strings.Contains(lines[2], runtime.Version()) {
		t.Errorf("version: exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, "", "version", "extra"); code != 2 {
		t.Errorf("version extra: exit %d; want 2", code)
	}
}
