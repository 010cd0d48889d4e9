package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
)

const (
	benchConfig    = "../../examples/bench/config.hcl"
	benchEventFile = "../../examples/bench/event.json"
)

// runBench runs `hookgate bench -sink 127.0.0.1:0 -json args...` and decodes
// its report.
func runBench(t *testing.T, env *Env, args ...string) (int, benchReport) {
	t.Helper()
	out, _ := env.Stdout.(*syncBuffer)
	code := Main(context.Background(), append([]string{"bench", "-sink", "127.0.0.1:0", "-json"}, args...), env)
	var rep benchReport
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("exit %d, stdout is not a report: %v\n%s\nstderr:\n%s", code, err, out, env.Stderr)
	}
	return code, rep
}

func TestBenchRelay(t *testing.T) {
	env, _, errb := testEnv()
	code, rep := runBench(t, env, "-relay", "-n", "200", "-c", "8", "-duration", "30s",
		"-config", benchConfig, "-source", "bench", benchEventFile)
	if code != 0 || !rep.Complete || rep.CapHit {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, errb)
	}
	if rep.Mode != "relay" || rep.Sent != 200 || rep.Accepted != 200 || rep.Statuses["202"] != 200 || len(rep.Errors) != 0 {
		t.Errorf("sending: %+v", rep)
	}
	if rep.Expected != 200 || rep.Delivered != 200 || rep.Duplicates != 0 || rep.Stale != 0 {
		t.Errorf("delivery: %+v", rep)
	}
	if rep.Ingest.Samples != 200 || rep.EndToEnd.Samples != 200 || rep.Ingest.P50 <= 0 || rep.Ingest.P99 < rep.Ingest.P50 || rep.EndToEnd.P99 < rep.EndToEnd.P50 {
		t.Errorf("latency: %+v %+v", rep.Ingest, rep.EndToEnd)
	}
	if rep.AcceptedPerSec <= 0 || rep.DeliveredPerSec <= 0 {
		t.Errorf("rates: %v %v", rep.AcceptedPerSec, rep.DeliveredPerSec)
	}
}

func TestBenchRelayTable(t *testing.T) {
	env, out, errb := testEnv()
	code := Main(context.Background(), []string{"bench", benchEventFile, "-relay", "-sink", "127.0.0.1:0", "-n", "20", "-c", "2"}, env)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	for _, want := range []string{"accepted            20 of 20 sent", "delivered           20 of 20 expected", "answers             202 × 20", "errors              none", "result              complete"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// fakeGateway stands in for `hookgate run`: it verifies each event with
// verifier, answers 202 (or status when it returns non-zero), and then
// calls deliver in the background. Cleanup waits for the deliveries.
func fakeGateway(t *testing.T, verifier plugins.Verifier, status func(n int64) int, deliver func(body []byte)) *httptest.Server {
	t.Helper()
	var wg sync.WaitGroup
	var seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifier.Verify(&plugins.Request{Method: r.Method, Header: r.Header, Body: body}, time.Now()); err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": err.Error()})
			return
		}
		if s := status(seen.Add(1)); s != 0 {
			writeJSON(w, s, map[string]any{"error": "no"})
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"id": "evt_x", "deliveries": 1})
		if deliver != nil {
			wg.Go(func() { deliver(body) })
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return srv
}

func TestBenchGateway(t *testing.T) {
	env, _, errb := testEnv()
	verifier := mustLoad(t, env, benchConfig).Source("bench").Verifier
	client := &http.Client{Timeout: 5 * time.Second}
	forward := func(url string, body []byte) {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Errorf("deliver: %v", err)
			return
		}
		resp.Body.Close()
	}
	// Two routes: one passes the body through, one transforms it and drops
	// bench's fields, so its deliveries count but cannot be timed.
	gw := fakeGateway(t, verifier, func(int64) int { return 0 }, func(body []byte) {
		sink := waitListening(t, errb)
		forward(sink+"/bench", body)
		forward(sink+"/summary", []byte(`{"kind":"creator_insights"}`))
	})

	code, rep := runBench(t, env, "-url", gw.URL+"/in/bench", "-n", "100", "-c", "4", "-rate", "1000", "-expect", "2",
		"-duration", "30s", "-config", benchConfig, "-source", "bench", benchEventFile)
	if code != 0 || !rep.Complete {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, errb)
	}
	if rep.Mode != "gateway" || rep.Accepted != 100 || rep.Expected != 200 || rep.Delivered != 200 || rep.EndToEnd.Samples != 100 {
		t.Errorf("report %+v", rep)
	}
	// -rate 1000 spreads 100 events over about 0.1s.
	if rep.SendSeconds < 0.09 {
		t.Errorf("100 events at 1000/s took %.3fs", rep.SendSeconds)
	}
}

