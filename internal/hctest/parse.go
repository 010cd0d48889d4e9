// Package hctest reads `*.hctest` files, the config's unit tests, and runs
// them: each `test` block sends one webhook to a source of a compiled
// config and checks what the gateway would answer and deliver, through
// routing.Simulate, the decisions ingest makes. Nothing is stored or sent.
//
//	test "tiktok creators reach their team" {
//	  source = "ylytic"
//	  body   = file("events/creator_insights_tiktok.json")
//	  expect "tiktok_team" {
//	    body = jsonencode({ creator = "minimuffin8888", platform = "tiktok" })
//	  }
//	  expect_none = ["alerts"]
//	}
//
// The package parses (with hcl/v2, diagnostics with ranges, as the config),
// checks names against a config, and runs; `hookgate test` prints.
package hctest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"unicode/utf8"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/hookgate/hookgate/internal/config"
)

// File is one parsed test file.
type File struct {
	Path  string
	Tests []*Test
}

// Test is one `test` block.
type Test struct {
	Name string
	// Range is the block's definition ("test \"name\""), for reports.
	Range hcl.Range

	Source      string
	sourceRange hcl.Range
	Header      http.Header
	Body        []byte
	// Verify checks the signature from Header, as ingest does; without it
	// the check is skipped.
	Verify bool

	Expect       []*Expect
	ExpectNone   []string
	noneRange    hcl.Range
	ExpectStatus int // 0: 202 (accepted)
}

// Expect is one `expect "DEST"` block: the destination gets a delivery
// (whose body, when Body is set, is that JSON, and whose request carries
// Headers).
type Expect struct {
	Destination string
	Range       hcl.Range
	Body        []byte // nil: any body
	Headers     map[string]string
}

var (
	fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "test", LabelNames: []string{"name"}}}}
	testSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "source", Required: true},
			{Name: "headers"},
			{Name: "body", Required: true},
			{Name: "verify"},
			{Name: "expect_none"},
			{Name: "expect_status"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "expect", LabelNames: []string{"destination"}}},
	}
	expectSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "body"}, {Name: "headers"}}}
)

// Parser parses test files; Files keeps every file it read, to print
// diagnostics with their lines.
type Parser struct {
	// LookupEnv reads the environment for env(); nil is os.LookupEnv.
	LookupEnv func(string) (string, bool)
	p         *hclparse.Parser
}

// Files returns the files parsed so far, by name.
func (p *Parser) Files() map[string]*hcl.File {
	if p.p == nil {
		return nil
	}
	return p.p.Files()
}

// ParseFile reads and decodes the test file at path. file() in it is
// relative to its folder.
func (p *Parser) ParseFile(path string) (*File, hcl.Diagnostics) {
	if p.p == nil {
		p.p = hclparse.NewParser()
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the test file", Detail: err.Error()}}
	}
	f, diags := p.p.ParseHCL(src, path)
	if diags.HasErrors() {
		return nil, diags
	}
	lookup := p.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	ctx := &hcl.EvalContext{Functions: config.Functions(filepath.Dir(path), lookup)}
	content, ds := f.Body.Content(fileSchema)
	diags = append(diags, ds...)
	out := &File{Path: path}
	seen := map[string]hcl.Range{}
	for _, b := range content.Blocks {
		name := b.Labels[0]
		if prev, dup := seen[name]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate test",
				Detail:  fmt.Sprintf("A test named %q is already defined at %s.", name, prev),
				Subject: b.LabelRanges[0].Ptr()})
			continue
		}
		seen[name] = b.DefRange
		t, ds := decodeTest(b, ctx)
		diags = append(diags, ds...)
		if t != nil {
			out.Tests = append(out.Tests, t)
		}
	}
	if len(content.Blocks) == 0 && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No tests",
			Detail: "The file has no test blocks.", Subject: &hcl.Range{Filename: path, Start: hcl.InitialPos, End: hcl.InitialPos}})
	}
	return out, diags
}

