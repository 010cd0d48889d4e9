package deliver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/deliver/brokertest"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

// The RabbitMQ node is shared by the package's tests: it takes seconds to
// boot.
var rabbit struct {
	once sync.Once
	dir  string
	r    *brokertest.RabbitMQ
}

// sharedRabbit boots the package's RabbitMQ node on first use.
func sharedRabbit(t *testing.T) *brokertest.RabbitMQ {
	t.Helper()
	rabbit.once.Do(func() {
		dir, err := os.MkdirTemp("", "hookgate-rabbitmq-")
		if err != nil {
			t.Fatal(err)
		}
		rabbit.dir = dir
		rabbit.r = brokertest.StartRabbitMQ(t, dir)
	})
	if rabbit.r == nil {
		t.Fatal("the RabbitMQ node did not start (see the first test that failed)")
	}
	return rabbit.r
}

func TestMain(m *testing.M) {
	code := m.Run()
	if rabbit.r != nil {
		rabbit.r.Stop()
	}
	if rabbit.dir != "" {
		os.RemoveAll(rabbit.dir)
	}
	os.Exit(code)
}

// build builds the registered destination kind name from attrs (strings,
// string lists, ints), as the config loader would.
func build(t *testing.T, name string, attrs map[string]any) plugins.Destination {
	t.Helper()
	p, ok := plugins.Default.Lookup(plugins.KindDestination, name)
	if !ok {
		t.Fatalf("no destination kind %q", name)
	}
	v := spec.Values{}
	for _, a := range p.Attrs {
		val, set := attrs[a.Name]
		if a.Kind == spec.Secret && set {
			val = secret.New(val.(string))
		}
		v[a.Name] = spec.Value{V: val, Set: set}
	}
	inst, err := p.New(v)
	if err != nil {
		t.Fatalf("build %s: %v", name, err)
	}
	d := inst.(plugins.Destination)
	t.Cleanup(func() { plugins.Close(d) })
	return d
}

// message is the i-th test message, with every header a delivery carries.
func message(i int) *plugins.Outbound {
	id := fmt.Sprintf("dlv_test_%05d", i)
	h := http.Header{}
	h.Set("Webhook-Id", id)
	h.Set("Content-Type", "application/json")
	h.Set("Traceparent", fmt.Sprintf("00-0af7651916cd43dd8448eb211c80319c-%016x-01", i+1))
	h.Set("X-Team", "warehouse")
	h.Set("Webhook-Signature", "v1,signature-of-"+id)
	return &plugins.Outbound{
		ID:        id,
		EventType: "creator_insights",
		Body:      []byte(fmt.Sprintf(`{"n":%d,"identifier":"creator_%d"}`, i, i%7)),
		Header:    h,
		Key:       fmt.Sprintf("creator_%d", i%7),
	}
}

// received is a message as a consumer read it back.
type received struct {
	body    []byte
	headers map[string]string
	key     string
}

// index is ms by webhook-id.
func index(ms []brokertest.Message) map[string]received {
	out := make(map[string]received, len(ms))
	for _, m := range ms {
		out[m.Headers["webhook-id"]] = received{body: m.Body, headers: m.Headers, key: m.Key}
	}
	return out
}

// checkReceived checks that every message of ns is in got (by webhook-id)
// with its body and every header it was sent with (webhook-id, the event
// type, traceparent, the destination's headers, the signature).
func checkReceived(t *testing.T, got map[string]received, ns []int) {
	t.Helper()
	lost := 0
	for _, i := range ns {
		m := message(i)
		r, ok := got[m.ID]
		if !ok {
			lost++
			if lost <= 5 {
				t.Errorf("message %s was accepted but is not in the broker", m.ID)
			}
			continue
		}
		if !bytes.Equal(r.body, m.Body) {
			t.Errorf("%s: body %q, want %q", m.ID, r.body, m.Body)
		}
		for k, v := range m.Headers() {
			if r.headers[k] != v {
				t.Errorf("%s: header %s = %q, want %q", m.ID, k, r.headers[k], v)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d accepted messages lost", lost, len(ns))
	}
}

// deliverAll delivers messages 0..n-1, failing on the first failure.
func deliverAll(t *testing.T, d plugins.Destination, n int) {
	t.Helper()
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s := d.Deliver(ctx, message(i))
		cancel()
		if s.Err != "" {
			t.Fatalf("deliver %d: %s (%s)", i, s.Err, s.ErrType)
		}
	}
}

// underOutage delivers messages 0..n-1 from four workers, each retried
// (every 50 ms, as the engine's schedule would, much faster) until the
// broker acknowledges it. Once a third are delivered it calls stop, waits
// until an attempt has failed, then calls restart. The second half is
// handed to the workers only once stop has returned, so some messages are
// always sent into the outage, however fast the first half went. It returns the messages
// acknowledged and how many attempts failed. Bounded: the whole load gives
// up 3 minutes after it began, and then fails with the last error seen.
func underOutage(t *testing.T, d plugins.Destination, n int, stop, restart func()) (acked []int, failed int64) {
	t.Helper()
	var delivered, failures atomic.Int64
	work := make(chan int)
	var mu sync.Mutex
	var lastErr string
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * time.Minute)
	for range 4 {
		wg.Go(func() {
			for i := range work {
				for time.Now().Before(deadline) {
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					s := d.Deliver(ctx, message(i))
					cancel()
					if s.Err == "" {
						mu.Lock()
						acked = append(acked, i)
						mu.Unlock()
						delivered.Add(1)
						break
					}
					if s.Permanent {
						t.Errorf("message %d refused for good: %s", i, s.Err)
						break
					}
					failures.Add(1)
					mu.Lock()
					lastErr = s.Err
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	outage, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(outage)
		waitFor(t, 60*time.Second, "a third of the messages delivered", func() bool { return delivered.Load() >= int64(n/3) })
		stop()
		close(stopped)
		waitFor(t, 60*time.Second, "an attempt failing while the broker is down", func() bool { return failures.Load() > 0 })
		restart()
	}()
	for i := range n {
		if i == n/2 {
			select {
			case <-stopped:
			case <-outage: // waiting for the first third failed
			}
		}
		work <- i
	}
	close(work)
	wg.Wait()
	<-outage
	if int(delivered.Load()) != n {
		t.Fatalf("%d of %d messages delivered after the broker came back; the last failure: %s", delivered.Load(), n, lastErr)
	}
	return acked, failures.Load()
}

// waitFor polls cond every 20 ms until it holds, failing after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("no %s within %s", what, timeout)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// all is 0..n-1.
func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
