package telemetry_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportsNeitherConfigNorStore: telemetry takes its own options
// (TracingOptions, DepthSource, BlockedSource) and the gateway maps the
// config and the store to them, so that the packages every part records
// into do not depend on the config's compiler or the store.
func TestImportsNeitherConfigNorStore(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test runs `go list`: %v (install Go and put it on PATH)", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	const mod = "github.com/hookgate/hookgate/"
	if !slices.Contains(deps, mod+"internal/telemetry") {
		t.Fatalf("go list -deps does not list telemetry itself:\n%s", out)
	}
	for _, d := range deps {
		for _, banned := range []string{mod + "internal/config", mod + "internal/store"} {
			if d == banned || strings.HasPrefix(d, banned+"/") {
				t.Errorf("telemetry depends on %s", d)
			}
		}
	}
}
