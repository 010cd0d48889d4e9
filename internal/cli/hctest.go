package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/hctest"
)

// testReport is what `hookgate test -json` prints.
type testReport struct {
	Tests  []hctest.Result `json:"tests"`
	Passed int             `json:"passed"`
	Failed int             `json:"failed"`
}

// testCmd is `hookgate test [-config F] [-json] [FILE…]`: runs the test
// blocks of FILE (default: the *.hctest files next to the config) against
// the config, without storing or sending anything, and prints each as PASS
// or FAIL with what differs. Exit 1 when any fails, or a file or the
// config has errors.
func testCmd(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "test")
	path := configFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the results as JSON")
	code, files := parseMixed(fs, args)
	if code >= 0 {
		return code
	}
	cfg := load(env, *path)
	if cfg == nil {
		return 1
	}
	defer cfg.Close()
	if len(files) == 0 {
		var err error
		if files, err = filepath.Glob(filepath.Join(filepath.Dir(*path), "*.hctest")); err != nil || len(files) == 0 {
			fmt.Fprintf(env.Stderr, "hookgate test: no *.hctest files next to %s; name the files to run\n", *path)
			return 1
		}
	}
	p := &hctest.Parser{LookupEnv: env.LookupEnv}
	var parsed []*hctest.File
	var diags hcl.Diagnostics
	for _, f := range files {
		tf, ds := p.ParseFile(f)
		diags = append(diags, ds...)
		if tf != nil {
			// Names are checked even in a file with other errors, so
			// that one run shows every problem.
			diags = append(diags, tf.Check(cfg)...)
			parsed = append(parsed, tf)
		}
	}
	if diags.HasErrors() {
		config.WriteDiagnostics(env.Stderr, diags, p.Files())
		return 1
	}

	now := time.Now()
	rep := testReport{Tests: []hctest.Result{}}
	for _, f := range parsed {
		for _, t := range f.Tests {
			r := hctest.Run(cfg, t, now)
			rep.Tests = append(rep.Tests, r)
			if r.Passed {
				rep.Passed++
			} else {
				rep.Failed++
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(rep)
	} else {
		printTests(env, rep)
	}
	if rep.Failed > 0 {
		return 1
	}
	return 0
}

// printTests prints one line per test, and under a failed one what
// differs, then a summary line.
func printTests(env *Env, rep testReport) {
	for _, r := range rep.Tests {
		word := "PASS"
		if !r.Passed {
			word = "FAIL"
		}
		fmt.Fprintf(env.Stdout, "%s %s:%d: %s\n", word, r.File, r.Line, r.Name)
		for _, f := range r.Failures {
			msg := f.Problem
			if f.Destination != "" {
				msg = f.Destination + ": " + msg
			}
			fmt.Fprintln(env.Stdout, indent(msg, "    "))
			if f.Diff != "" {
				fmt.Fprint(env.Stdout, indent(f.Diff, "        "))
			}
		}
	}
	fmt.Fprintf(env.Stdout, "test: %d passed, %d failed\n", rep.Passed, rep.Failed)
}

// indent puts prefix before every line of s.
func indent(s, prefix string) string {
	end := strings.HasSuffix(s, "\n")
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	out := strings.Join(lines, "\n")
	if end {
		out += "\n"
	}
	return out
}
