package gateway_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
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
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	adminapi "github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/testutil"
)

// binary is the hookgate binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookgate-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "hookgate")
	build := exec.Command("go", "build", "-o", binary, "github.com/hookgate/hookgate")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building hookgate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// sink is a receiver that records each delivery's identifier.
type sink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen map[string]int
	n    atomic.Int64
}

func newSink(t *testing.T) *sink {
	s := &sink{seen: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Identifier string }
		raw, _ := io.ReadAll(r.Body)
		json.Unmarshal(raw, &body)
		s.mu.Lock()
		s.seen[body.Identifier]++
		s.mu.Unlock()
		s.n.Add(1)
		time.Sleep(2 * time.Millisecond) // a receiver that does some work
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

type gatewayProc struct {
	cmd    *exec.Cmd
	ingest string
	admin  string
	logs   *logBuffer
}

// logBuffer collects a process's output; tests may read it while the
// process still writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// writeConfig writes the e2e config, on the embedded store, to dir.
func writeConfig(t *testing.T, dir, ingest, admin, sinkURL string) string {
	t.Helper()
	return writeConfigOn(t, dir, ingest, admin, sinkURL, embeddedStorage)
}

// writeConfigOn writes the e2e config with the storage block storage: one
// source (hmac), one destination at sinkURL with a short retry schedule, and
// a route between them.
func writeConfigOn(t *testing.T, dir, ingest, admin, sinkURL, storage string) string {
	t.Helper()
	cfg := fmt.Sprintf(`
gateway {
  listen           = %q
  admin_listen     = %q
  workers          = 16
  shutdown_timeout = "5s"
}
%s
source "partner" {
  path = "/in/partner"
  verify "hmac" {
    header = "X-Signature"
    secret = "e2e-secret"
  }
}
destination "sink" {
  url           = %q
  allow_private = true
  timeout       = "2s"
  retry {
    schedule = ["1s", "1s", "2s", "5s"]
  }
}
route "all" {
  source       = "partner"
  destinations = ["sink"]
}
`, ingest, admin, storage, sinkURL)
	path := filepath.Join(dir, "config.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// start runs the gateway binary on config, with extra flags of `run`, and
// waits until it is healthy.
func start(t *testing.T, config, ingest, admin string, extra ...string) *gatewayProc {
	t.Helper()
	p := &gatewayProc{ingest: ingest, admin: admin, logs: &logBuffer{}}
	p.cmd = exec.Command(binary, append([]string{"run", "-config", config}, extra...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
	t.Fatalf("gateway did not become healthy; logs:\n%s", p.logs)
	return nil
}

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte("e2e-secret"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// TestKill9UnderLoad: 500 events from 8 concurrent senders; the gateway is
// SIGKILLed midway and restarted; every event answered 202 must be delivered
// (at least once; duplicates are counted and reported).
func TestKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	dir := t.TempDir()
	sk := newSink(t)
	ingest, admin := freeAddr(t), freeAddr(t)
	config := writeConfig(t, dir, ingest, admin, sk.srv.URL+"/hooks")
	proc := start(t, config, ingest, admin)

	const total, senders = 500, 8
	var next atomic.Int64
	var accepted sync.Map // identifier → true
	var acceptedN atomic.Int64
	var killed atomic.Bool
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	var wg sync.WaitGroup
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				id := fmt.Sprintf("e-%03d", i)
				body := []byte(fmt.Sprintf(`{"type":"creator_insights","identifier":%q,"connector":"tiktok"}`, id))
				// A sender retries until it gets an answer, as real senders
				// do; only a 202 obliges the gateway.
				for time.Now().Before(deadline) {
					req, _ := http.NewRequest("POST", "http://"+ingest+"/in/partner", bytes.NewReader(body))
					req.Header.Set("X-Signature", sign(body))
					resp, err := client.Do(req)
					if err != nil {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusAccepted {
						accepted.Store(id, true)
						acceptedN.Add(1)
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	// Kill the gateway midway, then restart it on the same data.
	for acceptedN.Load() < total/2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc.cmd.Wait()
	killed.Store(true)
	t.Logf("SIGKILLed after %d accepted, %d delivered", acceptedN.Load(), sk.n.Load())
	proc = start(t, config, ingest, admin)
	defer func() {
		proc.cmd.Process.Signal(syscall.SIGTERM)
		proc.cmd.Wait()
	}()
	wg.Wait()

	// Every 202'd event must arrive.
	var missing []string
	for time.Now().Before(deadline) {
		missing = missing[:0]
		sk.mu.Lock()
		accepted.Range(func(k, _ any) bool {
			if sk.seen[k.(string)] == 0 {
				missing = append(missing, k.(string))
			}
			return true
		})
		sk.mu.Unlock()
		if len(missing) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d accepted events never delivered, e.g. %v\nlogs:\n%s", len(missing), acceptedN.Load(), missing[:min(5, len(missing))], proc.logs)
	}
	dups := 0
	sk.mu.Lock()
	for _, n := range sk.seen {
		if n > 1 {
			dups += n - 1
		}
	}
	sk.mu.Unlock()
	t.Logf("accepted %d, delivered all of them; %d duplicate deliveries (at-least-once after SIGKILL)", acceptedN.Load(), dups)
	if acceptedN.Load() != total {
		t.Errorf("only %d of %d events were ever accepted", acceptedN.Load(), total)
	}
}

// TestSIGTERMShutsDownCleanly: SIGTERM stops the gateway with exit 0, and
// the admin API reported the delivery before.
func TestSIGTERMShutsDownCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	dir := t.TempDir()
	sk := newSink(t)
	ingest, admin := freeAddr(t), freeAddr(t)
	proc := start(t, writeConfig(t, dir, ingest, admin, sk.srv.URL+"/hooks"), ingest, admin)
	body := []byte(`{"identifier":"one"}`)
	req, _ := http.NewRequest("POST", "http://"+ingest+"/in/partner", bytes.NewReader(body))
	req.Header.Set("X-Signature", sign(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ans struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	testutil.Eventually(t, 0, "the delivery at the sink", testutil.Holds(func() bool { return sk.n.Load() > 0 }))
	// The admin API shows the event's delivery as delivered.
	var list adminapi.Deliveries
	testutil.Eventually(t, 0, "one delivered delivery in the admin API", func() error {
		r, err := http.Get("http://" + admin + "/api/deliveries?status=delivered")
		if err != nil {
			return err
		}
		defer r.Body.Close()
		list.Deliveries = nil
		if err := json.NewDecoder(r.Body).Decode(&list); err != nil {
			return err
		}
		if len(list.Deliveries) != 1 {
			return fmt.Errorf("%d delivered deliveries", len(list.Deliveries))
		}
		return nil
	})
	if list.Deliveries[0].EventID != ans.ID {
		t.Fatalf("deliveries %+v", list)
	}
	proc.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- proc.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, proc.logs)
		}
	case <-time.After(10 * time.Second):
		proc.cmd.Process.Kill()
		t.Fatalf("did not stop within 10s of SIGTERM\n%s", proc.logs)
	}
}
