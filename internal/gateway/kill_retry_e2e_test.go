package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store/redis/redistest"
)

// The heavy-retry kill tests: the first attempt of each delivery is stored
// leased to the ingesting process and handed to its delivery engine in
// memory; retries, restarts and other instances go through the store's due
// index. A SIGKILL in the middle of that, with half of all attempts
// failing, must lose nothing answered 202.

// flakyMaxFails is the last attempt (as the receiver counts them, per
// webhook-id) that may be failed on purpose; later ones always succeed, so
// no delivery can run out of heavyRetrySchedule (ten retries) and be
// dead-lettered, which would look like a loss.
const flakyMaxFails = 4

// heavyRetrySchedule retries fast so that retries are a large part of the
// traffic.
const heavyRetrySchedule = `["100ms", "200ms", "300ms", "500ms", "1s", "1s", "1s", "1s", "1s", "1s"]`

// heavyLease is the lease the delivery engine derives for heavyRetryConfig's
// destination (timeout 2s): max(2*timeout+10s, 1m). The config has no
// setting for it, so the killed process's leased deliveries come back
// after this long.
const heavyLease = time.Minute

// halfFailReceiver answers 500 to about half the attempts of each delivery,
// chosen by a hash of its webhook-id and the attempt's number as the
// receiver counts them (so the same on every run), and 200 to the rest, and
// to every attempt after flakyMaxFails. It records each 200 per webhook-id
// and per event identifier (the body's "identifier").
type halfFailReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	attempts map[string]int       // webhook-id → requests seen
	ok       map[string]int       // webhook-id → 200s answered
	firstOK  map[string]time.Time // identifier → its first 200
	hooks    map[string][]string  // identifier → webhook-ids answered 200
	requests atomic.Int64
	failed   atomic.Int64
}

