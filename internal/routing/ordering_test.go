package routing_test

import (
	"testing"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/routing"
)

// A route's ordering key is computed from the payload for each of its
// deliveries, with its on_dead; an event whose key is missing, null or
// empty is delivered without one, and a route without ordering has none.
// A pass-through route with ordering decodes the body to read its key.
func TestOrderingKey(t *testing.T) {
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(`
source "s" { path = "/in/s" }
destination "a" { url = "https://a.example.com/hooks" }
destination "b" { url = "https://b.example.com/hooks" }
route "ordered" {
  source       = "s"
  destinations = ["a", "b"]
  ordering {
    key     = "data.creator_id"
    on_dead = "block"
  }
}
route "plain" {
  source       = "s"
  destinations = ["a"]
}
`), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	src := cfg.SourceByPath("/in/s")
	cases := []struct {
		body, key string
	}{
		{`{"data":{"creator_id":"c-1"}}`, "c-1"},
		{`{"data":{"creator_id":42}}`, "42"},
		{`{"data":{}}`, ""},
		{`{"data":{"creator_id":null}}`, ""},
		{`{"data":{"creator_id":""}}`, ""},
	}
	for _, tc := range cases {
		res, err := routing.Evaluate(src, nil, []byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		ds := res.Deliveries()
		if len(ds) != 3 {
			t.Fatalf("%s: %d deliveries, want 3", tc.body, len(ds))
		}
		for _, d := range ds {
			want, blocks := tc.key, tc.key != ""
			if d.Route.Name == "plain" {
				want, blocks = "", false
			}
			if d.Key != want || d.KeyBlocks != blocks {
				t.Errorf("%s: %s→%s key %q blocks %v, want %q %v", tc.body, d.Route.Name, d.Destination.Name, d.Key, d.KeyBlocks, want, blocks)
			}
		}
	}
}
