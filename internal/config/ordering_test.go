package config_test

import (
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/internal/rules"
)

func TestOrdering(t *testing.T) {
	cfg := mustLoad(t, base+`
route "ordered" {
  source       = "ylytic"
  destinations = ["tiktok_team"]
  ordering {
    key     = "identifier"
    on_dead = "block"
  }
}
route "skipping" {
  source       = "ylytic"
  destinations = ["tiktok_team"]
  ordering {
    key = "connector + ':' + identifier"
  }
}
route "plain" {
  source       = "ylytic"
  destinations = ["tiktok_team"]
}
`)
	byName := map[string]int{}
	for i, r := range cfg.Routes {
		byName[r.Name] = i
	}
	o := cfg.Routes[byName["ordered"]].Ordering
	if o == nil || !o.Block {
		t.Fatalf("ordered: Ordering = %+v, want a blocking one", o)
	}
	key, err := o.Key.String(&rules.Input{Body: map[string]any{"identifier": "minimuffin8888"}})
	if err != nil || key != "minimuffin8888" {
		t.Errorf("key = %q, %v; want minimuffin8888", key, err)
	}
	s := cfg.Routes[byName["skipping"]].Ordering
	if s == nil || s.Block {
		t.Fatalf("skipping: Ordering = %+v, want on_dead skip (the default)", s)
	}
	if cfg.Routes[byName["plain"]].Ordering != nil {
		t.Error("a route without an ordering block is ordered")
	}
}

func TestOrderingBroken(t *testing.T) {
	cases := []struct {
		name, src, summary string
		line, col          int
	}{
		{"key on undeclared field", "route \"r\" {\n  source = \"ylytic\"\n  destinations = [\"tiktok_team\"]\n  ordering {\n    key = \"identifer\"\n  }\n}", "Invalid key", 5, 12},
		{"key that is an object", "route \"r\" {\n  source = \"ylytic\"\n  destinations = [\"tiktok_team\"]\n  ordering {\n    key = \"data\"\n  }\n}", "Invalid key", 5, 12},
		{"no key", "route \"r\" {\n  source = \"ylytic\"\n  destinations = [\"tiktok_team\"]\n  ordering {\n    on_dead = \"block\"\n  }\n}", "Missing required argument", 4, 12},
		{"bad on_dead", "route \"r\" {\n  source = \"ylytic\"\n  destinations = [\"tiktok_team\"]\n  ordering {\n    key = \"identifier\"\n    on_dead = \"retry\"\n  }\n}", "Invalid on_dead", 6, 15},
		{"two ordering blocks", "route \"r\" {\n  source = \"ylytic\"\n  destinations = [\"tiktok_team\"]\n  ordering {\n    key = \"identifier\"\n  }\n  ordering {\n    key = \"identifier\"\n  }\n}", "Duplicate ordering block", 7, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := loader(nil).LoadBytes([]byte(base+tc.src), "config.hcl")
			if cfg != nil || !diags.HasErrors() {
				t.Fatalf("loaded without error")
			}
			var found *hcl.Diagnostic
			for _, d := range diags {
				if d.Summary == tc.summary {
					found = d
				}
			}
			if found == nil {
				t.Fatalf("no %q diagnostic; got:\n%s", tc.summary, diagList(diags))
			}
			if found.Subject == nil || found.Subject.Filename != "config.hcl" ||
				found.Subject.Start.Line != baseLines+tc.line || found.Subject.Start.Column != tc.col {
				t.Errorf("diagnostic at %v, want config.hcl:%d:%d", found.Subject, baseLines+tc.line, tc.col)
			}
		})
	}
}
