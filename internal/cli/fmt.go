package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/hookgate/hookgate/internal/config"
)

// fmtCmd is `hookgate fmt [-check] F...`: rewrites each file in canonical
// HCL formatting and lists those it changed; with -check it changes nothing,
// lists the files that are not formatted and exits 1 if there are any. A file
// with syntax errors is refused with its diagnostics. "-" formats stdin to
// stdout.
func fmtCmd(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "fmt")
	check := fs.Bool("check", false, "list unformatted files and exit 1 if any; change nothing")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"config.hcl"}
	}
	code := 0
	for _, f := range files {
		var src []byte
		var err error
		if f == "-" {
			src, err = io.ReadAll(env.Stdin)
		} else {
			src, err = os.ReadFile(f)
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "hookgate fmt: %v\n", err)
			code = 1
			continue
		}
		out, diags := Format(src, f)
		if diags.HasErrors() {
			config.WriteDiagnostics(env.Stderr, diags, map[string]*hcl.File{f: {Bytes: src}})
			code = 1
			continue
		}
		switch {
		case f == "-":
			env.Stdout.Write(out)
		case bytes.Equal(out, src):
		case *check:
			fmt.Fprintln(env.Stdout, f)
			code = 1
		default:
			if err := os.WriteFile(f, out, 0o644); err != nil {
				fmt.Fprintf(env.Stderr, "hookgate fmt: %v\n", err)
				code = 1
				continue
			}
			fmt.Fprintln(env.Stdout, f)
		}
	}
	return code
}

// Format returns src in canonical HCL formatting. It refuses source with
// syntax errors, which formatting would garble.
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), nil
}
