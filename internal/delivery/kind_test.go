package delivery

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/redis/redistest"
	"github.com/hookgate/hookgate/plugins/deliver/brokertest"
	_ "github.com/hookgate/hookgate/plugins/standard"
)

// loadDest loads a config of one destination, body as its block's body.
func loadDest(t *testing.T, body string) *config.Destination {
	t.Helper()
	l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
	cfg, diags := l.LoadBytes([]byte("destination \"d\" {\n"+body+"\n}\n"), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return cfg.Destination("d")
}

// TestKindSpan: an attempt through a kind (a Redis stream, real) is a
// producer span with the messaging conventions, a child of the event's
// ingest span, and the message carries that span's traceparent; with the
// broker down the span records the error and the delivery retries.
func TestKindSpan(t *testing.T) {
	srv := redistest.Start(t)
	dest := loadDest(t, `  redis_stream {
    url    = "redis://`+srv.Addr+`/0"
    stream = "hookgate:audit"
  }
  headers = { "X-Team" = "audit" }`)
	tracer, sr := mustTracer(t)
	d := &store.Delivery{ID: "dlv_span_1", EventID: "evt_1", Route: "all", EventType: "creator_insights",
		Body: []byte(`{"identifier":"a"}`), TraceParent: ingestTP}
	r := sendKind(context.Background(), tracer, dest.Deliverer, dest, d, time.Now, 5*time.Second)
	defer dest.Deliverer.(interface{ Close() error }).Close()
	if r.Err != "" || !r.Delivered || !strings.HasPrefix(r.Response, "stream hookgate:audit id ") {
		t.Fatalf("attempt: %+v", r)
	}
	if o := decide(dest.Retry, 0, r, func() float64 { return 0.5 }); o.Status != store.Delivered {
		t.Fatalf("outcome %s", o.Status)
	}
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.Name() != "send hookgate:audit" || s.SpanKind() != trace.SpanKindProducer {
		t.Errorf("span %q kind %v", s.Name(), s.SpanKind())
	}
	if got := s.Parent().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("parent trace %s, want the ingest span's", got)
	}
	a := spanAttrs(s)
	for k, want := range map[string]string{
		"messaging.system": "redis", "messaging.destination.name": "hookgate:audit", "messaging.operation.type": "send",
		"messaging.message.id": "dlv_span_1", "server.address": "127.0.0.1", "hookgate.destination": "d", "hookgate.delivery_id": "dlv_span_1",
	} {
		if a[k].Emit() != want {
			t.Errorf("attribute %s = %q, want %q", k, a[k].Emit(), want)
		}
	}
	ms := brokertest.ReadRedisStream(t, srv.URL(), "hookgate:audit")
	if len(ms) != 1 {
		t.Fatalf("%d entries", len(ms))
	}
	wantTP := "00-" + s.SpanContext().TraceID().String() + "-" + s.SpanContext().SpanID().String() + "-01"
	if h := ms[0].Headers; h["traceparent"] != wantTP || h["webhook-id"] != "dlv_span_1" || h["x-team"] != "audit" || h["webhook-event-type"] != "creator_insights" {
		t.Errorf("entry headers %v, want traceparent %s", h, wantTP)
	}

	srv.Kill()
	r = sendKind(context.Background(), tracer, dest.Deliverer, dest, d, time.Now, 2*time.Second)
	if r.Err == "" || r.Delivered || r.Permanent {
		t.Fatalf("attempt with the server down: %+v", r)
	}
	if o := decide(dest.Retry, 0, r, func() float64 { return 0.5 }); o.Status != store.Retrying {
		t.Errorf("outcome %s, want retrying", o.Status)
	}
	s = sr.Ended()[1]
	if s.Status().Code != codes.Error || spanAttrs(s)["error.type"].Emit() == "" {
		t.Errorf("failed span: status %v, error.type %q", s.Status(), spanAttrs(s)["error.type"].Emit())
	}
}

