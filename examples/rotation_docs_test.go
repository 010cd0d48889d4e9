package examples_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
)

// TestRotationDocLoads: the sign block of docs/operating.md's "Rotating a
// signing secret" loads in a destination.
func TestRotationDocLoads(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "docs", "operating.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "### Rotating a signing secret")
	if !ok {
		t.Fatal("docs/operating.md has no \"Rotating a signing secret\" section")
	}
	_, block, ok := strings.Cut(section, "```hcl\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the section has no hcl block")
	}
	src := "destination \"crm\" {\n  url = \"https://crm.example.com/hooks\"\n" + block + "}\n"
	l := &config.Loader{LookupEnv: func(name string) (string, bool) { return "s3cret-" + name, true }}
	cfg, diags := l.LoadBytes([]byte(src), "operating.hcl")
	if diags.HasErrors() {
		t.Fatalf("the block\n%s does not load: %s", block, diagnosticText(diags, l.Files()))
	}
	cfg.Close()
}
