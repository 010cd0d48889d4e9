package routing_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/routing"
)

const sampleConfig = `
schema "order" {
  field "type" {
    type = "string"
    enum = ["order.created"]
  }
  field "status" {
    type = "string"
    enum = ["paid", "refunded", "voided"]
  }
  field "amount" { type = "number" }
  field "customer" {
    type = "object"
    field "id" { type = "string" }
  }
  field "items" {
    type = "array"
    field "sku" { type = "string" }
  }
  field "at" { type = "timestamp" }
}
source "shop" {
  path       = "/in/shop"
  event_type = "type"
  schemas    = { "order.created" = "order" }
}
source "plain" { path = "/in/plain" }
destination "orders" { url = "https://orders.example.com/hooks" }
destination "billing" { url = "https://billing.example.com/hooks" }
destination "bare" { url = "https://bare.example.com/hooks" }
destination "unused" { url = "https://unused.example.com/hooks" }
route "refunds" {
  source       = "shop"
  filter       = "status == 'refunded' && $headers['x-hookgate-test'] == '1'"
  transform    = "{order: type, state: status, cents: amount * 100, customer: customer.id}"
  destinations = ["orders"]
}
route "ledger" {
  source       = "shop"
  destinations = ["billing"]
}
route "bare" {
  source       = "plain"
  transform    = "{wrapped: $body}"
  destinations = ["bare"]
}
`

func loadSample(t *testing.T) *config.Config {
	t.Helper()
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(sampleConfig), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return cfg
}

// A destination test's event is one ingest would route the same way: its
// payload passes the route's filter (the enum value that makes it pass is
// found), conforms to the schema, and the body is what Evaluate delivers
// for that payload with the test's headers.
func TestTestEventIsRoutedAsIngestWould(t *testing.T) {
	cfg := loadSample(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	plan, err := routing.PlanTest(cfg, cfg.Destination("orders"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if plan.Route.Name != "refunds" || plan.Source.Name != "shop" || plan.EventType != "order.created" || plan.Schema == nil {
		t.Fatalf("plan = %+v, want route refunds from shop with the order schema", plan)
	}
	payload, body, err := plan.Event(now)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(payload, &obj); err != nil {
		t.Fatal(err)
	}
	if obj["status"] != "refunded" {
		t.Errorf("payload %s: status is not the one the filter passes", payload)
	}
	if p := plan.Schema.Validate(obj); len(p) != 0 {
		t.Errorf("payload %s has problems: %v", payload, p)
	}
	h := http.Header{}
	for k, v := range routing.TestHeaders("") {
		h.Set(k, v)
	}
	res, err := routing.Evaluate(plan.Source, h, payload)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, d := range res.Deliveries() {
		if d.Destination.Name == "orders" {
			got = d.Body
		}
	}
	if string(got) != string(body) {
		t.Errorf("test body %s, but ingest delivers %s for the same payload", body, got)
	}
	want := `{"cents":150,"customer":"sample-id","order":"order.created","state":"refunded"}`
	if string(body) != want {
		t.Errorf("body %s, want %s", body, want)
	}
}

// A route named that does not send to the destination is the caller's
// error; an event type picks the schema; a destination no route sends to
// gets the generic event as is.
func TestPlanTest(t *testing.T) {
	cfg := loadSample(t)
	if _, err := routing.PlanTest(cfg, cfg.Destination("orders"), "ledger", ""); err == nil ||
		err.Error() != `no enabled route named "ledger" sends to destination "orders"` {
		t.Errorf("wrong route: %v", err)
	}
	plan, err := routing.PlanTest(cfg, cfg.Destination("billing"), "ledger", "order.created")
	if err != nil || plan.Route.Name != "ledger" || plan.Schema == nil {
		t.Errorf("ledger: %+v %v", plan, err)
	}
	plan, err = routing.PlanTest(cfg, cfg.Destination("unused"), "", "")
	if err != nil || plan.Route != nil || plan.Source != nil {
		t.Fatalf("unused: %+v %v, want an empty plan", plan, err)
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	payload, body, err := plan.Event(now)
	want := `{"message":"a test event sent by hookgate","sent_at":"2026-03-01T00:00:00Z","type":"hookgate.test"}`
	if err != nil || string(payload) != want || string(body) != want {
		t.Errorf("generic: %s %s %v, want %s", payload, body, err, want)
	}
}

// Without a schema the generic event still goes through the route's
// transform.
func TestTestEventTransform(t *testing.T) {
	cfg := loadSample(t)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	plan, err := routing.PlanTest(cfg, cfg.Destination("bare"), "", "")
	if err != nil || plan.Route == nil || plan.Route.Name != "bare" || plan.Schema != nil {
		t.Fatalf("bare: %+v %v", plan, err)
	}
	_, body, err := plan.Event(now)
	if err != nil || !strings.HasPrefix(string(body), `{"wrapped":{"message":"a test event sent by hookgate"`) {
		t.Errorf("body %s %v, want the generic event wrapped", body, err)
	}
}
