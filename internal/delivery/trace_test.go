package delivery

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/telemetry"
)

// ingestTP is the traceparent ingest stored with the delivery.
const ingestTP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func mustTracer(t *testing.T) (trace.Tracer, *tracetest.SpanRecorder) {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return telemetry.Tracer(tp), sr
}

func spanAttrs(s sdktrace.ReadOnlySpan) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

func TestAttemptSpan(t *testing.T) {
	var mu sync.Mutex
	var gotTP []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotTP = append(gotTP, r.Header.Get("traceparent"))
		mu.Unlock()
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(http.StatusNoContent)
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	// A port nothing listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	cases := []struct {
		name       string
		url        string
		attempts   int // before this one
		timeout    time.Duration
		status     int // 0: no response
		errType    string
		reason     string
		noResponse bool
	}{
		{name: "delivered", url: srv.URL + "/ok", status: 204},
		{name: "500 on the third attempt", url: srv.URL + "/fail", attempts: 2, status: 500, errType: "500", reason: "status 500 Internal Server Error"},
		{name: "connection refused", url: closed + "/x", errType: "connection_refused", reason: "connection refused", noResponse: true},
		{name: "timeout", url: srv.URL + "/slow", timeout: 50 * time.Millisecond, errType: "timeout", reason: "timeout after 50ms", noResponse: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tracer, sr := mustTracer(t)
			dest := &config.Destination{Name: "tiktok_team", URL: c.url, AllowPrivate: true}
			timeout := c.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			client := newClient(dest, timeout, 1)
			d := &store.Delivery{ID: "dl_1", EventID: "ev_1", Route: "tiktok_creators", Destination: dest.Name,
				Body: []byte(`{}`), Attempts: c.attempts, TraceParent: ingestTP}
			mu.Lock()
			gotTP = nil
			mu.Unlock()

			r := sendTraced(context.Background(), tracer, client, dest, d, time.Now)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d (error %q)", r.Status, c.status, r.Err)
			}
			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			s := spans[0]
			if s.Name() != "deliver tiktok_team" || s.SpanKind() != trace.SpanKindClient {
				t.Errorf("span %q of kind %v, want deliver tiktok_team, client", s.Name(), s.SpanKind())
			}
			if s.Parent().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent().SpanID().String() != "00f067aa0ba902b7" || !s.Parent().IsRemote() {
				t.Errorf("parent %v, want the stored ingest span", s.Parent())
			}
			if s.SpanContext().TraceID() != s.Parent().TraceID() {
				t.Error("the attempt is not in the event's trace")
			}
			a := spanAttrs(s)
			want := map[string]any{
				"http.request.method":  "POST",
				"hookgate.attempt":     int64(c.attempts + 1),
				"hookgate.destination": "tiktok_team",
				"hookgate.route":       "tiktok_creators",
				"hookgate.delivery_id": "dl_1",
				"hookgate.event_id":    "ev_1",
				"url.full":             c.url,
			}
			if !c.noResponse || c.name == "timeout" {
				want["server.address"] = host
				want["server.port"] = int64(mustAtoi(t, port))
			}
			if c.status != 0 {
				want["http.response.status_code"] = int64(c.status)
			}
			if c.errType != "" {
				want["error.type"] = c.errType
			}
			for k, v := range want {
				if got, ok := a[k]; !ok || got.AsInterface() != v {
					t.Errorf("%s = %v, want %v", k, got.AsInterface(), v)
				}
			}
			if c.status == 0 {
				if _, ok := a["http.response.status_code"]; ok {
					t.Error("a status code without a response")
				}
			}
			if c.reason == "" {
				if s.Status().Code != codes.Unset {
					t.Errorf("status %v, want unset", s.Status())
				}
			} else if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, c.reason) {
				t.Errorf("status %v, want Error with %q", s.Status(), c.reason)
			}
			mu.Lock()
			defer mu.Unlock()
			if !c.noResponse || c.name == "timeout" {
				wantTP := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + s.SpanContext().SpanID().String() + "-01"
				if len(gotTP) != 1 || gotTP[0] != wantTP {
					t.Errorf("receiver got traceparent %q, want the attempt span's %q", gotTP, wantTP)
				}
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAttemptSpanURLKeepsSecretsOut(t *testing.T) {
	tracer, sr := mustTracer(t)
	dest := &config.Destination{Name: "d", URL: "https://user:hunter2@receiver.invalid:8443/hooks?token=s3cr3t#frag"}
	d := &store.Delivery{ID: "dl_1", EventID: "ev_1", Route: "r", TraceParent: ingestTP}
	// The address does not resolve: only the span matters here.
	client := &http.Client{Timeout: time.Second, Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, context.DeadlineExceeded
	})}
	sendTraced(context.Background(), tracer, client, dest, d, time.Now)
	s := sr.Ended()[0]
	a := spanAttrs(s)
	if got := a["url.full"].AsString(); got != "https://receiver.invalid:8443/hooks" {
		t.Errorf("url.full = %q", got)
	}
	if a["server.address"].AsString() != "receiver.invalid" || a["server.port"].AsInt64() != 8443 {
		t.Errorf("server %v:%v", a["server.address"].AsInterface(), a["server.port"].AsInterface())
	}
	for _, kv := range s.Attributes() {
		if v := kv.Value.Emit(); strings.Contains(v, "hunter2") || strings.Contains(v, "s3cr3t") {
			t.Errorf("%s carries a secret: %s", kv.Key, v)
		}
	}
	if strings.Contains(s.Status().Description, "s3cr3t") || strings.Contains(s.Status().Description, "hunter2") {
		t.Errorf("status carries a secret: %s", s.Status().Description)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAttemptWithoutTracing: with tracing off (a no-op provider), the
// request carries the stored traceparent as it is, and none when there is
// none.
func TestAttemptWithoutTracing(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("traceparent"))
	}))
	defer srv.Close()
	dest := &config.Destination{Name: "d", URL: srv.URL, AllowPrivate: true}
	client := newClient(dest, 5*time.Second, 1)
	tracer := telemetry.Tracer(noop.NewTracerProvider())
	sendTraced(context.Background(), tracer, client, dest, &store.Delivery{ID: "a", TraceParent: ingestTP}, time.Now)
	sendTraced(context.Background(), tracer, client, dest, &store.Delivery{ID: "b"}, time.Now)
	if len(got) != 2 || got[0] != ingestTP || got[1] != "" {
		t.Errorf("traceparents %q, want [%q \"\"]", got, ingestTP)
	}
}

