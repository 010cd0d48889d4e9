package admin_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/oklog/ulid/v2"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/api")

// goldenConfig is the golden server's config: two HTTP destinations, one
// with a breaker, and an ordered route that blocks on a dead head.
const goldenConfig = `
gateway {
  listen       = "127.0.0.1:0"
  admin_listen = "127.0.0.1:0"
  admin_token  = "` + fxToken + `"
}
storage "embedded" { path = "data/h.db" }
source "partner" {
  path = "/in/partner"
  verify "hmac" { secret = "partner-secret" }
}
destination "orders" {
  url                  = "http://127.0.0.1:1/orders"
  allow_private        = true
  max_concurrency      = 4
  adaptive_concurrency = true
}
destination "billing" {
  url           = "http://127.0.0.1:1/billing"
  allow_private = true
  breaker {
    failures = 5
    cooldown = "30s"
  }
}
route "all" {
  source       = "partner"
  destinations = ["orders", "billing"]
}
`

// goldenNow is the golden server's clock.
var goldenNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// goldenID is a stable id: a ULID of t whose entropy is n.
func goldenID(prefix string, t time.Time, n uint64) string {
	var e [10]byte
	binary.BigEndian.PutUint64(e[2:], n)
	return prefix + "_" + ulid.MustNew(ulid.Timestamp(t), bytes.NewReader(e[:])).String()
}

// goldenHealth is the engine's view of the destinations: billing's breaker
// is open, orders runs 2 of its 4 attempts at a time.
type goldenHealth struct{}

func (goldenHealth) Health() []delivery.DestinationHealth {
	return []delivery.DestinationHealth{
		{Name: "billing", State: delivery.Open, Concurrency: 1, MaxConcurrency: 1},
		{Name: "orders", State: delivery.Closed, Concurrency: 2, MaxConcurrency: 4, InFlight: 1},
	}
}

func (goldenHealth) RefreshPauses(context.Context) error { return nil }

// goldenRecords are the fixture's ids.
type goldenRecords struct {
	event, delivered, dead, head string
}