func TestBenchCountsErrors(t *testing.T) {
	env, _, errb := testEnv()
	verifier := mustLoad(t, env, benchConfig).Source("bench").Verifier
	gw := fakeGateway(t, verifier, func(n int64) int {
		if n%4 == 0 {
			return http.StatusServiceUnavailable
		}
		return 0
	}, nil)
	start := time.Now()
	code, rep := runBench(t, env, "-url", gw.URL+"/in/bench", "-n", "40", "-c", "1", "-duration", "300ms",
		"-config", benchConfig, "-source", "bench", benchEventFile)
	if code != 1 || rep.Complete || !rep.CapHit {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, errb)
	}
	if rep.Accepted != 30 || rep.Errors["503"] != 10 || rep.Statuses["202"] != 30 || rep.Delivered != 0 || rep.Expected != 30 {
		t.Errorf("report %+v", rep)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("-duration 300ms took %v", d)
	}
}

func TestBenchWrongSecret(t *testing.T) {
	env, _, errb := testEnv()
	dir := t.TempDir()
	other := writeFile(t, dir, "other.hcl", "source \"bench\" {\n  path = \"/in/bench\"\n  verify \"hmac\" { secret = \"other\" }\n}\n")
	gw := fakeGateway(t, mustLoad(t, env, other).Source("bench").Verifier, func(int64) int { return 0 }, nil)
	code, rep := runBench(t, env, "-url", gw.URL+"/in/bench", "-n", "10", "-c", "2",
		"-config", benchConfig, "-source", "bench", benchEventFile)
	if code != 1 || rep.Errors["401"] != 10 || rep.Accepted != 0 {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, errb)
	}
}

func TestBenchEventStamp(t *testing.T) {
	sent := time.Unix(1763900000, 123456789)
	cases := []struct{ name, event, want string }{
		{"compact", `{"a":1}`, `{"a":1,"bench_run":"r","bench_seq":7,"bench_sent_ns":1763900000123456789}`},
		{"spaced", "\n{\n  \"a\": [1, {}]\n}\n\n", "{\n  \"a\": [1, {}],\"bench_run\":\"r\",\"bench_seq\":7,\"bench_sent_ns\":1763900000123456789}"},
		{"empty", " { } ", `{"bench_run":"r","bench_seq":7,"bench_sent_ns":1763900000123456789}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := newBenchEvent([]byte(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			got := ev.stamp("r", 7, sent)
			if string(got) != tc.want || !json.Valid(got) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"a":`, `{"bench_seq":1}`, ``} {
		if _, err := newBenchEvent([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestBenchFlagErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no source", []string{benchEventFile}, "Usage: hookgate bench"},
		{"no event", []string{"-relay"}, "Usage: hookgate bench"},
		{"relay and url", []string{"-relay", "-url", "http://127.0.0.1:1/", benchEventFile}, "drop -url"},
		{"zero events", []string{"-relay", "-n", "0", benchEventFile}, "-n must be between"},
		{"bad url", []string{"-source", "bench", "-url", "127.0.0.1:8080/in", benchEventFile}, "is not an http://"},
		{"zero duration", []string{"-relay", "-duration", "0s", benchEventFile}, "-duration must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, out, errb := testEnv()
			code := Main(context.Background(), append([]string{"bench", "-sink", "127.0.0.1:0"}, tc.args...), env)
			if code != 2 || out.String() != "" || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errb, tc.want)
			}
		})
	}
}

func TestBenchSinkBusy(t *testing.T) {
	busy := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(busy.Close)
	env, _, errb := testEnv()
	code := Main(context.Background(), []string{"bench", "-relay", "-sink", busy.Listener.Addr().String(), benchEventFile}, env)
	if code != 1 || !strings.Contains(errb.String(), "is a `hookgate sink` running there?") {
		t.Fatalf("exit %d, stderr:\n%s", code, errb)
	}
}

// freeLoopback returns a loopback address nothing listens on right now.
func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestBenchServeRelay: -serve-relay runs the relay alone until interrupted,
// and a bench run with -url (unsigned, no -source) measures it through
// bench's own sink: the ceiling with the relay in a process of its own.
func TestBenchServeRelay(t *testing.T) {
	sink, relayAddr := freeLoopback(t), freeLoopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	renv, _, rerr := testEnv()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"bench", "-serve-relay", relayAddr, "-sink", sink}, renv)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", relayAddr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relay did not listen on %s: %v\n%s", relayAddr, err, rerr)
		}
		time.Sleep(20 * time.Millisecond)
	}

	env, out, errb := testEnv()
	code := Main(context.Background(), []string{"bench", "-json", "-sink", sink, "-url", "http://" + relayAddr + "/",
		"-n", "100", "-c", "4", "-duration", "30s", benchEventFile}, env)
	var rep benchReport
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("exit %d, no report: %v\n%s", code, err, errb)
	}
	if code != 0 || !rep.Complete || rep.Accepted != 100 || rep.Delivered != 100 || rep.Mode != "gateway" {
		t.Errorf("exit %d, report %+v\nstderr:\n%s", code, rep, errb)
	}

	cancel()
	select {
	case c := <-done:
		if c != 0 {
			t.Errorf("-serve-relay exited %d after its interrupt\n%s", c, rerr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("-serve-relay did not stop within 10s of its interrupt")
	}
}
