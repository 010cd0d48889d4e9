package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store/redis/redistest"
	"github.com/hookgate/hookgate/internal/testutil"
)

// writeRedisConfig writes a config like writeConfig's, on the Redis at
// redisURL.
func writeRedisConfig(t *testing.T, dir, ingest, admin, sinkURL, redisURL string) string {
	t.Helper()
	return writeConfigOn(t, dir, ingest, admin, sinkURL, fmt.Sprintf("storage \"redis\" {\n  url    = %q\n  prefix = \"e2e\"\n}", redisURL))
}

// newHoldSink is a receiver that takes 100ms per delivery and records one
// only when its sender is still there at the end: a delivery cut short by
// a SIGKILLed gateway must come again from another.
func newHoldSink(t *testing.T) *sink {
	s := &sink{seen: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Identifier string }
		raw, _ := io.ReadAll(r.Body)
		json.Unmarshal(raw, &body)
		select {
		case <-r.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		s.mu.Lock()
		s.seen[body.Identifier]++
		s.mu.Unlock()
		s.n.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// fleet is several gateways on one Redis.
type fleet struct {
	procs []*gatewayProc
	alive []atomic.Bool
}

func startFleet(t *testing.T, n int, sinkURL, redisURL string) *fleet {
	t.Helper()
	f := &fleet{alive: make([]atomic.Bool, n)}
	for i := range n {
		dir := t.TempDir()
		ingest, admin := freeAddr(t), freeAddr(t)
		p := start(t, writeRedisConfig(t, dir, ingest, admin, sinkURL, redisURL), ingest, admin)
		f.procs = append(f.procs, p)
		f.alive[i].Store(true)
	}
	t.Cleanup(func() {
		for i, p := range f.procs {
			if f.alive[i].Load() {
				p.cmd.Process.Signal(syscall.SIGTERM)
				p.cmd.Wait()
			}
		}
	})
	return f
}

// kill SIGKILLs gateway i.
func (f *fleet) kill(t *testing.T, i int) {
	t.Helper()
	f.alive[i].Store(false)
	if err := f.procs[i].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	f.procs[i].cmd.Wait()
}

// load is a bounded load: total events from senders goroutines, each
// retried (on the next gateway) until it is answered 202 or the deadline
// passes, as real senders retry.
type load struct {
	accepted  sync.Map // identifier → true
	acceptedN atomic.Int64
	answers   sync.Map // status code → *atomic.Int64
	wg        sync.WaitGroup
}

func (l *load) count(code int) {
	c, _ := l.answers.LoadOrStore(code, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
}

func (l *load) answered(code int) int64 {
	c, ok := l.answers.Load(code)
	if !ok {
		return 0
	}
	return c.(*atomic.Int64).Load()
}

func runLoad(f *fleet, tag string, total, senders int, deadline time.Time) *load {
	l := &load{}
	var next atomic.Int64
	client := &http.Client{Timeout: 5 * time.Second}
	for g := range senders {
		l.wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(total) {
					return
				}
				id := fmt.Sprintf("%s-%04d", tag, i)
				body := []byte(fmt.Sprintf(`{"type":"creator_insights","identifier":%q,"connector":"tiktok"}`, id))
				for try := g; time.Now().Before(deadline); try++ {
					p := f.procs[try%len(f.procs)]
					if !f.alive[try%len(f.procs)].Load() {
						continue
					}
					req, _ := http.NewRequest("POST", "http://"+p.ingest+"/in/partner", bytes.NewReader(body))
					req.Header.Set("X-Signature", sign(body))
					resp, err := client.Do(req)
					if err != nil {
						l.count(0)
						time.Sleep(20 * time.Millisecond)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					l.count(resp.StatusCode)
					if resp.StatusCode == http.StatusAccepted {
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

// waitDelivered waits until the sink saw every accepted event, and fails
// the test listing those it did not see by the deadline. It returns the
// duplicate deliveries.
func waitDelivered(t *testing.T, sk *sink, l *load, deadline time.Time, logs func() string) int {
	t.Helper()
	var missing []string
	for {
		missing = missing[:0]
		sk.mu.Lock()
		l.accepted.Range(func(k, _ any) bool {
			if sk.seen[k.(string)] == 0 {
				missing = append(missing, k.(string))
			}
			return true
		})
		sk.mu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d accepted events never delivered, e.g. %v\nlogs:\n%s",
			len(missing), l.acceptedN.Load(), missing[:min(5, len(missing))], logs())
	}
	dups := 0
	sk.mu.Lock()
	for _, n := range sk.seen {
		dups += max(n-1, 0)
	}
	sk.mu.Unlock()
	return dups
}

// TestRedisSharedGatewaysKill9: two, then three gateways on one Redis share
// a bounded load; one is SIGKILLed midway; every event answered 202 (by any
// of them) is delivered, the killed one's leased deliveries by another
// once their lease (1m here) ends. Duplicates are allowed and logged.
func TestRedisSharedGatewaysKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d gateways", n), func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			sk := newHoldSink(t)
			f := startFleet(t, n, sk.srv.URL+"/hooks", srv.URL())

			const total, senders = 600, 8
			deadline := time.Now().Add(100 * time.Second)
			l := runLoad(f, "k", total, senders, time.Now().Add(60*time.Second))
			for l.acceptedN.Load() < total/2 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			f.kill(t, 0)
			killedAt := time.Now()
			t.Logf("gateway 0 SIGKILLed after %d accepted, %d delivered", l.acceptedN.Load(), sk.n.Load())
			l.wg.Wait()
			dups := waitDelivered(t, sk, l, deadline, func() string { return f.procs[1].logs.String() })
			t.Logf("%d gateways: accepted %d, all delivered %s after the kill; %d duplicate deliveries",
				n, l.acceptedN.Load(), time.Since(killedAt).Round(time.Second), dups)
			if l.acceptedN.Load() != total {
				t.Errorf("only %d of %d events were ever accepted", l.acceptedN.Load(), total)
			}
		})
	}
}

// TestRedisDownUnderLoad: redis-server stops (cleanly, its AOF fsynced
// always) under load and comes back 3s later on the same port and data;
// meanwhile ingest answers 503 and /readyz fails, and afterwards every
// event answered 202 is delivered without restarting the gateways.
func TestRedisDownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	t.Parallel()
	srv := redistest.Start(t)
	sk := newSink(t)
	f := startFleet(t, 2, sk.srv.URL+"/hooks", srv.URL())

	const total, senders = 600, 8
	deadline := time.Now().Add(100 * time.Second)
	l := runLoad(f, "d", total, senders, time.Now().Add(60*time.Second))
	for l.acceptedN.Load() < total/3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	srv.Stop()
	t.Logf("redis stopped after %d accepted", l.acceptedN.Load())
	// /readyz fails while Redis is down: waited for (however long a busy
	// machine takes to notice), not timed.
	testutil.Eventually(t, 0, "/readyz failing while Redis is down", func() error {
		resp, err := http.Get("http://" + f.procs[0].admin + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return fmt.Errorf("/readyz %d", resp.StatusCode)
		}
		return nil
	})
	time.Sleep(3 * time.Second) // the outage's length, not a synchronisation
	srv.Restart()
	t.Logf("redis back after %d accepted, %d answered 503", l.acceptedN.Load(), l.answered(503))
	l.wg.Wait()
	dups := waitDelivered(t, sk, l, deadline, func() string { return f.procs[0].logs.String() })
	t.Logf("accepted %d, all delivered; %d duplicate deliveries; %d answers 503", l.acceptedN.Load(), dups, l.answered(503))
	if l.answered(503) == 0 {
		t.Error("no ingest answered 503 while Redis was down")
	}
	if l.acceptedN.Load() != total {
		t.Errorf("only %d of %d events were ever accepted", l.acceptedN.Load(), total)
	}
}

// TestRedisClusterGateways: two gateways on a three-master Redis Cluster
// share a bounded load; every event answered 202 is delivered.
func TestRedisClusterGateways(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	t.Parallel()
	c := redistest.StartCluster(t)
	sk := newSink(t)
	f := startFleet(t, 2, sk.srv.URL+"/hooks", c.URL())
	const total, senders = 400, 8
	deadline := time.Now().Add(60 * time.Second)
	l := runLoad(f, "c", total, senders, deadline)
	l.wg.Wait()
	dups := waitDelivered(t, sk, l, deadline, func() string { return f.procs[0].logs.String() })
	t.Logf("cluster: accepted %d, all delivered; %d duplicate deliveries", l.acceptedN.Load(), dups)
	if l.acceptedN.Load() != total {
		t.Errorf("only %d of %d events were ever accepted", l.acceptedN.Load(), total)
	}
}