func decodeTest(b *hcl.Block, ctx *hcl.EvalContext) (*Test, hcl.Diagnostics) {
	content, diags := b.Body.Content(testSchema)
	t := &Test{Name: b.Labels[0], Range: b.DefRange, Header: http.Header{}}
	if a := content.Attributes["source"]; a != nil {
		t.Source, diags = str(a, ctx, diags)
		t.sourceRange = a.Expr.Range()
	}
	if a := content.Attributes["body"]; a != nil {
		var s string
		s, diags = str(a, ctx, diags)
		t.Body = []byte(s)
	}
	if a := content.Attributes["headers"]; a != nil {
		var m map[string]string
		m, diags = strMap(a, ctx, diags)
		for k, v := range m {
			t.Header.Add(k, v)
		}
	}
	if a := content.Attributes["verify"]; a != nil {
		v, ds := a.Expr.Value(ctx)
		diags = append(diags, ds...)
		if !ds.HasErrors() {
			if v.IsNull() || !v.Type().Equals(cty.Bool) {
				diags = append(diags, attrError(a, "verify must be true or false."))
			} else {
				t.Verify = v.True()
			}
		}
	}
	if a := content.Attributes["expect_status"]; a != nil {
		v, ds := a.Expr.Value(ctx)
		diags = append(diags, ds...)
		if !ds.HasErrors() {
			n, ok := 0, false
			if !v.IsNull() && v.Type().Equals(cty.Number) && v.AsBigFloat().IsInt() {
				i, _ := v.AsBigFloat().Int64()
				n, ok = int(i), i >= 200 && i <= 599
			}
			if !ok {
				diags = append(diags, attrError(a, "expect_status must be an HTTP status such as 422."))
			}
			t.ExpectStatus = n
		}
	}
	if a := content.Attributes["expect_none"]; a != nil {
		t.noneRange = a.Expr.Range()
		v, ds := a.Expr.Value(ctx)
		diags = append(diags, ds...)
		if !ds.HasErrors() {
			if v.IsNull() || !(v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType()) {
				diags = append(diags, attrError(a, "expect_none must be a list of destination names."))
			} else {
				for it := v.ElementIterator(); it.Next(); {
					_, e := it.Element()
					if e.IsNull() || !e.Type().Equals(cty.String) {
						diags = append(diags, attrError(a, "expect_none must be a list of destination names."))
						break
					}
					t.ExpectNone = append(t.ExpectNone, e.AsString())
				}
			}
		}
	}
	for _, eb := range content.Blocks {
		ec, ds := eb.Body.Content(expectSchema)
		diags = append(diags, ds...)
		e := &Expect{Destination: eb.Labels[0], Range: eb.LabelRanges[0]}
		if a := ec.Attributes["body"]; a != nil {
			var s string
			s, diags = str(a, ctx, diags)
			e.Body = []byte(s)
		}
		if a := ec.Attributes["headers"]; a != nil {
			e.Headers, diags = strMap(a, ctx, diags)
		}
		t.Expect = append(t.Expect, e)
	}
	return t, diags
}

func attrError(a *hcl.Attribute, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + a.Name, Detail: detail, Subject: a.Expr.Range().Ptr()}
}

// str evaluates a to a string.
func str(a *hcl.Attribute, ctx *hcl.EvalContext, diags hcl.Diagnostics) (string, hcl.Diagnostics) {
	v, ds := a.Expr.Value(ctx)
	diags = append(diags, ds...)
	if ds.HasErrors() {
		return "", diags
	}
	if v.IsNull() || !v.Type().Equals(cty.String) {
		return "", append(diags, attrError(a, a.Name+" must be a string (use jsonencode({...}) or file(\"...\") for a body)."))
	}
	return v.AsString(), diags
}

// strMap evaluates a to a map of strings.
func strMap(a *hcl.Attribute, ctx *hcl.EvalContext, diags hcl.Diagnostics) (map[string]string, hcl.Diagnostics) {
	v, ds := a.Expr.Value(ctx)
	diags = append(diags, ds...)
	if ds.HasErrors() {
		return nil, diags
	}
	if v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		return nil, append(diags, attrError(a, a.Name+` must be a map of strings, such as { "X-Team" = "tiktok" }.`))
	}
	m := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() || !e.Type().Equals(cty.String) {
			return nil, append(diags, attrError(a, fmt.Sprintf("%s[%q] must be a string.", a.Name, k.AsString())))
		}
		m[k.AsString()] = e.AsString()
	}
	return m, diags
}

// Check reports the names of f that cfg does not have: each test's source,
// and the destinations of its expect blocks and expect_none, with the
// nearest existing name.
func (f *File) Check(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var sources, dests []string
	for _, s := range cfg.Sources {
		sources = append(sources, s.Name)
	}
	for _, d := range cfg.Destinations {
		dests = append(dests, d.Name)
	}
	unknown := func(what, name string, names []string, rng hcl.Range) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown " + what,
			Detail:  fmt.Sprintf("The config %s has no %s named %q.%s", cfg.File, what, name, didYouMean(name, names)),
			Subject: rng.Ptr()})
	}
	for _, t := range f.Tests {
		if t.Source != "" && cfg.Source(t.Source) == nil {
			unknown("source", t.Source, sources, t.sourceRange)
		}
		for _, e := range t.Expect {
			if cfg.Destination(e.Destination) == nil {
				unknown("destination", e.Destination, dests, e.Range)
			}
		}
		for _, d := range t.ExpectNone {
			if cfg.Destination(d) == nil {
				unknown("destination", d, dests, t.noneRange)
			}
		}
	}
	return diags
}

// didYouMean suggests the name nearest to given (Levenshtein distance below
// 3, as the config's diagnostics do), as a sentence, or "".
func didYouMean(given string, names []string) string {
	sort.Strings(names)
	best, bestDist := "", 3
	for _, n := range names {
		if d := levenshtein.Distance(given, n, nil); d < bestDist && utf8.RuneCountInString(n) < 200 {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}
