package config_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/plugins"
)

var update = flag.Bool("update", false, "rewrite docs/config.md and golden files")

// TestReference keeps docs/config.md in step with the block specs and the
// plugin registry: it is generated from them.
func TestReference(t *testing.T) {
	got := config.Reference(plugins.Default)
	path := filepath.Join("..", "..", "docs", "config.md")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got) {
		t.Fatal("docs/config.md is out of date: run go test ./internal/config -run TestReference -update")
	}
	for _, p := range plugins.Default.All() {
		for _, a := range p.Attrs {
			if a.Doc == "" || a.Example == "" {
				t.Errorf("%s attribute %s has no doc or example", p.ID(), a.Name)
			}
		}
	}
	for _, b := range config.Blocks() {
		for _, a := range b.Attrs {
			if a.Doc == "" || a.Example == "" {
				t.Errorf("%s attribute %s has no doc or example", b.Type, a.Name)
			}
		}
	}
}

// TestReferenceExamplesLoad: every plugin's example in docs/config.md,
// placed in a source or destination, loads without diagnostics (env() names
// in the examples are given values), so the examples cannot rot.
func TestReferenceExamplesLoad(t *testing.T) {
	doc := string(config.Reference(plugins.Default))
	examples := regexp.MustCompile("(?s)```hcl\n((verify|sign) \"[a-z_]+\" \\{.*?\\}\n)```").FindAllStringSubmatch(doc, -1)
	kinds := regexp.MustCompile("(?s)```hcl\n(destination \"NAME\" \\{\n  [a-z_]+ \\{.*?\n\\}\n)```").FindAllStringSubmatch(doc, -1)
	if len(examples)+len(kinds) != len(plugins.Default.All()) {
		t.Fatalf("found %d plugin examples and %d destination kinds, want one per plugin (%d)", len(examples), len(kinds), len(plugins.Default.All()))
	}
	for _, m := range kinds {
		l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
		cfg, diags := l.LoadBytes([]byte(m[1]), "example.hcl")
		if diags.HasErrors() {
			t.Errorf("the example\n%s does not load: %s", m[1], diags.Error())
		}
		cfg.Close()
	}
	for _, m := range examples {
		block, kind := m[1], m[2]
		src := `destination "d" {
  url = "https://example.com/hooks"
` + block + `}
`
		if kind == "verify" {
			src = `source "s" {
  path = "/in/s"
` + block + `}
`
		}
		l := &config.Loader{LookupEnv: func(string) (string, bool) {
			return "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true
		}}
		cfg, diags := l.LoadBytes([]byte(src), "example.hcl")
		if diags.HasErrors() {
			t.Errorf("the example\n%s does not load: %s", block, diags.Error())
		}
		cfg.Close()
	}
}
