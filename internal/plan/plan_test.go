package plan_test

import (
	"encoding/json"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/plan"
)

func mustLoad(t *testing.T, src string) *config.Config {
	t.Helper()
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(src), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	t.Cleanup(func() { cfg.Close() })
	return cfg
}

const base = `
source "shop" { path = "/in/shop" }
source "crm" { path = "/in/crm" }
destination "d" { url = "https://d.example.com/hooks" }
`

// TestCompare: a renamed route is one delivery removed and one added; a
// source the new config lacks rejects its events (404); an event both
// refuse alike is unchanged; only bodies count, not key order.
func TestCompare(t *testing.T) {
	cur := mustLoad(t, base+`
route "old_name" {
  source       = "shop"
  destinations = ["d"]
}
route "crm_all" {
  source       = "crm"
  transform    = "{a: a, b: b}"
  destinations = ["d"]
}
`)
	next := mustLoad(t, `
source "shop" { path = "/in/shop" }
destination "d" { url = "https://d.example.com/hooks" }
route "new_name" {
  source       = "shop"
  destinations = ["d"]
}
`)
	same := mustLoad(t, base+`
route "old_name" {
  source       = "shop"
  destinations = ["d"]
}
route "crm_all" {
  source       = "crm"
  transform    = "{b: b, a: a}"
  destinations = ["d"]
}
`)
	events := []plan.Event{
		{ID: "evt_1", Source: "shop", Body: json.RawMessage(`{"x":1}`)},
		{ID: "evt_2", Source: "crm", Body: json.RawMessage(`{"a":1,"b":2}`)},
		{ID: "evt_3", Source: "gone", Body: json.RawMessage(`{}`)},
	}
	r := plan.Compare(cur, next, events)
	if r.Events != 3 || r.Unchanged != 1 || r.Changed != 1 || r.Added != 1 || r.Removed != 1 || r.Bodies != 0 || r.Rejected != 1 {
		t.Errorf("report: %s", r.Summary())
	}
	if len(r.Destinations) != 1 || r.Destinations[0].Added[0].Route != "new_name" || r.Destinations[0].Removed[0].Route != "old_name" {
		t.Errorf("destinations: %+v", r.Destinations)
	}
	if len(r.Rejections) != 1 || r.Rejections[0].Event != "evt_2" || r.Rejections[0].Status != 404 || r.Rejections[0].Current != "accepted, delivered to d" {
		t.Errorf("rejections: %+v", r.Rejections)
	}
	if !r.Changes() {
		t.Error("Changes() = false")
	}
	if r := plan.Compare(cur, same, events); r.Changes() || r.Unchanged != 3 {
		t.Errorf("a reordered transform: %s", r.Summary())
	}
	want := "plan: 3 events, 1 unchanged, 1 changed (+1 deliveries, -1, 0 bodies), 1 rejected"
	if got := r.Summary(); got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}
