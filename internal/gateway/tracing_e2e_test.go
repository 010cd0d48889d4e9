package gateway_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testutil"
)

// jaegerInstall is how to get the all-in-one binary the tracing test needs.
const jaegerInstall = "go install github.com/jaegertracing/jaeger/cmd/all-in-one@v1.45.0 (scripts/test.sh does it)"

// jaeger is a Jaeger all-in-one process with in-memory storage, every port
// on 127.0.0.1.
type jaeger struct {
	otlpGRPC string // OTLP gRPC receiver
	query    string // query HTTP API and UI
	logs     *logBuffer
}

// startJaeger starts Jaeger all-in-one and waits until it is healthy. A
// missing binary fails the test with how to install it. Its dozen ports are
// chosen free a moment before it binds them, so another process (or Jaeger's
// own agent dialling its collector) can take one first: a start that exits
// is retried on fresh ports, a few times, before the test fails.
func startJaeger(t *testing.T) *jaeger {
	t.Helper()
	bin, err := exec.LookPath("all-in-one")
	if err != nil {
		out, gerr := exec.Command("go", "env", "GOPATH").Output()
		cand := filepath.Join(strings.TrimSpace(string(out)), "bin", "all-in-one")
		if _, serr := os.Stat(cand); gerr != nil || serr != nil {
			t.Fatalf("Jaeger all-in-one is not installed (not on PATH nor in $(go env GOPATH)/bin): %s", jaegerInstall)
		}
		bin = cand
	}
	const tries = 5
	for try := 1; ; try++ {
		j, ok := tryJaeger(t, bin)
		if ok {
			return j
		}
		if try == tries {
			t.Fatalf("Jaeger all-in-one exited at start %d times; last logs:\n%s", tries, j.logs)
		}
		t.Logf("Jaeger all-in-one exited at start (try %d of %d), retrying on fresh ports; its last lines:\n%s",
			try, tries, lastLines(j.logs.String(), 5))
	}
}

// tryJaeger starts Jaeger on fresh ports. It reports false if the process
// exited before it became healthy (its logs are in the returned jaeger).
func tryJaeger(t *testing.T, bin string) (*jaeger, bool) {
	t.Helper()
	j := &jaeger{otlpGRPC: freeAddr(t), query: freeAddr(t), logs: &logBuffer{}}
	admin := freeAddr(t)
	cmd := exec.Command(bin,
		"--collector.otlp.enabled=true",
		"--collector.otlp.grpc.host-port="+j.otlpGRPC,
		"--collector.otlp.http.host-port="+freeAddr(t),
		"--collector.grpc-server.host-port="+freeAddr(t),
		"--collector.http-server.host-port="+freeAddr(t),
		"--query.http-server.host-port="+j.query,
		"--query.grpc-server.host-port="+freeAddr(t),
		"--admin.http.host-port="+admin,
		"--http-server.host-port="+freeAddr(t),
		"--processor.jaeger-compact.server-host-port="+freeUDPAddr(t),
		"--processor.jaeger-binary.server-host-port="+freeUDPAddr(t),
		"--processor.zipkin-compact.server-host-port="+freeUDPAddr(t),
		"--memory.max-traces=10000",
	)
	cmd.Env = append(os.Environ(), "SPAN_STORAGE_TYPE=memory", "COLLECTOR_OTLP_ENABLED=true")
	cmd.Stdout, cmd.Stderr = j.logs, j.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Jaeger all-in-one (%s): %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + admin + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(func() {
					cmd.Process.Kill()
					<-exited
				})
				return j, true
			}
		}
		select {
		case <-exited:
			return j, false
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			t.Fatalf("Jaeger all-in-one not healthy after 20s; logs:\n%s", j.logs)
		}
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freeUDPAddr returns a loopback UDP address that was free a moment ago.
func freeUDPAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// jaegerSpan is a span as Jaeger's query API (/api/traces/{id}) shows it.
type jaegerSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
}

func (s jaegerSpan) tag(key string) any {
	for _, t := range s.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return nil
}

