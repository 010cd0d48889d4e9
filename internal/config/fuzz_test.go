package config_test

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, and it
// must return either a config or an error diagnostic, never both or neither.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../cli/testdata/*.hcl")
	seeds = append(seeds, "../../config.hcl")
	more, _ := filepath.Glob("../../examples/*/config.hcl")
	for _, p := range append(seeds, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(base))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := loader(map[string]string{}).LoadBytes(src, "fuzz.hcl")
		if (cfg == nil) != diags.HasErrors() {
			t.Fatalf("config %v with diagnostics %v", cfg != nil, diags)
		}
		cfg.Close()
	})
}
