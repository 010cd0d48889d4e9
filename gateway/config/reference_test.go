package config_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookgate/hookgate/gateway/config"
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
		t.Fatal("docs/config.md is out of date: run go test ./gateway/config -run TestReference -update")
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
