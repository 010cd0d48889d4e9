package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// run runs hookgate with args and an empty environment.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		LookupEnv: func(string) (string, bool) { return "", false },
	}
	code = Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

// golden compares got with testdata/NAME.golden, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run with -update if the change is intended)\n--- got:\n%s\n--- want:\n%s", name, path, got, want)
	}
}

func TestValidateValid(t *testing.T) {
	code, out, errOut := run(t, "", "validate", "-config", "../../config.hcl")
	if code != 0 || out != "../../config.hcl: ok\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, errOut)
	}
	if errOut != "" {
		t.Errorf("the showcase config has warnings:\n%s", errOut)
	}
}

func TestValidateBroken(t *testing.T) {
	code, out, errOut := run(t, "", "validate", "-config", "testdata/broken.hcl")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	golden(t, "validate_broken", errOut)
}

func TestValidateMissingFile(t *testing.T) {
	code, _, errOut := run(t, "", "validate", "-config", "testdata/nope.hcl")
	if code != 1 || !strings.Contains(errOut, "Cannot read config file") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestFmt(t *testing.T) {
	src, err := os.ReadFile("testdata/unformatted.hcl")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, string(src), "fmt", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "fmt", out)
	// Formatting is idempotent.
	if code, again, _ := run(t, out, "fmt", "-"); code != 0 || again != out {
		t.Errorf("fmt of formatted output changed it:\n%s", again)
	}

	dir := t.TempDir()
	messy, tidy := filepath.Join(dir, "messy.hcl"), filepath.Join(dir, "tidy.hcl")
	os.WriteFile(messy, src, 0o644)
	os.WriteFile(tidy, []byte(out), 0o644)
	if code, list, _ := run(t, "", "fmt", "-check", messy, tidy); code != 1 || list != messy+"\n" {
		t.Errorf("fmt -check: exit %d, listed %q; want exit 1 and only %s", code, list, messy)
	}
	if b, _ := os.ReadFile(messy); !bytes.Equal(b, src) {
		t.Error("fmt -check changed a file")
	}
	if code, list, _ := run(t, "", "fmt", messy, tidy); code != 0 || list != messy+"\n" {
		t.Errorf("fmt: exit %d, listed %q", code, list)
	}
	if b, _ := os.ReadFile(messy); string(b) != out {
		t.Error("fmt did not rewrite the file")
	}
}

func TestFmtRefusesSyntaxErrors(t *testing.T) {
	code, out, errOut := run(t, "route \"x\" {\n  source = \n}\n", "fmt", "-")
	if code != 1 || out != "" || !strings.Contains(errOut, "-:2:") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestRoute(t *testing.T) {
	cases := []struct{ name, source, event string }{
		{"route_tiktok", "ylytic", "creator_insights_tiktok"},
		{"route_instagram", "ylytic", "creator_insights_instagram"},
		{"route_failed", "ylytic", "creator_insights_failed"},
		{"route_invalid", "ylytic", "invalid_connector"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", "route", "-config", "../../config.hcl", "-source", tc.source,
				"-H", "X-Ylytic-Token: dev-ylytic-token", "-id", "msg_2ZbTKsyVxvQkyTm4bW8ihR5xpfR", "-timestamp", "1763900000",
				"../../examples/ylytic/events/"+tc.event+".json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tc.name, out)
		})
	}
}

func TestRouteReportsBadSignature(t *testing.T) {
	code, out, _ := run(t, "", "route", "-config", "../../config.hcl", "-source", "ylytic",
		"-H", "X-Ylytic-Token: wrong", "../../examples/ylytic/events/creator_insights_tiktok.json")
	if code != 0 || !strings.Contains(out, `"status": 401`) || !strings.Contains(out, `"ok": false`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errOut := run(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}
