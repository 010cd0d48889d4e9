package routing_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/routing"
)

// A source whose routes pass the body through only checks that it is
// JSON, and refuses one that is not with the decoder's own words, as a
// source that reads its body does.
func TestPassThroughChecksJSON(t *testing.T) {
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(`
source "plain" { path = "/in/plain" }
source "typed" {
  path       = "/in/typed"
  event_type = "type"
}
destination "d" { url = "https://d.example.com/hooks" }
route "plain" {
  source       = "plain"
  destinations = ["d"]
}
route "typed" {
  source       = "typed"
  destinations = ["d"]
}
`), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	plain, typed := cfg.SourceByPath("/in/plain"), cfg.SourceByPath("/in/typed")
	body := []byte(`{"type":"a","n":1}`)
	res, err := routing.Evaluate(plain, nil, body)
	if err != nil {
		t.Fatal(err)
	}
	if res.Payload != nil {
		t.Errorf("a pass-through source decoded the body: %v", res.Payload)
	}
	if ds := res.Deliveries(); len(ds) != 1 || string(ds[0].Body) != string(body) {
		t.Errorf("deliveries %+v, want the body as is", ds)
	}
	if res, err := routing.Evaluate(typed, nil, body); err != nil || res.EventType != "a" || res.Payload == nil {
		t.Errorf("typed: %+v, %v", res, err)
	}

	var want error
	var v any
	if err := json.Unmarshal([]byte(`{"a":`), &v); err != nil {
		want = err
	}
	for _, src := range []*config.Source{plain, typed} {
		_, err := routing.Evaluate(src, nil, []byte(`{"a":`))
		if !errors.Is(err, routing.ErrNotJSON) || !strings.Contains(err.Error(), want.Error()) {
			t.Errorf("%s: %v, want ErrNotJSON saying %q", src.Name, err, want)
		}
	}
}
