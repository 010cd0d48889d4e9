package examples_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
)

// TestDestinationHealthDocsLoad: the breaker and alert blocks README.md
// and docs/operating.md show load together (with a source and a route
// around them) into the settings they describe.
func TestDestinationHealthDocsLoad(t *testing.T) {
	var blocks []string
	for _, src := range []struct{ page, marker string }{
		{"README.md", "breaker {"},
		{filepath.Join("docs", "operating.md"), `alert "oncall"`},
	} {
		found := false
		for _, f := range fences(t, filepath.Join(repoRoot, src.page), "hcl") {
			if strings.Contains(f.code, src.marker) {
				blocks = append(blocks, f.code)
				found = true
			}
		}
		if !found {
			t.Fatalf("%s shows no hcl block with %s", src.page, src.marker)
		}
	}
	// README's block names oncall_chat, which operating.md declares.
	readme, operating := blocks[0], blocks[1]
	readme = readme[:strings.Index(readme, `alert "oncall"`)]
	src := `
source "partner" {
  path = "/in/partner"
  verify "none" {}
}
route "all" {
  source       = "partner"
  destinations = ["crm"]
}
` + readme + operating
	l := &config.Loader{LookupEnv: func(k string) (string, bool) {
		return "https://chat.example.com/hooks/T000", k == "ONCALL_WEBHOOK_URL"
	}}
	cfg, diags := l.LoadBytes([]byte(src), "docs.hcl")
	if diags.HasErrors() {
		t.Fatalf("the documented blocks do not load: %s\n%s", diags.Error(), src)
	}
	defer cfg.Close()
	crm := cfg.Destination("crm")
	if crm.Breaker == nil || crm.Breaker.Failures != 20 || crm.Breaker.Cooldown.String() != "30s" || !crm.AdaptiveConcurrency {
		t.Errorf("crm: breaker %+v, adaptive %v", crm.Breaker, crm.AdaptiveConcurrency)
	}
	if len(cfg.Alerts) != 1 || cfg.Alerts[0].Destination.Name != "oncall_chat" || len(cfg.Alerts[0].On) != 4 || cfg.Alerts[0].Threshold != 10 {
		t.Errorf("alerts %+v", cfg.Alerts)
	}
}
