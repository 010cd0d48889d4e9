package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
)

// TestChangedFiles: the config remembers the files its file() calls read
// and names those whose content changed or that vanished, never what they
// hold.
func TestChangedFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.txt", "s3cret-a")
	b := write("b.txt", "s3cret-b")
	path := write("config.hcl", `
source "a" {
  path = "/in/a"
  verify "hmac" { secret = file("a.txt") }
}
destination "b" {
  url = "https://example.com/hooks"
  sign "hmac" { secret = file("`+b+`") }
}
`)
	cfg, diags := (&config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}).Load(path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	defer cfg.Close()
	if got := cfg.ChangedFiles(); len(got) != 0 {
		t.Errorf("nothing changed, ChangedFiles = %q", got)
	}
	write("a.txt", "s3cret-a") // rewritten, same content
	if got := cfg.ChangedFiles(); len(got) != 0 {
		t.Errorf("a.txt rewritten unchanged, ChangedFiles = %q", got)
	}
	write("a.txt", "s3cret-a2")
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	got := cfg.ChangedFiles()
	if want := []string{a, b}; !slices.Equal(got, want) {
		t.Errorf("ChangedFiles = %q, want %q", got, want)
	}
	if strings.Contains(strings.Join(got, " "), "s3cret") {
		t.Errorf("ChangedFiles shows a file's content: %q", got)
	}
	var none *config.Config
	if got := none.ChangedFiles(); got != nil {
		t.Errorf("nil config: %q", got)
	}
}
