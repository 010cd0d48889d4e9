package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/redis"
	"github.com/hookgate/hookgate/internal/store/redis/redistest"
	"github.com/hookgate/hookgate/internal/testutil"
)

// newEvent builds an event with one delivery to dest.
func newEvent(dest string) (*store.Event, []*store.Delivery) {
	now := time.Now()
	ev := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now, Body: []byte(`{"n":1}`)}
	d := &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "r", Destination: dest, Body: ev.Body}
	return ev, []*store.Delivery{d}
}

// TestRedisStopped: Redis stops under concurrent Accepts; calls fail with
// store.ErrUnavailable meanwhile (quickly, not hanging); after a restart on
// the same port and AOF the same Store works again and every Accept that
// returned nil is there.
func TestRedisStopped(t *testing.T) {
	srv := redistest.Start(t)
	s, err := redis.Open(srv.URL(), redis.Options{Prefix: "down", DialTimeout: 500 * time.Millisecond,
		ReadTimeout: time.Second, WriteTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()

	var (
		mu       sync.Mutex
		accepted []string
		failed   atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for i := 0; i < 5000 && !stop.Load(); i++ {
				ev, ds := newEvent("a")
				_, err := s.Accept(ctx, ev, ds, nil)
				switch {
				case err == nil:
					mu.Lock()
					accepted = append(accepted, ds[0].ID)
					mu.Unlock()
				case errors.Is(err, store.ErrUnavailable):
					failed.Add(1)
					time.Sleep(10 * time.Millisecond)
				default:
					t.Errorf("Accept: %v", err)
					return
				}
			}
		})
	}
	acceptedN := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted)
	}
	testutil.Eventually(t, 0, "Accepts while Redis is up", testutil.Holds(func() bool { return acceptedN() > 0 }))
	srv.Stop()
	testutil.Eventually(t, 0, "an Accept failing while Redis is down", testutil.Holds(func() bool { return failed.Load() > 0 }))
	start := time.Now()
	for name, err := range map[string]error{
		"Ping":  s.Ping(ctx),
		"Claim": func() error { _, err := s.Claim(ctx, "a", time.Now(), 10, time.Minute); return err }(),
		"Stats": func() error { _, err := s.Stats(ctx, time.Time{}); return err }(),
	} {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while Redis is down: %v, want ErrUnavailable", name, err)
		}
	}
	// A bound on a hang (a call that waits for Redis to come back), not on
	// speed.
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("calls while Redis is down took %s", d)
	}
	n := acceptedN()
	srv.Restart()
	// Accepts succeed again by themselves.
	testutil.Eventually(t, 0, "an Accept succeeding after Redis came back", func() error {
		if m := acceptedN(); m <= n {
			return fmt.Errorf("%d accepted, as many as before the restart", m)
		}
		return nil
	})
	stop.Store(true)
	wg.Wait()
	// The client probes a lost server every second: Ping works again.
	testutil.Eventually(t, 0, "Ping working after the restart", func() error { return s.Ping(ctx) })
	for _, id := range accepted {
		if _, _, err := s.Delivery(ctx, id); err != nil {
			t.Fatalf("accepted delivery %s lost: %v", id, err)
		}
	}
	claimed := 0
	for range 100 {
		ds, err := s.Claim(ctx, "a", time.Now().Add(time.Hour), 1000, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		claimed += len(ds)
	}
	if claimed < len(accepted) {
		t.Errorf("claimed %d deliveries, %d were accepted", claimed, len(accepted))
	}
	t.Logf("%d accepted, %d refused while down, all claimable after the restart", len(accepted), failed.Load())
}

// TestTwoInstancesShareLeases: a delivery claimed by one instance is not
// claimed by another until the lease ends, and then is; an instance closed
// without completing loses nothing.
func TestTwoInstancesShareLeases(t *testing.T) {
	srv := redistest.Start(t)
	open := func() *redis.Store {
		s, err := redis.Open(srv.URL(), redis.Options{Prefix: "two"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	ctx := context.Background()
	ev, ds := newEvent("x")
	if _, err := a.Accept(ctx, ev, ds, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if got, err := a.Claim(ctx, "x", now, 10, 30*time.Second); err != nil || len(got) != 1 {
		t.Fatalf("Claim(a) = %v, %v", got, err)
	}
	a.Close() // killed: its lease stays in Redis
	if got, err := b.Claim(ctx, "x", now.Add(29*time.Second), 10, time.Minute); err != nil || len(got) != 0 {
		t.Fatalf("Claim(b) during a's lease = %v, %v; want none", got, err)
	}
	got, err := b.Claim(ctx, "x", now.Add(31*time.Second), 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != ds[0].ID {
		t.Fatalf("Claim(b) after a's lease = %v, %v; want %s", got, err, ds[0].ID)
	}
	if err := b.Complete(ctx, ds[0].ID, store.Outcome{Attempt: store.Attempt{StatusCode: 200}, Status: store.Delivered}); err != nil {
		t.Fatalf("Complete(b): %v", err)
	}
}

// TestPasswordNeverShown: the URL's password appears in no error.
func TestPasswordNeverShown(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	srv := redistest.Start(t, "--requirepass", "right-one")
	for _, url := range []string{
		"redis://:" + pw + "@" + srv.Addr + "/0",               // refused
		"redis://user:" + pw + "@127.0.0.1:1/0",                // nobody there
		"redis://user:" + pw + "@" + srv.Addr + "/0?bogus=1",   // bad option
		"redis://user:" + pw + "@" + srv.Addr + "/notanumber",  // bad db
		"redis://user:" + pw + "@" + srv.Addr + "/0%zz",        // bad escape
		"redis://user:" + pw + "@127.0.0.1:1?addr=127.0.0.1:2", // cluster, nobody there
	} {
		s, err := redis.Open(url, redis.Options{DialTimeout: 200 * time.Millisecond})
		if err == nil {
			err = s.Ping(context.Background())
			s.Close()
		}
		if err == nil {
			t.Errorf("%s: no error", strings.ReplaceAll(url, pw, "PW"))
			continue
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(fmt.Sprintf("%+v", err), pw) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestClusterSpreadsDestinations: on a cluster, destinations' keys land on
// several masters.
func TestClusterSpreadsDestinations(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster: skipped with -short")
	}
	c := redistest.StartCluster(t)
	s := mustOpen(t, c.URL())
	ctx := context.Background()
	for i := range 12 {
		ev, ds := newEvent(fmt.Sprintf("dest%d", i))
		if _, err := s.Accept(ctx, ev, ds, nil); err != nil {
			t.Fatal(err)
		}
	}
	used := 0
	for _, srv := range c.Servers {
		n, err := redistest.Command(srv.Addr, "DBSIZE")
		if err != nil {
			t.Fatal(err)
		}
		if n != ":0" {
			used++
		}
	}
	if used < 2 {
		t.Errorf("keys on %d of 3 masters, want them spread", used)
	}
}
