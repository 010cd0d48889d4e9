package ingest_test

import (
	"context"
	"maps"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
)

// tracedFixture is an ingest handler whose spans go to an in-memory
// recorder.
type tracedFixture struct {
	fixture
	spans *tracetest.SpanRecorder
}

func newTracedFixture(t *testing.T) *tracedFixture {
	t.Helper()
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(cfgSrc), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	es, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	f := &tracedFixture{spans: sr}
	f.store = es
	f.srv = httptest.NewServer(&ingest.Handler{
		Current:        func() *config.Config { return cfg },
		Store:          es,
		TracerProvider: tp,
	})
	t.Cleanup(f.srv.Close)
	return f
}

// byName returns the ended spans by name; it fails on a name seen twice.
func byName(t *testing.T, spans []sdktrace.ReadOnlySpan) map[string]sdktrace.ReadOnlySpan {
	t.Helper()
	out := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if out[s.Name()] != nil {
			t.Fatalf("two spans named %q", s.Name())
		}
		out[s.Name()] = s
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func wantAttr(t *testing.T, s sdktrace.ReadOnlySpan, key string, want any) {
	t.Helper()
	v, ok := attr(s, key)
	if !ok {
		t.Errorf("span %q has no %s", s.Name(), key)
		return
	}
	var got any
	switch v.Type() {
	case attribute.INT64:
		got = int(v.AsInt64())
	case attribute.STRINGSLICE:
		got = strings.Join(v.AsStringSlice(), ",")
	default:
		got = v.Emit()
	}
	if got != want {
		t.Errorf("span %q: %s = %v, want %v", s.Name(), key, got, want)
	}
}

const senderTP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestIngestSpansContinueSendersTrace(t *testing.T) {
	f := newTracedFixture(t)
	status, out, _ := f.post(t, "POST", "/in/influship", tiktok, map[string]string{
		"X-Influship-Signature": sign(tiktok),
		"traceparent":           senderTP,
	})
	if status != 202 {
		t.Fatalf("status %d: %v", status, out)
	}
	spans := byName(t, f.spans.Ended())
	srv := spans["POST /in/influship"]
	if srv == nil {
		t.Fatalf("no server span; spans: %v", slices.Sorted(maps.Keys(spans)))
	}
	if srv.SpanKind() != trace.SpanKindServer {
		t.Errorf("kind %v, want server", srv.SpanKind())
	}
	if got := srv.SpanContext().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id %s, want the sender's", got)
	}
	if got := srv.Parent().SpanID().String(); got != "00f067aa0ba902b7" || !srv.Parent().IsRemote() {
		t.Errorf("parent %s (remote %v), want the sender's span", got, srv.Parent().IsRemote())
	}
	wantAttr(t, srv, "http.request.method", "POST")
	wantAttr(t, srv, "http.route", "/in/influship")
	wantAttr(t, srv, "url.path", "/in/influship")
	wantAttr(t, srv, "http.response.status_code", 202)
	wantAttr(t, srv, "hookgate.source", "influship")
	wantAttr(t, srv, "hookgate.event_id", out["id"])
	if srv.Status().Code != codes.Unset {
		t.Errorf("server span status %v", srv.Status())
	}

	// One span: the stages are its attributes.
	if len(spans) != 1 {
		t.Errorf("spans %v, want the server span alone", slices.Sorted(maps.Keys(spans)))
	}
	wantAttr(t, srv, "hookgate.verifier", "hmac")
	wantAttr(t, srv, "hookgate.event_type", "creator_insights")
	wantAttr(t, srv, "hookgate.routes_matched", "tiktok,all")
	wantAttr(t, srv, "hookgate.deliveries", 2)

	// The event and each delivery keep the ingest span's context, not the
	// sender's.
	want := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + srv.SpanContext().SpanID().String() + "-01"
	ev, err := f.store.Event(context.Background(), out["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if ev.TraceParent != want {
		t.Errorf("event traceparent %q, want %q", ev.TraceParent, want)
	}
	for _, id := range ev.DeliveryIDs {
		d, _, err := f.store.Delivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.TraceParent != want {
			t.Errorf("delivery %s traceparent %q, want %q", id, d.TraceParent, want)
		}
	}
}

func TestIngestSpanIsRootWithoutTraceParent(t *testing.T) {
	f := newTracedFixture(t)
	status, out, _ := f.post(t, "POST", "/in/influship", tiktok, map[string]string{"X-Influship-Signature": sign(tiktok)})
	if status != 202 {
		t.Fatalf("status %d: %v", status, out)
	}
	srv := byName(t, f.spans.Ended())["POST /in/influship"]
	if srv == nil {
		t.Fatal("no server span")
	}
	if srv.Parent().IsValid() {
		t.Errorf("parent %v, want none", srv.Parent())
	}
	ev, err := f.store.Event(context.Background(), out["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	want := "00-" + srv.SpanContext().TraceID().String() + "-" + srv.SpanContext().SpanID().String() + "-01"
	if ev.TraceParent != want {
		t.Errorf("event traceparent %q, want %q", ev.TraceParent, want)
	}
}

func TestIngestSpanFailures(t *testing.T) {
	cases := []struct {
		name      string
		body      string
		signature string
		status    int
		reason    string // in the server span's hookgate.refusal
	}{
		{name: "bad signature", body: tiktok, signature: "00", status: 401, reason: "signature"},
		{name: "schema violation", body: `{"type":"creator_insights","status":"success","identifier":"x","connector":"myspace"}`,
			status: 422, reason: "does not match its schema"},
		{name: "not JSON", body: `{`, status: 400, reason: "not JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTracedFixture(t)
			sig := c.signature
			if sig == "" {
				sig = sign(c.body)
			}
			status, out, _ := f.post(t, "POST", "/in/influship", c.body, map[string]string{"X-Influship-Signature": sig, "traceparent": senderTP})
			if status != c.status {
				t.Fatalf("status %d, want %d: %v", status, c.status, out)
			}
			spans := byName(t, f.spans.Ended())
			srv := spans["POST /in/influship"]
			if srv == nil {
				t.Fatal("no server span")
			}
			wantAttr(t, srv, "http.response.status_code", c.status)
			// A 4xx is the sender's error, not the gateway's.
			if srv.Status().Code != codes.Unset {
				t.Errorf("server span status %v, want unset for a %d", srv.Status(), c.status)
			}
			var refusal string
			for _, a := range srv.Attributes() {
				if a.Key == "hookgate.refusal" {
					refusal = a.Value.AsString()
				}
			}
			if !strings.Contains(refusal, c.reason) {
				t.Errorf("hookgate.refusal %q, want it to say %q", refusal, c.reason)
			}
			if len(spans) != 1 {
				t.Errorf("spans %v, want the server span alone", slices.Sorted(maps.Keys(spans)))
			}
		})
	}
}

func TestIngestStoreDownMarksServerSpanError(t *testing.T) {
	f := newTracedFixture(t)
	f.store.Close() // a closed store refuses writes: 503
	status, out, _ := f.post(t, "POST", "/in/influship", tiktok, map[string]string{"X-Influship-Signature": sign(tiktok)})
	if status != 503 {
		t.Fatalf("status %d: %v", status, out)
	}
	spans := byName(t, f.spans.Ended())
	srv := spans["POST /in/influship"]
	if srv.Status().Code != codes.Error || !strings.Contains(srv.Status().Description, "store") {
		t.Errorf("server span status %v, want Error saying what the store said", srv.Status())
	}
	wantAttr(t, srv, "error.type", "503")
}

// nopStore accepts everything at once: the benchmark measures ingest, not
// the store.
type nopStore struct{}

func (nopStore) Accept(context.Context, *store.Event, []*store.Delivery, *store.Dedupe) (string, error) {
	return "", nil
}

// discard is a span exporter that drops every span.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkIngestTracing measures one ingest request (verify, schema, two
// routes, a store that does nothing) with tracing off, on with every trace
// sampled (spans batched to an exporter that drops them), and on with none
// sampled.
func BenchmarkIngestTracing(b *testing.B) {
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(cfgSrc), "config.hcl")
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	for _, c := range []struct {
		name string
		tp   trace.TracerProvider
	}{
		{"off", nil},
		{"sampled", sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))},
		{"not_sampled", sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}), sdktrace.WithSampler(sdktrace.TraceIDRatioBased(0)))},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := &ingest.Handler{Current: func() *config.Config { return cfg }, Store: nopStore{}, TracerProvider: c.tp}
			sig := sign(tiktok)
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/in/influship", strings.NewReader(tiktok))
				req.Header.Set("X-Influship-Signature", sig)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 202 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