func (s jaegerSpan) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// trace polls Jaeger for traceID until done accepts its spans, or fails the
// test after limit.
func (j *jaeger) trace(t *testing.T, traceID string, limit time.Duration, done func([]jaegerSpan) bool) []jaegerSpan {
	t.Helper()
	deadline := time.Now().Add(limit)
	var spans []jaegerSpan
	for {
		resp, err := http.Get("http://" + j.query + "/api/traces/" + traceID)
		if err == nil {
			var out struct {
				Data []struct {
					Spans []jaegerSpan `json:"spans"`
				} `json:"data"`
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && json.Unmarshal(raw, &out) == nil && len(out.Data) == 1 {
				spans = out.Data[0].Spans
				if done(spans) {
					return spans
				}
			}
		}
		if time.Now().After(deadline) {
			var names []string
			for _, s := range spans {
				names = append(names, s.OperationName)
			}
			t.Fatalf("trace %s in Jaeger after %s: %d spans %v", traceID, limit, len(spans), names)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// flakyReceiver answers 500, then 502, then 200 to every later request, and
// records each request's traceparent and time.
type flakyReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	tps []string
	at  []time.Time
}

func newFlakyReceiver(t *testing.T) *flakyReceiver {
	f := &flakyReceiver{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		f.mu.Lock()
		f.tps = append(f.tps, r.Header.Get("traceparent"))
		f.at = append(f.at, time.Now())
		n := len(f.tps)
		f.mu.Unlock()
		switch n {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
		case 2:
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *flakyReceiver) hits() ([]string, []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tps), slices.Clone(f.at)
}

// waitHits waits until the receiver got n requests.
func (f *flakyReceiver) waitHits(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	testutil.Eventually(t, limit, fmt.Sprintf("%d requests at the receiver", n), func() error {
		if tps, _ := f.hits(); len(tps) < n {
			return fmt.Errorf("%d requests", len(tps))
		}
		return nil
	})
}

func tracingConfig(t *testing.T, dir, ingest, admin, receiver, otlp string) string {
	t.Helper()
	cfg := fmt.Sprintf(`
gateway {
  listen           = %q
  admin_listen     = %q
  shutdown_timeout = "5s"
}
storage "embedded" { path = "data/hookgate.db" }
telemetry {
  service_name  = "hookgate-e2e"
  otlp_endpoint = %q
  sample_ratio  = 1.0
}
source "partner" {
  path = "/in/partner"
  verify "hmac" {
    header = "X-Signature"
    secret = "e2e-secret"
  }
}
destination "flaky" {
  url           = "%s/hooks?token=query-s3cret"
  allow_private = true
  timeout       = "2s"
  retry {
    schedule = ["2s", "1s"]
    jitter   = "0%%"
  }
}
route "all" {
  source       = "partner"
  destinations = ["flaky"]
}
`, ingest, admin, otlp, receiver)
	path := filepath.Join(dir, "config.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// stop sends SIGTERM and waits for the gateway to exit.
func (p *gatewayProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-done
		t.Fatalf("the gateway did not stop within 15s of SIGTERM; logs:\n%s", p.logs)
	}
}

// TestTracingInJaeger: an event sent with a traceparent to a destination
// that fails twice then succeeds shows in Jaeger as one trace, the
// sender's: the ingest span and its children, and three attempt spans under
// it with their status codes, the failed ones marked as errors; also when
// the gateway restarts between attempts.
func TestTracingInJaeger(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	// Export spans quickly, so the test need not wait for the default 5s
	// batches (the gateway inherits the environment).
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "200")
	j := startJaeger(t)

	for _, restart := range []bool{false, true} {
		name := "continuous"
		if restart {
			name = "restart between attempts"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			rc := newFlakyReceiver(t)
			ingest, admin := freeAddr(t), freeAddr(t)
			config := tracingConfig(t, dir, ingest, admin, rc.srv.URL, j.otlpGRPC)
			proc := start(t, config, ingest, admin)
			defer func() { proc.stop(t) }()

			traceID, senderSpan := randomHex(t, 16), randomHex(t, 8)
			body := []byte(`{"type":"creator_insights","identifier":"trace-me","connector":"tiktok"}`)
			req, _ := http.NewRequest("POST", "http://"+ingest+"/in/partner", bytes.NewReader(body))
			req.Header.Set("X-Signature", sign(body))
			req.Header.Set("traceparent", "00-"+traceID+"-"+senderSpan+"-01")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("ingest answered %d", resp.StatusCode)
			}

			var restartedAt time.Time
			if restart {
				rc.waitHits(t, 1, 10*time.Second)
				proc.stop(t)
				restartedAt = time.Now()
				proc = start(t, config, ingest, admin)
			}
			rc.waitHits(t, 3, 20*time.Second)
			tps, at := rc.hits()
			if restart && !at[1].After(restartedAt) {
				t.Fatalf("the second attempt came before the restart")
			}

			// The admin API shows the trace id with the delivery.
			var list struct {
				Deliveries []struct {
					ID          string `json:"id"`
					Status      string `json:"status"`
					TraceParent string `json:"traceparent"`
					TraceID     string `json:"trace_id"`
				} `json:"deliveries"`
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				api(t, "GET", "http://"+admin+"/api/deliveries?destination=flaky", "", &list)
				if len(list.Deliveries) == 1 && list.Deliveries[0].Status == "delivered" || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if len(list.Deliveries) != 1 || list.Deliveries[0].Status != "delivered" {
				t.Fatalf("deliveries %+v, want one delivered", list.Deliveries)
			}
			dl := list.Deliveries[0]
			if dl.TraceID != traceID || !strings.HasPrefix(dl.TraceParent, "00-"+traceID+"-") {
				t.Errorf("the admin API shows trace id %q, traceparent %q; want the sender's trace %s", dl.TraceID, dl.TraceParent, traceID)
			}
			ingestSpanID := strings.Split(dl.TraceParent, "-")[2]

			// Spans are flushed at the SIGTERM; stop first so the last
			// batch is in.
			spans := j.trace(t, traceID, 20*time.Second, func(spans []jaegerSpan) bool {
				n := 0
				for _, s := range spans {
					if s.OperationName == "deliver flaky" {
						n++
					}
				}
				return n >= 3 && len(spans) >= 4
			})
			byName := map[string][]jaegerSpan{}
			for _, s := range spans {
				byName[s.OperationName] = append(byName[s.OperationName], s)
			}
			srv := byName["POST /in/partner"]
			if len(srv) != 1 {
				t.Fatalf("%d ingest spans, want 1; spans: %v", len(srv), keysOf(byName))
			}
			in := srv[0]
			if in.SpanID != ingestSpanID {
				t.Errorf("ingest span %s, the stored traceparent names %s", in.SpanID, ingestSpanID)
			}
			if in.parent() != senderSpan {
				t.Errorf("ingest span's parent %q, want the sender's span %s", in.parent(), senderSpan)
			}
			if k := in.tag("span.kind"); k != "server" {
				t.Errorf("ingest span kind %v", k)
			}
			if c := in.tag("http.response.status_code"); c != float64(202) {
				t.Errorf("ingest span status code %v", c)
			}
			if len(spans) != 4 {
				t.Errorf("spans %v, want the ingest span and three attempts", keysOf(byName))
			}

			attempts := byName["deliver flaky"]
			if len(attempts) != 3 {
				t.Fatalf("%d attempt spans, want 3", len(attempts))
			}
			slices.SortFunc(attempts, func(a, b jaegerSpan) int {
				return int(a.tag("hookgate.attempt").(float64) - b.tag("hookgate.attempt").(float64))
			})
			want := []struct {
				code  float64
				error bool
			}{{500, true}, {502, true}, {200, false}}
			for i, a := range attempts {
				if n := a.tag("hookgate.attempt"); n != float64(i+1) {
					t.Errorf("attempt span %d: hookgate.attempt %v", i+1, n)
				}
				if a.parent() != in.SpanID {
					t.Errorf("attempt %d: parent %s, want the ingest span %s", i+1, a.parent(), in.SpanID)
				}
				if k := a.tag("span.kind"); k != "client" {
					t.Errorf("attempt %d: kind %v", i+1, k)
				}
				if c := a.tag("http.response.status_code"); c != want[i].code {
					t.Errorf("attempt %d: status code %v, want %v", i+1, c, want[i].code)
				}
				isErr := a.tag("error") == true
				if isErr != want[i].error {
					t.Errorf("attempt %d: error tag %v, want %v", i+1, a.tag("error"), want[i].error)
				}
				if u, _ := a.tag("url.full").(string); u != rc.srv.URL+"/hooks" {
					t.Errorf("attempt %d: url.full %q, want it without the query", i+1, u)
				}
				if a.tag("hookgate.delivery_id") != dl.ID || a.tag("hookgate.destination") != "flaky" || a.tag("hookgate.route") != "all" {
					t.Errorf("attempt %d: delivery %v, destination %v, route %v", i+1,
						a.tag("hookgate.delivery_id"), a.tag("hookgate.destination"), a.tag("hookgate.route"))
				}
				// The receiver saw this attempt's span as the parent.
				if wantTP := "00-" + traceID + "-" + a.SpanID + "-01"; tps[i] != wantTP {
					t.Errorf("attempt %d: the receiver got traceparent %q, want %q", i+1, tps[i], wantTP)
				}
			}
			for _, s := range spans {
				for _, tg := range s.Tags {
					if v := fmt.Sprint(tg.Value); strings.Contains(v, "e2e-secret") || strings.Contains(v, "query-s3cret") {
						t.Errorf("span %s tag %s carries a secret: %s", s.OperationName, tg.Key, v)
					}
				}
			}
			if t.Failed() {
				t.Logf("gateway logs:\n%s", proc.logs)
			}
		})
	}
}

func keysOf(m map[string][]jaegerSpan) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
