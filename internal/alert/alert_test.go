package alert

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
	_ "github.com/hookgate/hookgate/plugins/standard"
)

// captured records the alerts a Manager stores.
type captured struct {
	mu  sync.Mutex
	got []*store.Delivery
}

func (c *captured) Accept(_ context.Context, ev *store.Event, ds []*store.Delivery, _ *store.Dedupe) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev.Source != Source || len(ds) != 1 {
		panic("an alert is one event from @alert with one delivery")
	}
	c.got = append(c.got, ds[0])
	return ev.ID, nil
}

func (c *captured) bodies(t *testing.T) []Body {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Body
	for _, d := range c.got {
		var b Body
		if err := json.Unmarshal(d.Body, &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

const testConfig = `
source "partner" {
  path = "/in/partner"
  verify "none" {}
}
destination "crm" {
  url = "https://crm.example.com/hooks"
}
destination "oncall" {
  url = "https://chat.example.com/hooks"
}
route "all" {
  source       = "partner"
  destinations = ["crm"]
}
alert "pager" {
  on          = ["dead", "breaker_open", "verify_failures", "schema_rejects"]
  destination = "oncall"
  every       = "15m"
  threshold   = 3
}
`

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestManager(t *testing.T) (*Manager, *captured, *clock, *[]string) {
	t.Helper()
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(testConfig), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	t.Cleanup(func() { cfg.Close() })
	st := &captured{}
	clk := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	var notified []string
	m := New(st, cfg, Options{Now: clk.now, Notify: func(d string) { notified = append(notified, d) }})
	return m, st, clk, &notified
}

// TestDeadAlertOncePerEveryThenResolves: the first dead delivery alerts at
// once; more within every do not; after every one more goes out with the
// count; a delivered attempt resolves it.
func TestDeadAlertOncePerEveryThenResolves(t *testing.T) {
	m, st, clk, notified := newTestManager(t)
	m.Dead("crm", "retries exhausted after 6 attempts: status 500 Internal Server Error")
	clk.add(time.Minute)
	m.Dead("crm", "410 Gone")
	m.tick(context.Background())
	b := st.bodies(t)
	if len(b) != 1 {
		t.Fatalf("%d alerts after two dead deliveries within every, want 1: %+v", len(b), b)
	}
	if b[0].Alert != "dead" || b[0].Subject != "crm" || b[0].Count != 1 || b[0].Resolved || b[0].Name != "pager" ||
		b[0].LastError == "" || b[0].FirstAt.IsZero() {
		t.Errorf("first alert %+v", b[0])
	}
	if d := st.got[0]; d.Destination != "oncall" || d.Route != "@alert:pager" || d.Status != store.Pending {
		t.Errorf("the alert's delivery: %+v", d)
	}
	if len(*notified) != 1 || (*notified)[0] != "oncall" {
		t.Errorf("notified %v, want oncall", *notified)
	}
	clk.add(15 * time.Minute)
	m.tick(context.Background())
	b = st.bodies(t)
	if len(b) != 2 || b[1].Count != 2 || b[1].LastError != "410 Gone" || !b[1].FirstAt.Equal(b[0].FirstAt) {
		t.Fatalf("after every: %+v, want a second alert with count 2", b)
	}
	clk.add(15 * time.Minute)
	m.tick(context.Background())
	if n := len(st.bodies(t)); n != 2 {
		t.Fatalf("nothing happened for another every, yet %d alerts", n)
	}
	m.Delivered("crm")
	b = st.bodies(t)
	if len(b) != 3 || !b[2].Resolved || b[2].Subject != "crm" || b[2].Alert != "dead" {
		t.Fatalf("after a delivery: %+v, want a resolving alert", b)
	}
	m.Delivered("crm")
	if n := len(st.bodies(t)); n != 3 {
		t.Fatalf("a second delivery resolved again: %d alerts", n)
	}
}

// TestAlertDestinationRaisesNothingAboutItself: dead deliveries and the
// breaker of the alert destination raise no alert (no loops).
func TestAlertDestinationRaisesNothingAboutItself(t *testing.T) {
	m, st, _, _ := newTestManager(t)
	m.Dead("oncall", "status 500")
	m.Breaker("oncall", true, "status 500")
	m.tick(context.Background())
	if b := st.bodies(t); len(b) != 0 {
		t.Fatalf("the alert destination's failures raised %+v", b)
	}
}

// TestBreakerAlert: a breaker opening alerts; closing resolves.
func TestBreakerAlert(t *testing.T) {
	m, st, _, _ := newTestManager(t)
	m.Breaker("crm", true, "status 503 Service Unavailable")
	m.Breaker("crm", false, "")
	b := st.bodies(t)
	if len(b) != 2 || b[0].Alert != "breaker_open" || b[0].Resolved || !b[1].Resolved {
		t.Fatalf("%+v, want breaker_open then its resolve", b)
	}
}

// TestVerifyFailuresWindow: more than threshold 401s on a source within 5
// minutes alert; once the window holds threshold or fewer, it resolves.
// 422s count apart, as schema_rejects.
func TestVerifyFailuresWindow(t *testing.T) {
	m, st, clk, _ := newTestManager(t)
	for range 3 {
		m.Refused("partner", 401, "invalid signature")
		clk.add(time.Second)
	}
	m.Refused("partner", 422, "the event does not match its schema")
	m.Refused("partner", 400, "not JSON")
	if b := st.bodies(t); len(b) != 0 {
		t.Fatalf("3 401s with threshold 3 alerted: %+v", b)
	}
	m.Refused("partner", 401, "invalid signature")
	b := st.bodies(t)
	if len(b) != 1 || b[0].Alert != "verify_failures" || b[0].Subject != "partner" || b[0].Count != 4 ||
		b[0].LastError != "invalid signature" || !b[0].FirstAt.Equal(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v, want one verify_failures alert with count 4 from the first 401", b)
	}
	clk.add(2 * time.Minute)
	m.tick(context.Background())
	if n := len(st.bodies(t)); n != 1 {
		t.Fatalf("still above the threshold, yet %d alerts", n)
	}
	clk.add(4 * time.Minute)
	m.tick(context.Background())
	b = st.bodies(t)
	if len(b) != 2 || !b[1].Resolved || b[1].Alert != "verify_failures" {
		t.Fatalf("after the window: %+v, want the resolve", b)
	}
	for range 4 {
		m.Refused("partner", 422, "the event does not match its schema")
	}
	b = st.bodies(t)
	if len(b) != 3 || b[2].Alert != "schema_rejects" || b[2].Count != 4 {
		t.Fatalf("%+v, want a schema_rejects alert", b)
	}
}

// TestNilManager: a gateway without alerts passes a nil manager around.
func TestNilManager(t *testing.T) {
	var m *Manager
	m.Dead("crm", "x")
	m.Delivered("crm")
	m.Breaker("crm", true, "x")
	m.Refused("partner", 401, "x")
	m.Update(nil)
}
