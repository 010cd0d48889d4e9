package routing_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/routing"
	_ "github.com/hookgate/hookgate/plugins/standard"
)

// TestSimulate: the answers ingest gives, in its order, and the deliveries
// of an accepted event, without a server.
func TestSimulate(t *testing.T) {
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(`
schema "order" {
  field "type" { type = "string" }
  field "total" { type = "number" }
}
source "shop" {
  path       = "/in/shop"
  event_type = "type"
  schemas    = { order = "order" }
  verify "token" {
    header = "X-Token"
    token  = "s3cret"
  }
}
source "forms" {
  path          = "/in/forms"
  content_types = ["application/x-www-form-urlencoded"]
  respond {
    content_type = "text/plain"
    body         = "thanks"
  }
}
destination "d" { url = "https://d.example.com/hooks" }
route "big" {
  source       = "shop"
  filter       = "total > 100"
  transform    = "{t: total}"
  destinations = ["d"]
}
route "all_forms" {
  source       = "forms"
  destinations = ["d"]
}
`), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	shop, forms := cfg.Source("shop"), cfg.Source("forms")
	now := time.Now()
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name     string
		src      *config.Source
		req      routing.Request
		status   int
		accepted bool
		bodies   []string
	}{
		{"accepted, routed", shop, routing.Request{Body: []byte(`{"type":"order","total":150}`)}, 202, true, []string{`{"t":150}`}},
		{"accepted, filtered out", shop, routing.Request{Body: []byte(`{"type":"order","total":5}`)}, 202, true, nil},
		{"signature skipped without Verify", shop, routing.Request{Header: hdr("X-Token", "wrong"), Body: []byte(`{"type":"order","total":150}`)}, 202, true, []string{`{"t":150}`}},
		{"wrong token with Verify", shop, routing.Request{Header: hdr("X-Token", "wrong"), Body: []byte(`{"type":"order","total":150}`), Verify: true, Now: now}, 401, false, nil},
		{"right token with Verify", shop, routing.Request{Header: hdr("X-Token", "s3cret"), Body: []byte(`{"type":"order","total":150}`), Verify: true, Now: now}, 202, true, []string{`{"t":150}`}},
		{"schema", shop, routing.Request{Body: []byte(`{"type":"order","total":"x"}`)}, 422, false, nil},
		{"unknown type", shop, routing.Request{Body: []byte(`{"type":"refund"}`)}, 422, false, nil},
		{"not JSON", shop, routing.Request{Body: []byte(`type=order`)}, 400, false, nil},
		{"form without Content-Type", forms, routing.Request{Body: []byte(`a=1&b=2`)}, 200, true, []string{`{"a":"1","b":"2"}`}},
		{"form with Content-Type", forms, routing.Request{Header: hdr("Content-Type", "application/x-www-form-urlencoded"), Body: []byte(`a=1`)}, 200, true, []string{`{"a":"1"}`}},
		{"JSON where forms are taken", forms, routing.Request{Header: hdr("Content-Type", "application/json"), Body: []byte(`{}`)}, 415, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := routing.Simulate(tt.src, tt.req)
			if out.Status != tt.status || out.Accepted != tt.accepted {
				t.Fatalf("status %d accepted %v (%s), want %d %v", out.Status, out.Accepted, out.Error, tt.status, tt.accepted)
			}
			var bodies []string
			for _, d := range out.Deliveries() {
				bodies = append(bodies, string(d.Body))
			}
			if len(bodies) != len(tt.bodies) || (len(bodies) > 0 && bodies[0] != tt.bodies[0]) {
				t.Errorf("deliveries %q, want %q", bodies, tt.bodies)
			}
			if tt.status == 422 && out.Error == "" {
				t.Error("a 422 without its error")
			}
		})
	}
	if out := routing.Simulate(forms, routing.Request{Body: []byte(`a=1`)}); string(out.Answer) != "thanks" {
		t.Errorf("respond answer %q", out.Answer)
	}
}