// TestKindKeyError: a key expression that cannot be computed for a body
// dead-letters the delivery at once (no retry changes the body), with the
// reason; the broker is never asked.
func TestKindKeyError(t *testing.T) {
	dest := loadDest(t, `  kafka {
    brokers = ["127.0.0.1:1"]
    topic   = "t"
    key     = "data.identifier"
  }`)
	tracer, _ := mustTracer(t)
	d := &store.Delivery{ID: "dlv_key", Body: []byte(`{"identifier":"a"}`)}
	r := sendKind(context.Background(), tracer, dest.Deliverer, dest, d, time.Now, time.Second)
	o := decide(dest.Retry, 0, r, func() float64 { return 0.5 })
	if o.Status != store.Dead || !strings.Contains(o.DeadReason, "cannot compute the message key") {
		t.Fatalf("outcome %s %q", o.Status, o.DeadReason)
	}
}

// TestKindKeptAcrossReload: a reload that leaves a kind's settings alone
// keeps the destination's plugin (and its connection); one that changes
// them switches to the new one and closes the old.
func TestKindKeptAcrossReload(t *testing.T) {
	srv := redistest.Start(t)
	block := func(stream string) string {
		return `  redis_stream {
    url    = "redis://` + srv.Addr + `/0"
    stream = "` + stream + `"
  }`
	}
	e := New(nil, Options{})
	d1 := loadDest(t, block("a"))
	s1 := e.settings(d1, nil)
	if r := s1.send(context.Background(), e.tracer, &store.Delivery{ID: "x", Body: []byte(`{}`)}, time.Now); r.Err != "" {
		t.Fatal(r.Err)
	}
	d2 := loadDest(t, block("a")+"\n  timeout = \"3s\"")
	s2 := e.settings(d2, s1)
	if s2.kind != s1.kind {
		t.Fatal("the same kind settings got a new plugin")
	}
	retire(s1, s2)
	if r := s2.send(context.Background(), e.tracer, &store.Delivery{ID: "y", Body: []byte(`{}`)}, time.Now); r.Err != "" {
		t.Fatalf("the kept connection after retire: %s", r.Err)
	}
	d3 := loadDest(t, block("b"))
	s3 := e.settings(d3, s2)
	if s3.kind == s2.kind {
		t.Fatal("another stream kept the old plugin")
	}
	retire(s2, s3)
	if r := s2.send(context.Background(), e.tracer, &store.Delivery{ID: "z", Body: []byte(`{}`)}, time.Now); r.Err == "" {
		t.Error("the retired plugin still delivers")
	}
	if r := s3.send(context.Background(), e.tracer, &store.Delivery{ID: "z", Body: []byte(`{}`)}, time.Now); r.Err != "" {
		t.Fatal(r.Err)
	}
	retire(s3, nil)
	if n := len(brokertest.ReadRedisStream(t, srv.URL(), "a")); n != 2 {
		t.Errorf("stream a holds %d entries, want 2", n)
	}
}

// TestKindBreaker: a broker's acks count as successes for the breaker (no
// HTTP status), and failures with the broker down open it.
func TestKindBreaker(t *testing.T) {
	srv := redistest.Start(t)
	dest := loadDest(t, `  redis_stream {
    url    = "redis://`+srv.Addr+`/0"
    stream = "s"
  }
  breaker {
    failures = 3
    cooldown = "1m"
  }`)
	e := New(nil, Options{})
	set := e.settings(dest, nil)
	defer retire(set, nil)
	h := newHealth()
	for i := range 5 {
		r := set.send(context.Background(), e.tracer, &store.Delivery{ID: "ok" + string(rune('a'+i)), Body: []byte(`{}`)}, time.Now)
		if !r.Delivered {
			t.Fatalf("attempt %d: %+v", i, r)
		}
		if h.observe(set, r, 1, time.Now()) {
			t.Fatal("delivered attempts opened the breaker")
		}
	}
	srv.Kill()
	opened := false
	for i := range 3 {
		r := set.send(context.Background(), e.tracer, &store.Delivery{ID: "down" + string(rune('a'+i)), Body: []byte(`{}`)}, time.Now)
		opened = h.observe(set, r, 1, time.Now()) || opened
	}
	if st, _ := h.snapshot(set); !opened || st != Open {
		t.Errorf("three failures with Redis down: opened %v, state %v", opened, st)
	}
}