// newGoldenServer serves the admin API over a real embedded store holding
// fixed records, on a fixed clock:
//
//	evt 1 (3h ago)  → orders: 500 then 200, delivered
//	                → billing: 503 then 410, dead
//	evt 2 (20m ago) → billing, key cust_7 (blocks): 410, dead: its key is blocked
//	                → billing, key cust_7: waiting behind it
func newGoldenServer(t *testing.T, reload func(context.Context) (admin.ReloadResult, error)) (string, goldenRecords) {
	t.Helper()
	now := func() time.Time { return goldenNow }
	l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
	cfg, diags := l.LoadBytes([]byte(goldenConfig), filepath.Join(t.TempDir(), "config.hcl"))
	if cfg == nil || diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	t.Cleanup(func() { cfg.Close() })
	cfg.Hash, cfg.LoadedAt = "5e1f0c2a", goldenNow.Add(-time.Hour)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	ctx := context.Background()
	t1, t2 := goldenNow.Add(-3*time.Hour), goldenNow.Add(-20*time.Minute)
	rec := goldenRecords{event: goldenID("evt", t1, 1), delivered: goldenID("dlv", t1, 2), dead: goldenID("dlv", t1, 3), head: goldenID("dlv", t2, 5)}
	body := []byte(`{"id":"ord_1","note":"<b>&</b>","total":42,"type":"order.created"}`)
	ev1 := &store.Event{
		ID: rec.event, Source: "partner", EventType: "order.created", ReceivedAt: t1,
		Headers:     map[string]string{"content-type": "application/json", "webhook-id": "msg_1"},
		Body:        body,
		DedupeKey:   "msg_1",
		TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		ConfigHash:  "5e1f0c2a",
	}
	if _, err := st.Accept(ctx, ev1, []*store.Delivery{
		{ID: rec.delivered, Route: "all", Destination: "orders", Body: body},
		{ID: rec.dead, Route: "all", Destination: "billing", Body: []byte("not JSON")},
	}, nil); err != nil {
		t.Fatal(err)
	}
	ev2 := &store.Event{ID: goldenID("evt", t2, 4), Source: "partner", EventType: "order.paid", ReceivedAt: t2,
		Body: []byte(`{"customer":"cust_7","id":"ord_2","type":"order.paid"}`)}
	if _, err := st.Accept(ctx, ev2, []*store.Delivery{
		{ID: rec.head, Route: "all", Destination: "billing", Body: ev2.Body, Key: "cust_7", KeyBlocks: true},
		{ID: goldenID("dlv", t2, 6), Route: "all", Destination: "billing", Body: ev2.Body, Key: "cust_7", KeyBlocks: true},
	}, nil); err != nil {
		t.Fatal(err)
	}
	attempt := func(id string, at time.Time, code int, lat time.Duration, status store.Status, msg string) {
		t.Helper()
		o := store.Outcome{Attempt: store.Attempt{At: at, StatusCode: code, Latency: lat, Error: msg, Response: "answer " + http.StatusText(code)}, Status: status}
		switch status {
		case store.Retrying:
			o.NextAttemptAt = at.Add(time.Minute)
		case store.Dead:
			o.DeadReason = "HTTP 410 Gone: the receiver asked to stop"
		}
		if err := st.Complete(ctx, id, o); err != nil {
			t.Fatal(err)
		}
	}
	attempt(rec.delivered, t1.Add(time.Minute), 500, 40*time.Millisecond, store.Retrying, "HTTP 500 Internal Server Error")
	attempt(rec.delivered, goldenNow.Add(-10*time.Minute), 200, 20*time.Millisecond, store.Delivered, "")
	attempt(rec.dead, t1.Add(time.Minute), 503, 10*time.Millisecond, store.Retrying, "HTTP 503 Service Unavailable")
	attempt(rec.dead, goldenNow.Add(-30*time.Minute), 410, 1500*time.Microsecond, store.Dead, "HTTP 410 Gone")
	attempt(rec.head, goldenNow.Add(-15*time.Minute), 410, 5*time.Millisecond, store.Dead, "HTTP 410 Gone")

	srv := httptest.NewServer((&admin.Server{Current: func() *config.Config { return cfg }, Store: st, Now: now,
		Health: goldenHealth{}, Reload: reload}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL, rec
}

// randomIDs are the ids a test send makes (random entropy).
var randomIDs = regexp.MustCompile(`(evt|dlv)_[0-9A-HJKMNP-TV-Z]{26}`)

// TestAPIGolden pins the admin API's wire format: every kind of answer,
// from fixed records on a fixed clock, is compared with
// testdata/api/NAME.json (indented; NDJSON answers line by line), so a
// renamed or dropped field shows as a golden diff (-update rewrites them).
// Each answer also decodes into its internal/api type, refusing unknown
// fields, and encodes back to the very bytes the server sent: the types
// declare the whole wire format, so a client decoding with them (the CLI)
// loses nothing.
func TestAPIGolden(t *testing.T) {
	reloadErr := false
	base, rec := newGoldenServer(t, func(context.Context) (admin.ReloadResult, error) {
		if reloadErr {
			return admin.ReloadResult{}, &admin.ReloadError{
				Diagnostics: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown destination", Detail: `No destination "bill".`,
					Subject: &hcl.Range{Filename: "config.hcl", Start: hcl.Pos{Line: 29, Column: 19}}}},
				Text: "config.hcl:29:19: Unknown destination; No destination \"bill\".\n",
			}
		}
		return admin.ReloadResult{Reloaded: true, ConfigHash: "9c3d", RestartNeeded: []string{}, Changes: []string{"route all changed"}}, nil
	})
	tests := []struct {
		name, method, path string
		code               int
		into               func() any // a new value of the answer's type
		ndjson             bool
		before             func()
	}{
		{name: "healthz", method: "GET", path: "/healthz", code: 200, into: func() any { return new(api.Health) }},
		{name: "readyz", method: "GET", path: "/readyz", code: 200, into: func() any { return new(api.Ready) }},
		{name: "deliveries", method: "GET", path: "/api/deliveries", code: 200, into: func() any { return new(api.Deliveries) }},
		{name: "deliveries_page", method: "GET", path: "/api/deliveries?destination=billing&limit=1", code: 200, into: func() any { return new(api.Deliveries) }},
		{name: "delivery", method: "GET", path: "/api/deliveries/" + rec.dead, code: 200, into: func() any { return new(api.Delivery) }},
		{name: "delivery_delivered", method: "GET", path: "/api/deliveries/" + rec.delivered, code: 200, into: func() any { return new(api.Delivery) }},
		{name: "event", method: "GET", path: "/api/events/" + rec.event, code: 200, into: func() any { return new(api.Event) }},
		{name: "events", method: "GET", path: "/api/events", code: 200, into: func() any { return new(api.Events) }},
		{name: "events_export", method: "GET", path: "/api/events/export", code: 200, into: func() any { return new(api.ReceivedEvent) }, ndjson: true},
		{name: "dlq_export", method: "GET", path: "/api/dlq/export", code: 200, into: func() any { return new(api.Delivery) }, ndjson: true},
		{name: "stats", method: "GET", path: "/api/stats", code: 200, into: func() any { return new(api.Stats) }},
		{name: "stats_since", method: "GET", path: "/api/stats?since=1h", code: 200, into: func() any { return new(api.Stats) }},
		{name: "destinations", method: "GET", path: "/api/destinations", code: 200, into: func() any { return new(api.Destinations) }},
		{name: "blocked", method: "GET", path: "/api/destinations/billing/blocked", code: 200, into: func() any { return new(api.Blocked) }},
		{name: "backfill_dry_run", method: "POST", path: "/api/events/replay?dry_run=true&source=partner", code: 200, into: func() any { return new(api.Backfill) }},
		{name: "error_not_found", method: "GET", path: "/api/deliveries/dlv_missing", code: 404, into: func() any { return new(api.Error) }},
		{name: "error_filter", method: "GET", path: "/api/events?filter=total+%3E", code: 400, into: func() any { return new(api.FilterError) }},
		{name: "reload", method: "POST", path: "/api/reload", code: 200, into: func() any { return new(api.Reload) }},
		{name: "reload_refused", method: "POST", path: "/api/reload", code: 422, into: func() any { return new(api.ReloadRefused) }, before: func() { reloadErr = true }},
		// From here on the answers change the records.
		{name: "pause", method: "POST", path: "/api/destinations/orders/pause", code: 200, into: func() any { return new(api.Destination) }},
		{name: "destinations_paused", method: "GET", path: "/api/destinations", code: 200, into: func() any { return new(api.Destinations) }},
		{name: "resume", method: "POST", path: "/api/destinations/orders/resume", code: 200, into: func() any { return new(api.Destination) }},
		{name: "discard", method: "POST", path: "/api/deliveries/" + rec.head + "/discard", code: 200, into: func() any { return new(api.Discarded) }},
		{name: "retry", method: "POST", path: "/api/deliveries/" + rec.dead + "/retry", code: 202, into: func() any { return new(api.Retried) }},
		{name: "dlq_replay", method: "POST", path: "/api/dlq/replay?destination=billing", code: 200, into: func() any { return new(api.Replayed) }},
		{name: "test_queued", method: "POST", path: "/api/destinations/orders/test", code: 202, into: func() any { return new(api.TestQueued) }},
	}
	if *update {
		if err := os.MkdirAll(filepath.Join("testdata", "api"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		if tt.before != nil {
			tt.before()
		}
		code, raw := call(t, tt.method, base+tt.path, fxToken, "")
		if code != tt.code {
			t.Errorf("%s: %d %s, want %d", tt.name, code, raw, tt.code)
			continue
		}
		lines := [][]byte{raw}
		if tt.ndjson {
			lines = bytes.SplitAfter(raw, []byte("\n"))
			lines = lines[:len(lines)-1] // after the last newline
		}
		var shown bytes.Buffer
		for _, line := range lines {
			roundTrip(t, tt.name, line, tt.into())
			if tt.ndjson {
				shown.Write(line) // one line each, as sent
				continue
			}
			if err := json.Indent(&shown, line, "", "  "); err != nil {
				t.Fatalf("%s: %v: %s", tt.name, err, line)
			}
		}
		got := shown.String()
		if tt.name == "test_queued" {
			got = randomIDs.ReplaceAllString(got, "${1}_RANDOM")
		}
		ext := ".json"
		if tt.ndjson {
			ext = ".ndjson"
		}
		compareGolden(t, filepath.Join("testdata", "api", tt.name+ext), got)
	}
}

// roundTrip decodes one answer into v, refusing fields v does not
// declare, and checks that v encodes back to the same bytes.
func roundTrip(t *testing.T, name string, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Errorf("%s: the answer does not decode into %T: %v\n%s", name, v, err, raw)
		return
	}
	var again bytes.Buffer
	if err := api.Encode(&again, v); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), raw) {
		t.Errorf("%s: %T does not encode back to the answer:\nsent    %s\nencoded %s", name, v, raw, again.Bytes())
	}
}

// compareGolden compares got with the golden file (or rewrites it with
// -update).
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/admin -run TestAPIGolden -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (-update rewrites it once the change is meant):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