// TestAttemptsOfOneDeliveryShareTheTrace: attempts made at different times
// (and so by different processes) from the same stored traceparent are
// siblings under the ingest span.
func TestAttemptsOfOneDeliveryShareTheTrace(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dest := &config.Destination{Name: "d", URL: srv.URL, AllowPrivate: true}
	client := newClient(dest, 5*time.Second, 1)
	d := &store.Delivery{ID: "a", TraceParent: ingestTP}
	var spans []sdktrace.ReadOnlySpan
	for i := range 3 {
		// A new provider each time: a restart.
		tracer, sr := mustTracer(t)
		d.Attempts = i
		sendTraced(context.Background(), tracer, client, dest, d, time.Now)
		spans = append(spans, sr.Ended()...)
	}
	seen := map[trace.SpanID]bool{}
	for i, s := range spans {
		if s.Parent().SpanID().String() != "00f067aa0ba902b7" || s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("attempt %d: trace %s parent %s", i+1, s.SpanContext().TraceID(), s.Parent().SpanID())
		}
		if seen[s.SpanContext().SpanID()] {
			t.Errorf("attempt %d reuses a span id", i+1)
		}
		seen[s.SpanContext().SpanID()] = true
		if n := spanAttrs(s)["hookgate.attempt"].AsInt64(); n != int64(i+1) {
			t.Errorf("attempt %d: hookgate.attempt %d", i+1, n)
		}
	}
}

// BenchmarkSendTraced measures an attempt's cost with tracing off, sampled
// out and recorded, against a local receiver.
func BenchmarkSendTraced(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dest := &config.Destination{Name: "d", URL: srv.URL + "/hooks", AllowPrivate: true}
	client := newClient(dest, 5*time.Second, 1)
	d := &store.Delivery{ID: "a", EventID: "e", Route: "r", Body: []byte(`{"a":1}`), TraceParent: ingestTP}
	notSampled := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	for _, c := range []struct {
		name   string
		tp     trace.TracerProvider
		parent string
	}{
		{"off", noop.NewTracerProvider(), ingestTP},
		{"not_sampled", sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))), sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder())), notSampled},
		{"sampled", sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(noopProcessor{})), ingestTP},
	} {
		b.Run(c.name, func(b *testing.B) {
			tracer := telemetry.Tracer(c.tp)
			d := *d
			d.TraceParent = c.parent
			b.ReportAllocs()
			for b.Loop() {
				if r := sendTraced(context.Background(), tracer, client, dest, &d, time.Now); r.Err != "" {
					b.Fatal(r.Err)
				}
			}
		})
	}
}

// noopProcessor ends spans without keeping them.
type noopProcessor struct{}

func (noopProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (noopProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (noopProcessor) Shutdown(context.Context) error                  { return nil }
func (noopProcessor) ForceFlush(context.Context) error                { return nil }

// TestAttemptSpanHidesSecretURLPath: a URL given through env() (a
// Slack-style URL whose path is the credential) is traced without its path.
func TestAttemptSpanHidesSecretURLPath(t *testing.T) {
	tracer, sr := mustTracer(t)
	dest := &config.Destination{Name: "d", URL: "https://hooks.receiver.invalid/services/T0/B0/t0k3n", URLSecret: true}
	d := &store.Delivery{ID: "dl_1", EventID: "ev_1", Route: "r", TraceParent: ingestTP}
	client := &http.Client{Timeout: time.Second, Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, context.DeadlineExceeded
	})}
	sendTraced(context.Background(), tracer, client, dest, d, time.Now)
	s := sr.Ended()[0]
	if got := spanAttrs(s)["url.full"].AsString(); got != "https://hooks.receiver.invalid/[redacted]" {
		t.Errorf("url.full = %q", got)
	}
	for _, kv := range s.Attributes() {
		if strings.Contains(kv.Value.Emit(), "t0k3n") {
			t.Errorf("%s carries the URL's secret path: %s", kv.Key, kv.Value.Emit())
		}
	}
}
