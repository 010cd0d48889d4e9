package examples_test

import (
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/routing"
)

// TestSamplesCoverEveryEventType: each event type an example's source
// declares a schema for has at least one sample in the README's table that
// the gateway accepts as that type, so every documented event kind is shown
// and tested end to end.
func TestSamplesCoverEveryEventType(t *testing.T) {
	for _, p := range platforms {
		t.Run(p, func(t *testing.T) {
			cfg, diags := (&config.Loader{LookupEnv: noEnv}).Load(filepath.Join(p, "config.hcl"))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			defer cfg.Close()
			src := cfg.Source(p)
			if src == nil {
				t.Fatalf("no source %q", p)
			}
			covered := map[string]bool{}
			for _, s := range readSamples(t, p) {
				if s.status != http.StatusAccepted {
					continue
				}
				res, err := routing.Evaluate(src, s.headers, s.body(t))
				if err == nil && !res.Rejected() {
					covered[res.EventType] = true
				}
			}
			var missing []string
			for typ := range src.Schemas {
				if !covered[typ] {
					missing = append(missing, typ)
				}
			}
			slices.Sort(missing)
			if len(missing) > 0 {
				t.Errorf("no accepted sample in %s/README.md for %q", p, missing)
			}
		})
	}
}
