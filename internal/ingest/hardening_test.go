package ingest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
)

// A source's own credential header is never stored with the event, even
// when its name says nothing of credentials.
func TestVerifierHeaderIsNotStored(t *testing.T) {
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(`
source "hooks" {
  path = "/in/hooks"
  verify "token" {
    header = "X-Hook-Key"
    token  = "s3cr3t-value"
  }
}
`), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	es, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })
	srv := httptest.NewServer(&ingest.Handler{Current: func() *config.Config { return cfg }, Store: es})
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv}
	status, out, _ := f.post(t, "POST", "/in/hooks", `{"a":1}`, map[string]string{"X-Hook-Key": "s3cr3t-value", "X-Request-Id": "r1"})
	if status != 202 {
		t.Fatalf("status %d: %v", status, out)
	}
	ev, err := es.Event(context.Background(), out["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ev.Headers["x-hook-key"]; ok {
		t.Errorf("the verifier's header is stored: %v", ev.Headers)
	}
	if ev.Headers["x-request-id"] != "r1" {
		t.Errorf("other headers are not stored: %v", ev.Headers)
	}
}

// A sender's sampled traceparent is followed only once the request is
// verified: an unverified one cannot force a trace past sample_ratio.
func TestUnverifiedTraceParentDoesNotForceSampling(t *testing.T) {
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(cfgSrc), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	sr := tracetest.NewSpanRecorder()
	// sample_ratio 0: only a trusted sender's decision samples.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0))))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	srv := httptest.NewServer(&ingest.Handler{Current: func() *config.Config { return cfg }, Store: nopStore{}, TracerProvider: tp})
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv}
	const tp01 = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

	if status, _, _ := f.post(t, "POST", "/in/influship", tiktok, map[string]string{"traceparent": tp01, "X-Influship-Signature": "00"}); status != 401 {
		t.Fatalf("status %d, want 401", status)
	}
	if n := len(sr.Ended()); n != 0 {
		t.Errorf("an unverified sampled traceparent recorded %d spans, want none", n)
	}
	if status, _, _ := f.post(t, "POST", "/in/influship", tiktok, map[string]string{"traceparent": tp01, "X-Influship-Signature": sign(tiktok)}); status != 202 {
		t.Fatalf("status %d, want 202", status)
	}
	spans := byName(t, sr.Ended())
	srvSpan := spans["POST /in/influship"]
	if srvSpan == nil {
		t.Fatalf("a verified sender's sampled trace recorded no server span: %v", spans)
	}
	if got := srvSpan.SpanContext().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id %s, want the verified sender's", got)
	}
	if spans["POST /in/influship"].Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("the verified sender's span is not the parent")
	}
}

// blockingStore holds every Accept until release is closed.
type blockingStore struct {
	entered chan struct{}
	release chan struct{}
}

func (s blockingStore) Accept(context.Context, *store.Event, []*store.Delivery, *store.Dedupe) (string, error) {
	s.entered <- struct{}{}
	<-s.release
	return "", nil
}

// Beyond MaxInFlight requests at once, ingest answers 503 with
// Retry-After without reading the body; the requests in flight finish.
func TestMaxInFlight(t *testing.T) {
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(cfgSrc), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	st := blockingStore{entered: make(chan struct{}, 1), release: make(chan struct{})}
	srv := httptest.NewServer(&ingest.Handler{Current: func() *config.Config { return cfg }, Store: st, MaxInFlight: 1})
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv}
	sig := map[string]string{"X-Influship-Signature": sign(tiktok)}
	first := make(chan int, 1)
	go func() {
		status, _, _ := f.post(t, "POST", "/in/influship", tiktok, sig)
		first <- status
	}()
	<-st.entered
	status, out, h := f.post(t, "POST", "/in/influship", tiktok, sig)
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(out["error"].(string), "in flight") {
		t.Errorf("second request: %d %v Retry-After %q, want 503 with Retry-After", status, out, h.Get("Retry-After"))
	}
	close(st.release)
	if s := <-first; s != 202 {
		t.Errorf("first request: %d, want 202", s)
	}
	// The slot is free again.
	st.entered = make(chan struct{}, 1)
	if status, _, _ := f.post(t, "POST", "/in/influship", tiktok, sig); status != 202 {
		t.Errorf("after the first finished: %d, want 202", status)
	}
}

// recordingHandoff is a delivery engine that takes deliveries for the
// destinations it has room for.
type recordingHandoff struct {
	room   map[string]bool
	mu     sync.Mutex
	handed []*store.Delivery
}

func (h *recordingHandoff) HandoffLease(dest string) (time.Duration, bool) {
	return time.Minute, h.room[dest]
}

func (h *recordingHandoff) Handoff(ds []*store.Delivery) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handed = append(h.handed, ds...)
}

// Deliveries the engine has room for are stored leased to it and handed
// over once stored; the others are announced with Notify and claimed from
// the store.
func TestHandoff(t *testing.T) {
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(cfgSrc), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	es, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })
	ho := &recordingHandoff{room: map[string]bool{"tiktok": true}}
	var notified []string
	srv := httptest.NewServer(&ingest.Handler{Current: func() *config.Config { return cfg }, Store: es, Handoff: ho,
		Notify: func(d string) { notified = append(notified, d) }})
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv}
	status, out, _ := f.post(t, "POST", "/in/influship", tiktok, map[string]string{"X-Influship-Signature": sign(tiktok)})
	if status != 202 || out["deliveries"] != 2.0 {
		t.Fatalf("answer %d %v", status, out)
	}
	if len(ho.handed) != 1 || ho.handed[0].Destination != "tiktok" || ho.handed[0].LeaseUntil.IsZero() {
		t.Fatalf("handed over %v, want the tiktok delivery, leased", ho.handed)
	}
	if len(notified) != 1 || notified[0] != "all" {
		t.Errorf("notified %v, want [all]", notified)
	}
	// The handed-over one is leased in the store; the other is due.
	ctx := context.Background()
	if ds, err := es.Claim(ctx, "tiktok", time.Now(), 10, time.Minute); err != nil || len(ds) != 0 {
		t.Errorf("Claim(tiktok) = %v, %v; want nothing: it is leased to the engine", ds, err)
	}
	if ds, err := es.Claim(ctx, "all", time.Now(), 10, time.Minute); err != nil || len(ds) != 1 {
		t.Errorf("Claim(all) = %v, %v; want the delivery", ds, err)
	}
}