func newHalfFailReceiver(t *testing.T) *halfFailReceiver {
	t.Helper()
	f := &halfFailReceiver{
		attempts: map[string]int{}, ok: map[string]int{},
		firstOK: map[string]time.Time{}, hooks: map[string][]string{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *halfFailReceiver) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct{ Identifier string }
	json.Unmarshal(raw, &body)
	hook := r.Header.Get("Webhook-Id")
	f.requests.Add(1)
	time.Sleep(15 * time.Millisecond) // a receiver that does some work
	f.mu.Lock()
	f.attempts[hook]++
	n := f.attempts[hook]
	if n <= flakyMaxFails && failAttempt(hook, n) {
		f.mu.Unlock()
		f.failed.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	f.ok[hook]++
	if f.ok[hook] == 1 {
		f.hooks[body.Identifier] = append(f.hooks[body.Identifier], hook)
	}
	if _, ok := f.firstOK[body.Identifier]; !ok {
		f.firstOK[body.Identifier] = time.Now()
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// failAttempt decides, the same way every time, whether attempt n of
// delivery hook is failed: for about half of the pairs.
func failAttempt(hook string, n int) bool {
	// Not FNV's low bit: that is the parity of the input's low bits, so
	// attempt 2 would always do the opposite of attempt 1.
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", hook, n))
	return sum[0]&1 == 1
}

// heavyRetryConfig is the config of the heavy-retry tests: source
// "partner" (hmac) routed to the flaky receiver with heavyRetrySchedule and
// no jitter.
func heavyRetryConfig(t *testing.T, dir, ingest, admin, receiverURL, storage string) string {
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
destination "flaky" {
  url             = %q
  allow_private   = true
  timeout         = "2s"
  max_concurrency = 16
  retry {
    schedule = %s
    jitter   = "0%%"
  }
}
route "all" {
  source       = "partner"
  destinations = ["flaky"]
}
`, ingest, admin, storage, receiverURL, heavyRetrySchedule)
	path := filepath.Join(dir, "config.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// spreadLoad sends total events (identifiers tag-0001…) from senders
// goroutines over the ingest addresses; an event whose request fails or is
// not answered 202 is sent again, to the next address, until deadline, as
// real senders retry. It remembers which address answered 202.
type spreadLoad struct {
	load
	mu sync.Mutex
	by map[string]int // identifier → index of the address that answered 202
}

func runSpreadLoad(addrs []string, tag string, total, senders int, deadline time.Time) *spreadLoad {
	l := &spreadLoad{by: map[string]int{}}
	next := make(chan int, total)
	for i := 1; i <= total; i++ {
		next <- i
	}
	close(next)
	client := &http.Client{Timeout: 5 * time.Second}
	for g := range senders {
		l.wg.Go(func() {
			try := g
			for i := range next {
				id := fmt.Sprintf("%s-%04d", tag, i)
				b := identBody(id)
				for ; time.Now().Before(deadline); try++ {
					at := try % len(addrs)
					req, _ := http.NewRequest("POST", "http://"+addrs[at]+"/in/partner", bytes.NewReader(b))
					req.Header.Set("X-Signature", sign(b))
					resp, err := client.Do(req)
					if err != nil {
						l.count(0)
						time.Sleep(20 * time.Millisecond) // a sender's back-off, not a wait for a state
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					l.count(resp.StatusCode)
					if resp.StatusCode == http.StatusAccepted {
						l.mu.Lock()
						l.by[id] = at
						l.mu.Unlock()
						l.accepted.Store(id, true)
						l.acceptedN.Add(1)
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	return l
}

// waitAllOK waits until the receiver answered 200 for every event l got a
// 202 for, and fails the test with those it did not by the deadline.
func (f *halfFailReceiver) waitAllOK(t *testing.T, l *spreadLoad, deadline time.Time, logs func() string) {
	t.Helper()
	var missing []string
	for {
		missing = missing[:0]
		f.mu.Lock()
		l.accepted.Range(func(k, _ any) bool {
			if _, ok := f.firstOK[k.(string)]; !ok {
				missing = append(missing, k.(string))
			}
			return true
		})
		f.mu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		log := logs()
		if len(log) > 20000 {
			log = "…" + log[len(log)-20000:]
		}
		t.Fatalf("%d of %d events answered 202 were never delivered (no 200 from the receiver), e.g. %v\nlogs:\n%s",
			len(missing), l.acceptedN.Load(), missing[:min(10, len(missing))], log)
	}
}

// duplicates sums up what at-least-once delivery repeated: 200s beyond the
// first per webhook-id, and events delivered under more than one
// webhook-id (a sender that sent an event again after losing a 202 to the
// kill makes a second event).
func (f *halfFailReceiver) duplicates() (repeats, events int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.ok {
		repeats += n - 1
	}
	for _, hooks := range f.hooks {
		events += len(hooks) - 1
	}
	return repeats, events
}

// TestKill9HeavyRetries: 2,000 events from 8 senders to a destination that
// fails about half of the attempts, retried every 100ms…1s, while a gateway
// is SIGKILLed midway:
//
//   - embedded: the only gateway, restarted on the same file;
//   - redis: the only gateway, restarted on the same Redis (its leased
//     deliveries wait for their lease, heavyLease, to end);
//   - redis, two gateways: one is killed and not restarted; the survivor
//     delivers the killed one's leased deliveries once their lease ends.
//
// Every event answered 202 must be answered 200 by the receiver; repeats
// (at least once) are logged.
func TestKill9HeavyRetries(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	for _, tc := range []struct {
		name      string
		redis     bool
		gateways  int
		restart   bool
		waitLease bool // the deliveries the killed process held wait for their lease
	}{
		{name: "embedded", gateways: 1, restart: true},
		{name: "redis", redis: true, gateways: 1, restart: true, waitLease: true},
		{name: "redis two gateways", redis: true, gateways: 2, waitLease: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rcv := newHalfFailReceiver(t)
			storage := embeddedStorage
			if tc.redis {
				srv := redistest.Start(t)
				storage = fmt.Sprintf("storage \"redis\" {\n  url    = %q\n  prefix = \"e2e\"\n}", srv.URL())
			}
			var (
				procs   []*gatewayProc
				configs []string
				addrs   []string
			)
			for range tc.gateways {
				ingest, admin := freeAddr(t), freeAddr(t)
				cfg := heavyRetryConfig(t, t.TempDir(), ingest, admin, rcv.srv.URL+"/hooks", storage)
				procs = append(procs, start(t, cfg, ingest, admin))
				configs, addrs = append(configs, cfg), append(addrs, ingest)
			}
			t.Cleanup(func() {
				for _, p := range procs {
					if p != nil {
						p.cmd.Process.Signal(syscall.SIGTERM)
						p.cmd.Wait()
					}
				}
			})
			logs := func() string {
				var b strings.Builder
				for i, p := range procs {
					if p != nil {
						fmt.Fprintf(&b, "--- gateway %d\n%s", i, p.logs)
					}
				}
				return b.String()
			}

			const total, senders = 2000, 8
			begin := time.Now()
			// Generous: the kill comes after a few seconds; what the killed
			// process leased comes back after heavyLease; the rest of the
			// schedule takes seconds.
			deadline := begin.Add(3 * time.Minute)
			l := runSpreadLoad(addrs, "h", total, senders, begin.Add(90*time.Second))
			for l.acceptedN.Load() < total/2 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			okBefore := rcv.requests.Load() - rcv.failed.Load()
			victim := procs[0]
			if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			victim.cmd.Wait()
			killedAt := time.Now()
			procs[0] = nil
			t.Logf("gateway 0 SIGKILLed after %d accepted; receiver: %d requests, %d answered 200",
				l.acceptedN.Load(), rcv.requests.Load(), okBefore)
			if tc.restart {
				procs[0] = start(t, configs[0], victim.ingest, victim.admin)
			}
			l.wg.Wait()
			rcv.waitAllOK(t, l, deadline, logs)

			repeats, events := rcv.duplicates()
			t.Logf("%s: %d accepted, all delivered %s after the kill (%s in all); receiver: %d requests, %d answered 500; "+
				"duplicates: %d repeated deliveries of one webhook-id, %d events sent again after a lost 202",
				tc.name, l.acceptedN.Load(), time.Since(killedAt).Round(100*time.Millisecond), time.Since(begin).Round(100*time.Millisecond),
				rcv.requests.Load(), rcv.failed.Load(), repeats, events)
			if l.acceptedN.Load() != total {
				t.Errorf("only %d of %d events were ever accepted", l.acceptedN.Load(), total)
			}
			if rcv.failed.Load()*4 < rcv.requests.Load() {
				t.Errorf("only %d of %d requests failed: the retry traffic was not heavy", rcv.failed.Load(), rcv.requests.Load())
			}
			if !tc.waitLease {
				return
			}
			// What the killed process held leased (handed over in memory or
			// claimed) came back only when its lease ended: events it
			// accepted that were first answered 200 long after the kill,
			// when every retry of the schedule would long be over.
			late := 0
			rcv.mu.Lock()
			l.mu.Lock()
			for id, at := range l.by {
				if at == 0 && rcv.firstOK[id].After(killedAt.Add(heavyLease/2)) {
					late++
				}
			}
			l.mu.Unlock()
			rcv.mu.Unlock()
			t.Logf("%d events accepted by the killed gateway were delivered after its leases ended", late)
			if late == 0 {
				t.Error("no delivery the killed gateway held leased was delivered after its lease: the kill caught none, so the test proved nothing about leases")
			}
		})
	}
}
