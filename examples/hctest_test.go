package examples_test

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/hctest"
)

var update = flag.Bool("update", false, "rewrite each example's tests.hctest from its README's table")

// TestExampleHctests: each example folder's tests.hctest holds one test
// per row group of its README's table (the answer, each delivered body,
// and expect_none for every other destination), and every test passes
// under the example's config (scripts/test.sh runs `hookgate test` on each
// too). -update rewrites the files from the READMEs.
func TestExampleHctests(t *testing.T) {
	for _, p := range append(slices.Clone(platforms), "providers") {
		t.Run(p, func(t *testing.T) {
			cfg, diags := (&config.Loader{LookupEnv: noEnv}).Load(filepath.Join(p, "config.hcl"))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			defer cfg.Close()
			want := hctestFromReadme(t, p, cfg)
			path := filepath.Join(p, "tests.hctest")
			if *update {
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./examples -run TestExampleHctests -update writes it)", err)
			}
			if string(got) != want {
				t.Errorf("%s does not match %s/README.md's table; go test ./examples -run TestExampleHctests -update rewrites it", path, p)
			}
			pr := &hctest.Parser{LookupEnv: noEnv}
			f, diags := pr.ParseFile(path)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if diags := f.Check(cfg); diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if n := len(readSamples(t, p)); len(f.Tests) != n {
				t.Errorf("%d tests for %d README rows", len(f.Tests), n)
			}
			for _, tc := range f.Tests {
				if r := hctest.Run(cfg, tc, time.Now()); !r.Passed {
					t.Errorf("%s:%d %s fails: %+v", r.File, r.Line, r.Name, r.Failures)
				}
			}
		})
	}
}

// hctestFromReadme writes the test file an example's README table implies.
func hctestFromReadme(t *testing.T, p string, cfg *config.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# The table of README.md, as tests: `go run . test -config examples/%s/config.hcl`.\n", p)
	b.WriteString("# Generated from the README by `go test ./examples -run TestExampleHctests -update`.\n")
	names := map[string]int{}
	for _, s := range readSamples(t, p) {
		source := p
		if fields := strings.Fields(s.send); len(fields) > 2 && fields[0] == "-source" {
			source = fields[1]
		}
		file := strings.TrimPrefix(s.file, "examples/"+p+"/")
		name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		if ev := s.headers.Get("X-Influship-Event"); ev != "" && !strings.Contains(name, strings.ReplaceAll(ev, ".", "_")) {
			name += " as " + ev
		}
		if names[name]++; names[name] > 1 {
			name += " #" + strconv.Itoa(names[name])
		}
		fmt.Fprintf(&b, "\ntest %q {\n", name)
		fmt.Fprintf(&b, "  source = %q\n", source)
		if len(s.headers) > 0 {
			var hs []string
			for k := range s.headers {
				hs = append(hs, fmt.Sprintf("%q = %q", k, s.headers.Get(k)))
			}
			slices.Sort(hs)
			fmt.Fprintf(&b, "  headers = { %s }\n", strings.Join(hs, ", "))
		}
		fmt.Fprintf(&b, "  body   = file(%q)\n", file)
		if s.status != http.StatusAccepted {
			fmt.Fprintf(&b, "  expect_status = %d\n", s.status)
		}
		got := map[string]bool{}
		for _, d := range s.deliveries {
			dest, body, _ := strings.Cut(d, "\x00")
			got[dest] = true
			raw, err := os.ReadFile(filepath.Join(repoRoot, s.file))
			if err != nil {
				t.Fatal(err)
			}
			if body == string(raw) {
				fmt.Fprintf(&b, "  expect %q {\n    body = file(%q)\n  }\n", dest, file)
			} else {
				fmt.Fprintf(&b, "  expect %q {\n    body = <<-JSON\n      %s\n    JSON\n  }\n", dest, body)
			}
		}
		var none []string
		for _, d := range cfg.Destinations {
			if !got[d.Name] {
				none = append(none, strconv.Quote(d.Name))
			}
		}
		if len(none) > 0 {
			fmt.Fprintf(&b, "  expect_none = [%s]\n", strings.Join(none, ", "))
		}
		b.WriteString("}\n")
	}
	return string(hclwrite.Format([]byte(b.String())))
}

// TestChangesPageTests: the test blocks docs/changes.md shows load and pass
// against the Ylytic example (their file() paths are the example's).
func TestChangesPageTests(t *testing.T) {
	blocks := fences(t, filepath.Join(repoRoot, "docs", "changes.md"), "hcl")
	if len(blocks) != 1 {
		t.Fatalf("docs/changes.md has %d hcl blocks, want 1", len(blocks))
	}
	dir := t.TempDir()
	abs, err := filepath.Abs(filepath.Join("ylytic", "events"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(dir, "events")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "changes.hctest")
	if err := os.WriteFile(path, []byte(blocks[0].code), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := (&config.Loader{LookupEnv: noEnv}).Load(filepath.Join("ylytic", "config.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	defer cfg.Close()
	f, diags := (&hctest.Parser{LookupEnv: noEnv}).ParseFile(path)
	if diags.HasErrors() {
		t.Fatalf("changes.md:%d: %s", blocks[0].line, diags.Error())
	}
	if diags := f.Check(cfg); diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(f.Tests) != 3 {
		t.Errorf("%d tests, want 3", len(f.Tests))
	}
	for _, tc := range f.Tests {
		if r := hctest.Run(cfg, tc, time.Now()); !r.Passed {
			t.Errorf("%q fails: %+v", r.Name, r.Failures)
		}
	}
}
