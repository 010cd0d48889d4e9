package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestCommand runs `hookgate test` on files that pass, fail (each
// failure with what differs) and do not load, against the Ylytic example,
// and compares the output with testdata/hctest_*.golden.
func TestTestCommand(t *testing.T) {
	cfg := "../../examples/ylytic/config.hcl"
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"pass", []string{"test", "-config", cfg, "testdata/hctest/pass.hctest"}, 0},
		{"fail", []string{"test", "-config", cfg, "testdata/hctest/fail.hctest"}, 1},
		{"both", []string{"test", "-config", cfg, "testdata/hctest/pass.hctest", "testdata/hctest/fail.hctest"}, 1},
		{"broken", []string{"test", "-config", cfg, "testdata/hctest/broken.hctest"}, 1},
		{"missing", []string{"test", "-config", cfg, "testdata/hctest/none.hctest"}, 1},
		{"default_files", []string{"test", "-config", cfg}, 0},
		{"no_files", []string{"test", "-config", "../../examples/bench/config.hcl"}, 1},
		{"broken_config", []string{"test", "-config", "testdata/broken.hcl", "testdata/hctest/pass.hctest"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			got := out
			if errOut != "" {
				got += "--- stderr\n" + errOut
			}
			golden(t, filepath.Join("hctest", tt.name), got)
		})
	}
}

// TestTestCommandJSON: -json carries every verdict, the diff included.
func TestTestCommandJSON(t *testing.T) {
	code, out, errOut := run(t, "", "test", "-json", "-config", "../../examples/ylytic/config.hcl", "testdata/hctest/fail.hctest")
	if code != 1 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	var rep testReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.Passed != 1 || rep.Failed != 5 || len(rep.Tests) != 6 {
		t.Fatalf("passed %d, failed %d, tests %d", rep.Passed, rep.Failed, len(rep.Tests))
	}
	first := rep.Tests[0]
	if first.Passed || len(first.Failures) != 1 || first.Failures[0].Destination != "tiktok_team" ||
		!strings.Contains(first.Failures[0].Diff, `-  "platform": "TikTok"`) || !strings.Contains(first.Failures[0].Diff, `+  "platform": "tiktok"`) {
		t.Errorf("first test: %+v", first)
	}
	if first.Line != 3 || first.File != "testdata/hctest/fail.hctest" {
		t.Errorf("first test at %s:%d", first.File, first.Line)
	}
}
