package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store/redis/redistest"
	"github.com/hookgate/hookgate/internal/testutil"
)

// orderingConfig is a gateway whose route "ordered" orders its deliveries
// to "sink" by the payload's key, with on_dead, a fast retry schedule
// (twelve retries 100ms apart: at 30% failures a delivery dies once in
// two million) and storage.
func orderingConfig(t *testing.T, dir, ingest, admin, sinkURL, storage, onDead string) string {
	t.Helper()
	cfg := fmt.Sprintf(`
gateway {
  listen           = %q
  admin_listen     = %q
  workers          = 32
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
  url             = %q
  allow_private   = true
  timeout         = "2s"
  max_concurrency = 16
  retry {
    schedule = ["100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms"]
    jitter   = "0%%"
  }
}
route "ordered" {
  source       = "partner"
  destinations = ["sink"]
  ordering {
    key     = "key"
    on_dead = %q
  }
}
`, ingest, admin, storage, sinkURL, onDead)
	path := filepath.Join(dir, "config.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// orderedEvent is what the senders send and the receiver records.
type orderedEvent struct {
	Key string `json:"key"`
	Seq int    `json:"seq"`
}

// orderSink is a receiver that fails a share of attempts at random (500),
// answers 410 to the events gone names, and records per key the sequence
// numbers of the deliveries it answered 2xx, in arrival order, and any
// two attempts of one key in flight at once.
type orderSink struct {
	srv      *httptest.Server
	failRate float64
	mu       sync.Mutex
	gone     map[orderedEvent]bool
	arrived  map[string][]int
	inFlight map[string]int
	overlaps []string
	ok       atomic.Int64
}

func newOrderSink(t *testing.T, failRate float64) *orderSink {
	s := &orderSink{failRate: failRate, gone: map[orderedEvent]bool{}, arrived: map[string][]int{}, inFlight: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var ev orderedEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.inFlight[ev.Key]++
		if s.inFlight[ev.Key] > 1 {
			s.overlaps = append(s.overlaps, fmt.Sprintf("%s seq %d", ev.Key, ev.Seq))
		}
		gone := s.gone[ev]
		s.mu.Unlock()
		time.Sleep(time.Millisecond) // a receiver that does some work
		code := http.StatusOK
		switch {
		case gone:
			code = http.StatusGone
		case rand.Float64() < s.failRate:
			code = http.StatusInternalServerError
		}
		s.mu.Lock()
		s.inFlight[ev.Key]--
		if code == http.StatusOK {
			s.arrived[ev.Key] = append(s.arrived[ev.Key], ev.Seq)
		}
		s.mu.Unlock()
		if code == http.StatusOK {
			s.ok.Add(1)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// setGone makes the receiver answer 410 to (key, seq), or no longer.
func (s *orderSink) setGone(key string, seq int, gone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone[orderedEvent{key, seq}] = gone
}

func (s *orderSink) arrivals(key string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.arrived[key]...)
}

// postOrdered sends one event to ingest and returns the answer's status
// (0: no answer).
func postOrdered(client *http.Client, ingest string, ev orderedEvent) int {
	body, _ := json.Marshal(ev)
	req, _ := http.NewRequest("POST", "http://"+ingest+"/in/partner", bytes.NewReader(body))
	req.Header.Set("X-Signature", sign(body))
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// orderedLoad sends total events over keys keys from senders senders: key
// k belongs to sender k%senders, which sends its keys' events one at a
// time, the next sequence number of a key only after the previous one was
// answered 202, so a key's acceptance order is its sequence order. A
// sender retries an event without an answer (on the next gateway of
// ingests whose alive reports true) until the deadline. accepted[key] is
// the highest sequence number answered 202.
func orderedLoad(total, keys, senders int, ingests []string, alive func(i int) bool, deadline time.Time) (accepted map[string]int, acceptedN *atomic.Int64, wait func()) {
	accepted = map[string]int{}
	var mu sync.Mutex
	acceptedN = new(atomic.Int64)
	perKey := total / keys
	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			var mine []string
			for k := g; k < keys; k += senders {
				mine = append(mine, fmt.Sprintf("creator-%02d", k))
			}
			try := g
			for seq := 1; seq <= perKey; seq++ {
				for _, key := range mine {
					for time.Now().Before(deadline) {
						i := try % len(ingests)
						if !alive(i) {
							try++
							time.Sleep(10 * time.Millisecond)
							continue
						}
						code := postOrdered(client, ingests[i], orderedEvent{key, seq})
						if code == http.StatusAccepted {
							mu.Lock()
							accepted[key] = seq
							mu.Unlock()
							acceptedN.Add(1)
							break
						}
						try++
						time.Sleep(20 * time.Millisecond)
					}
				}
			}
		})
	}
	return accepted, acceptedN, wg.Wait
}

// checkOrder waits until every key's accepted events arrived and checks
// each key's arrivals: sequence numbers never go back (a repeat of the
// last is an at-least-once redelivery after a SIGKILL), none is missing.
func checkOrder(t *testing.T, sk *orderSink, accepted map[string]int, deadline time.Time, logs func() string) {
	t.Helper()
	complete := func() bool {
		for key, n := range accepted {
			a := sk.arrivals(key)
			if len(a) == 0 || a[len(a)-1] < n {
				return false
			}
		}
		return true
	}
	for !complete() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	dups := 0
	for key, n := range accepted {
		a := sk.arrivals(key)
		seen := map[int]bool{}
		for i, seq := range a {
			if i > 0 && seq < a[i-1] {
				t.Errorf("key %s: seq %d arrived after seq %d (arrivals %v)", key, seq, a[i-1], a)
				break
			}
			if seen[seq] {
				dups++
			}
			seen[seq] = true
		}
		for seq := 1; seq <= n; seq++ {
			if !seen[seq] {
				t.Errorf("key %s: accepted seq %d never delivered (arrivals %v)\nlogs:\n%s", key, seq, a, logs())
				break
			}
		}
	}
	t.Logf("%d keys in order; %d duplicate deliveries", len(accepted), dups)
}

// TestOrderedDeliveryUnderLoad: 2,000 events over 50 keys from 8
// senders, to a receiver failing 30% of attempts at random. Every key's
// successful deliveries arrive in acceptance order and none is lost: on
// the embedded store, then with the gateway SIGKILLed midway and
// restarted, on Redis with two gateways, and with one of them SIGKILLed.
// Without a kill, no two attempts of one key are ever in flight at once.
func TestOrderedDeliveryUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	const total, keys, senders = 2000, 50, 8
	cases := []struct {
		name      string
		redis     bool
		instances int
		kill      bool
	}{
		{"embedded", false, 1, false},
		{"embedded kill -9", false, 1, true},
		{"redis two gateways", true, 2, false},
		{"redis two gateways one killed", true, 2, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sk := newOrderSink(t, 0.3)
			storage := embeddedStorage
			if tc.redis {
				storage = fmt.Sprintf("storage \"redis\" {\n  url    = %q\n  prefix = \"ord\"\n}", redistest.Start(t).URL())
			}
			var procs []*gatewayProc
			var configs, ingests []string
			alive := make([]atomic.Bool, tc.instances)
			for i := range tc.instances {
				ingest, admin := freeAddr(t), freeAddr(t)
				cfg := orderingConfig(t, t.TempDir(), ingest, admin, sk.srv.URL+"/hooks", storage, "skip")
				procs = append(procs, start(t, cfg, ingest, admin))
				configs, ingests = append(configs, cfg), append(ingests, ingest)
				alive[i].Store(true)
			}
			var procMu sync.Mutex
			t.Cleanup(func() {
				procMu.Lock()
				defer procMu.Unlock()
				for i, p := range procs {
					if alive[i].Load() {
						p.cmd.Process.Signal(syscall.SIGTERM)
						p.cmd.Wait()
					}
				}
			})
			logs := func() string {
				procMu.Lock()
				defer procMu.Unlock()
				var b strings.Builder
				for _, p := range procs {
					b.WriteString(tail(p.logs.String(), 3000))
				}
				return b.String()
			}
			deadline := time.Now().Add(4 * time.Minute)
			accepted, acceptedN, wait := orderedLoad(total, keys, senders, ingests, func(i int) bool { return alive[i].Load() }, deadline)
			if tc.kill {
				for acceptedN.Load() < total/2 && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				victim := tc.instances - 1
				alive[victim].Store(false)
				if err := procs[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				procs[victim].cmd.Wait()
				t.Logf("SIGKILLed gateway %d after %d accepted, %d delivered", victim, acceptedN.Load(), sk.ok.Load())
				if !tc.redis {
					// The embedded store's gateway comes back on its file.
					p := start(t, configs[victim], ingests[victim], procs[victim].admin)
					procMu.Lock()
					procs[victim] = p
					procMu.Unlock()
					alive[victim].Store(true)
				}
			}
			wait()
			if n := acceptedN.Load(); n != total {
				t.Fatalf("only %d of %d events were accepted", n, total)
			}
			checkOrder(t, sk, accepted, deadline, logs)
			if !tc.kill {
				sk.mu.Lock()
				overlaps := sk.overlaps
				sk.mu.Unlock()
				if len(overlaps) > 0 {
					t.Errorf("%d attempts began while another of their key was in flight, e.g. %v", len(overlaps), overlaps[:min(5, len(overlaps))])
				}
			}
		})
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// admin calls the admin API and decodes its JSON answer into out (nil:
// discard); it returns the status.
func adminCall(t *testing.T, method, url string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// waitFor waits until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 0, what, testutil.Holds(cond))
}

func equalInts(a, b []int) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// TestOrderedOnDead: a receiver answers 410 to one event of a key. With
// on_dead = "skip" the key's next events follow at once; with "block" the
// key waits, listed by GET /api/destinations/sink/blocked and `hookgate
// destinations blocked`, while another key goes on; replaying the dead
// head (once the receiver takes it) releases the key in order, and so does
// discarding one (`hookgate deliveries discard`). On both stores.
func TestOrderedOnDead(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	for _, backend := range []string{"embedded", "redis"} {
		for _, onDead := range []string{"skip", "block"} {
			t.Run(backend+" "+onDead, func(t *testing.T) {
				sk := newOrderSink(t, 0)
				storage := embeddedStorage
				if backend == "redis" {
					storage = fmt.Sprintf("storage \"redis\" {\n  url    = %q\n  prefix = \"ord\"\n}", redistest.Start(t).URL())
				}
				ingest, admin := freeAddr(t), freeAddr(t)
				p := start(t, orderingConfig(t, t.TempDir(), ingest, admin, sk.srv.URL+"/hooks", storage, onDead), ingest, admin)
				t.Cleanup(func() {
					p.cmd.Process.Signal(syscall.SIGTERM)
					p.cmd.Wait()
				})
				api := "http://" + admin
				sk.setGone("a", 2, true)
				sk.setGone("c", 2, true)
				client := &http.Client{Timeout: 5 * time.Second}
				send := func(key string, seqs ...int) {
					for _, seq := range seqs {
						if code := postOrdered(client, ingest, orderedEvent{key, seq}); code != http.StatusAccepted {
							t.Fatalf("send %s %d: status %d", key, seq, code)
						}
					}
				}
				send("a", 1, 2, 3, 4, 5)
				send("b", 1, 2, 3)
				waitFor(t, "key b delivered", func() bool { return equalInts(sk.arrivals("b"), []int{1, 2, 3}) })

				if onDead == "skip" {
					waitFor(t, "key a without its seq 2", func() bool { return equalInts(sk.arrivals("a"), []int{1, 3, 4, 5}) })
					var bl struct{ Blocked []json.RawMessage }
					if code := adminCall(t, "GET", api+"/api/destinations/sink/blocked", &bl); code != 200 || len(bl.Blocked) != 0 {
						t.Errorf("blocked = %d %v, want 200 and none", code, bl.Blocked)
					}
					return
				}

				// block: a waits behind its dead seq 2.
				var bl struct {
					Destination string
					Blocked     []struct {
						Key        string `json:"key"`
						DeliveryID string `json:"delivery_id"`
						Waiting    int    `json:"waiting"`
					}
				}
				waitFor(t, "key a blocked", func() bool {
					adminCall(t, "GET", api+"/api/destinations/sink/blocked", &bl)
					return len(bl.Blocked) == 1
				})
				if b := bl.Blocked[0]; b.Key != "a" || b.Waiting != 3 {
					t.Fatalf("blocked = %+v, want key a with 3 waiting", bl.Blocked)
				}
				if got := sk.arrivals("a"); !equalInts(got, []int{1}) {
					t.Fatalf("key a arrivals while blocked = %v, want [1]", got)
				}
				var dv struct {
					Key    string `json:"key"`
					Status string `json:"status"`
				}
				adminCall(t, "GET", api+"/api/deliveries/"+bl.Blocked[0].DeliveryID, &dv)
				if dv.Key != "a" || dv.Status != "dead" {
					t.Errorf("the blocked head: key %q status %q, want a, dead", dv.Key, dv.Status)
				}
				out, err := exec.Command(binary, "destinations", "blocked", "sink", "-admin", api).CombinedOutput()
				if err != nil || !strings.Contains(string(out), bl.Blocked[0].DeliveryID) || !strings.Contains(string(out), "KEY") {
					t.Errorf("hookgate destinations blocked: %v\n%s", err, out)
				}
				resp, err := http.Get(api + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				metrics, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				gauge := ""
				for _, line := range strings.Split(string(metrics), "\n") {
					if strings.HasPrefix(line, "hookgate_ordering_blocked_keys{") && strings.Contains(line, `destination="sink"`) {
						gauge = line
					}
				}
				if !strings.HasSuffix(gauge, " 1") {
					t.Errorf("hookgate_ordering_blocked_keys for sink: %q, want 1", gauge)
				}
				if code := adminCall(t, "GET", api+"/api/destinations/nope/blocked", nil); code != 404 {
					t.Errorf("blocked of an unknown destination: %d, want 404", code)
				}

				// Replayed once the receiver takes it: a goes on, in order.
				sk.setGone("a", 2, false)
				if code := adminCall(t, "POST", api+"/api/deliveries/"+bl.Blocked[0].DeliveryID+"/retry", nil); code != 202 {
					t.Fatalf("retry: %d", code)
				}
				waitFor(t, "key a released by the replay", func() bool { return equalInts(sk.arrivals("a"), []int{1, 2, 3, 4, 5}) })

				// Discarded: c goes on without it.
				send("c", 1, 2, 3)
				waitFor(t, "key c blocked", func() bool {
					adminCall(t, "GET", api+"/api/destinations/sink/blocked", &bl)
					return len(bl.Blocked) == 1 && bl.Blocked[0].Key == "c"
				})
				out, err = exec.Command(binary, "deliveries", "discard", bl.Blocked[0].DeliveryID, "-admin", api).CombinedOutput()
				if err != nil {
					t.Fatalf("hookgate deliveries discard: %v\n%s", err, out)
				}
				waitFor(t, "key c released by the discard", func() bool { return equalInts(sk.arrivals("c"), []int{1, 3}) })
				adminCall(t, "GET", api+"/api/destinations/sink/blocked", &bl)
				if len(bl.Blocked) != 0 {
					t.Errorf("blocked after the discard = %+v, want none", bl.Blocked)
				}
				// A delivered delivery cannot be discarded.
				var dl struct {
					Deliveries []struct{ ID string } `json:"deliveries"`
				}
				adminCall(t, "GET", api+"/api/deliveries?status=delivered&limit=1", &dl)
				if code := adminCall(t, "POST", api+"/api/deliveries/"+dl.Deliveries[0].ID+"/discard", nil); code != 409 {
					t.Errorf("discard of a delivered delivery: %d, want 409", code)
				}
			})
		}
	}
}

// TestOrderedReloadReleases: a key blocked behind its dead head, and a
// reload that removes the route's ordering block: the deliveries that
// waited go at once, the dead one stays dead, nothing is listed blocked.
func TestOrderedReloadReleases(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	for _, backend := range []string{"embedded", "redis"} {
		t.Run(backend, func(t *testing.T) {
			sk := newOrderSink(t, 0)
			storage := embeddedStorage
			if backend == "redis" {
				storage = fmt.Sprintf("storage \"redis\" {\n  url    = %q\n  prefix = \"ord\"\n}", redistest.Start(t).URL())
			}
			dir := t.TempDir()
			ingest, admin := freeAddr(t), freeAddr(t)
			cfg := orderingConfig(t, dir, ingest, admin, sk.srv.URL+"/hooks", storage, "block")
			p := start(t, cfg, ingest, admin)
			t.Cleanup(func() {
				p.cmd.Process.Signal(syscall.SIGTERM)
				p.cmd.Wait()
			})
			api := "http://" + admin
			sk.setGone("a", 1, true)
			client := &http.Client{Timeout: 5 * time.Second}
			for seq := 1; seq <= 4; seq++ {
				if code := postOrdered(client, ingest, orderedEvent{"a", seq}); code != http.StatusAccepted {
					t.Fatalf("send %d: %d", seq, code)
				}
			}
			var bl struct {
				Blocked []struct {
					Waiting int `json:"waiting"`
				}
			}
			waitFor(t, "key a blocked", func() bool {
				adminCall(t, "GET", api+"/api/destinations/sink/blocked", &bl)
				return len(bl.Blocked) == 1 && bl.Blocked[0].Waiting == 3
			})
			src, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			i := strings.Index(string(src), "  ordering {")
			j := strings.Index(string(src)[i:], "  }\n") + i + len("  }\n")
			if err := os.WriteFile(cfg, []byte(string(src[:i])+string(src[j:])), 0o644); err != nil {
				t.Fatal(err)
			}
			var rr struct{ Reloaded bool }
			if code := adminCall(t, "POST", api+"/api/reload", &rr); code != 200 || !rr.Reloaded {
				t.Fatalf("reload: %d %+v\n%s", code, rr, p.logs)
			}
			waitFor(t, "the waiting deliveries released", func() bool {
				a := sk.arrivals("a")
				return len(a) == 3
			})
			adminCall(t, "GET", api+"/api/destinations/sink/blocked", &bl)
			if len(bl.Blocked) != 0 {
				t.Errorf("blocked after the reload = %+v, want none", bl.Blocked)
			}
			if !strings.Contains(p.logs.String(), "route no longer ordered") {
				t.Errorf("no log line says the keys were released:\n%s", p.logs)
			}
		})
	}
}
