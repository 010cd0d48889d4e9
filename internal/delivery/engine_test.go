package delivery_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookgate/hookgate/internal/buildinfo"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
	"github.com/hookgate/hookgate/internal/testutil"
	"github.com/hookgate/hookgate/plugins"
	_ "github.com/hookgate/hookgate/plugins/standard"
)

var _ delivery.Store = (*embedded.Store)(nil)

const (
	testSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	// wait bounds every wait for something the engine should do.
	wait = testutil.Limit
)

// mustDests compiles the destination blocks in src.
func mustDests(tb testing.TB, src string) []*config.Destination {
	tb.Helper()
	l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
	cfg, diags := l.LoadBytes([]byte(src), "config.hcl")
	if diags.HasErrors() {
		tb.Fatalf("load: %s", diags.Error())
	}
	tb.Cleanup(func() { cfg.Close() })
	return cfg.Destinations
}

// mustDest compiles one destination block.
func mustDest(tb testing.TB, src string) *config.Destination {
	tb.Helper()
	ds := mustDests(tb, src)
	if len(ds) != 1 {
		tb.Fatalf("%d destinations, want 1", len(ds))
	}
	return ds[0]
}

// mustStore opens an embedded store in a temporary folder.
func mustStore(tb testing.TB) *embedded.Store {
	tb.Helper()
	st, err := embedded.Open(filepath.Join(tb.TempDir(), "hookgate.db"), embedded.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// accept stores an event with one delivery to dest and returns the
// delivery's id.
func accept(tb testing.TB, st store.Store, dest string, body string) string {
	tb.Helper()
	now := time.Now()
	ev := &store.Event{
		ID: ids.New(ids.Event, now), Source: "src", EventType: "thing", ReceivedAt: now,
		Body: []byte(body), TraceParent: traceParent,
	}
	d := &store.Delivery{
		ID: ids.New(ids.Delivery, now), Route: "r", Destination: dest, Body: []byte(body), CreatedAt: now,
	}
	if _, err := st.Accept(context.Background(), ev, []*store.Delivery{d}, nil); err != nil {
		tb.Fatal(err)
	}
	return d.ID
}

// running is an engine running in the background.
type running struct {
	e      *delivery.Engine
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// start runs an engine over st for dests until the test ends.
func start(tb testing.TB, st delivery.Store, opts delivery.Options, dests ...*config.Destination) *running {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r := &running{e: delivery.New(st, opts), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.e.Run(ctx, dests) }()
	tb.Cleanup(func() { r.stop(tb) })
	return r
}

// stop cancels the engine and waits for Run to return.
func (r *running) stop(tb testing.TB) {
	tb.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				tb.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			tb.Fatal("Run did not return after cancel")
		}
	})
}

// tbWriter sends log lines to the test's log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// waitFinished waits until delivery id is delivered or dead.
func waitFinished(tb testing.TB, st store.Store, id string) (*store.Delivery, []store.Attempt) {
	tb.Helper()
	var d *store.Delivery
	var as []store.Attempt
	testutil.Eventually(tb, wait, "delivery "+id+" delivered or dead", func() error {
		var err error
		if d, as, err = st.Delivery(context.Background(), id); err != nil {
			return err
		}
		if !d.Status.Finished() {
			return fmt.Errorf("%s after %d attempts, last error %q", d.Status, d.Attempts, d.LastError)
		}
		return nil
	})
	return d, as
}

// waitUntil waits until cond holds.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	testutil.Eventually(tb, wait, what, testutil.Holds(cond))
}

// hit is one request a receiver got.
type hit struct {
	at     time.Time
	header http.Header
	body   []byte
}

// receiver is an httptest server on 127.0.0.1 that records each request and
// answers with answer (n counts requests from 1).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	hits   []hit
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(tb testing.TB, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{at: time.Now(), header: r.Header.Clone(), body: body})
		n := len(rc.hits)
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(n, w, r)
		}
	}))
	tb.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

func TestDeliverySucceedsWithExactRequest(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "boom")
			return
		}
		io.WriteString(w, `{"ok":true}`)
	})
	dest := mustDest(t, fmt.Sprintf(`
destination "team" {
  url           = "%s/hooks/tok_s3cr3t"
  timeout       = "5s"
  headers       = { "X-Team" = "tiktok" }
  allow_private = true
  sign "standard_webhooks" { secret = %q }
  retry {
    schedule = ["10ms"]
    jitter   = "0%%"
  }
}`, rc.URL, testSecret))
	st := mustStore(t)
	// When the first attempt and the retry come (Notify, the timer to the
	// due time) is tested in virtual time: TestRetryComesFromTheTimer.
	r := start(t, st, delivery.Options{Workers: 4}, dest)

	body := "{\"creator\":\"c1\",\"note\":\"café ☕\"}\n"
	id := accept(t, st, "team", body)
	r.e.Notify("team")
	d, attempts := waitFinished(t, st, id)

	if d.Status != store.Delivered {
		t.Fatalf("status %s, want delivered (last error %q)", d.Status, d.LastError)
	}
	hits := rc.got()
	if len(hits) != 2 || len(attempts) != 2 {
		t.Fatalf("%d requests and %d attempts, want 2 and 2", len(hits), len(attempts))
	}
	checker := dest.Signer.(plugins.Checker)
	for i, h := range hits {
		if !bytes.Equal(h.body, []byte(body)) {
			t.Errorf("request %d: body %q, want %q", i+1, h.body, body)
		}
		for k, want := range map[string]string{
			"Content-Type": "application/json",
			"User-Agent":   buildinfo.UserAgent(),
			"X-Team":       "tiktok",
			"Traceparent":  traceParent,
			"Webhook-Id":   id,
		} {
			if got := h.header.Get(k); got != want {
				t.Errorf("request %d: %s %q, want %q", i+1, k, got, want)
			}
		}
		if err := checker.Check(h.header, h.body, time.Now()); err != nil {
			t.Errorf("request %d: signature: %v", i+1, err)
		}
	}

	a1, a2 := attempts[0], attempts[1]
	if a1.N != 1 || a1.StatusCode != 500 || a1.Error != "status 500 Internal Server Error" || a1.Response != "boom" || a1.Latency <= 0 || a1.At.IsZero() {
		t.Errorf("first attempt %+v", a1)
	}
	if a2.N != 2 || a2.StatusCode != 200 || a2.Error != "" || a2.Response != `{"ok":true}` {
		t.Errorf("second attempt %+v", a2)
	}
	// Nothing secret in what is recorded.
	for _, a := range attempts {
		for _, s := range []string{"tok_s3cr3t", testSecret, hits[0].header.Get("Webhook-Signature")} {
			if strings.Contains(a.Error, s) {
				t.Errorf("attempt %d error %q shows a secret", a.N, a.Error)
			}
		}
	}
}

// TestRetryAfterHeader: over HTTP, a 429's Retry-After sets the retry's due
// time past the schedule's entry (when the retry comes is tested in virtual
// time, retry_test.go).
func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	dest := mustDest(t, fmt.Sprintf(`
destination "busy" {
  url           = "%s/hooks"
  allow_private = true
  retry {
    schedule = ["1s"]
    jitter   = "0%%"
  }
}`, rc.URL))
	st := mustStore(t)
	id := accept(t, st, "busy", `{}`)
	start(t, st, delivery.Options{}, dest)

	var d *store.Delivery
	var attempts []store.Attempt
	testutil.Eventually(t, wait, "the first attempt recorded", func() error {
		var err error
		if d, attempts, err = st.Delivery(context.Background(), id); err != nil {
			return err
		}
		if len(attempts) == 0 {
			return fmt.Errorf("delivery %s with no attempt", d.Status)
		}
		return nil
	})
	if d.Status != store.Retrying || attempts[0].StatusCode != 429 {
		t.Fatalf("status %s after a %d, want retrying after a 429", d.Status, attempts[0].StatusCode)
	}
	if after := d.NextAttemptAt.Sub(attempts[0].At); after < 119*time.Second {
		t.Errorf("next attempt due %s after a 429 with Retry-After: 120", after)
	}
}

// TestOneAttemptOutcomes covers deliveries that are finished after one
// attempt.
func TestOneAttemptOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		schedule string
		answer   func(n int, w http.ResponseWriter, r *http.Request)
		private  bool // allow_private
		closed   bool // nothing listens at the URL

		reason string
		err    string // the attempt's error, or its prefix when ending in "…"
		hits   int
	}{
		{
			name: "410 dead at once", schedule: `["1h"]`, private: true, hits: 1,
			answer: func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) },
			reason: "410 Gone", err: "status 410 Gone",
		},
		{
			name: "empty schedule", schedule: `[]`, private: true, hits: 1,
			answer: func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
			reason: "retries exhausted after 1 attempt: status 500 Internal Server Error", err: "status 500 Internal Server Error",
		},
		{
			name: "redirect not followed", schedule: `[]`, private: true, hits: 1,
			answer: func(n int, w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/hooks" {
					http.Redirect(w, r, "/elsewhere", http.StatusFound)
				}
			},
			reason: "retries exhausted after 1 attempt: status 302 Found (redirects are not followed)",
			err:    "status 302 Found (redirects are not followed)",
		},
		{
			name: "private address refused", schedule: `[]`, private: false, hits: 0,
			reason: "retries exhausted after 1 attempt: destination address 127.0.0.1 is private (allow_private = false)",
			err:    "destination address 127.0.0.1 is private (allow_private = false)",
		},
		{
			name: "connection refused", schedule: `[]`, private: true, closed: true,
			reason: "retries exhausted after 1 attempt: …", err: "…",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, c.answer)
			if c.closed {
				rc.Close()
			}
			dest := mustDest(t, fmt.Sprintf(`
destination "d" {
  url           = "%s/hooks"
  allow_private = %v
  retry { schedule = %s }
}`, rc.URL, c.private, c.schedule))
			st := mustStore(t)
			id := accept(t, st, "d", `{}`)
			start(t, st, delivery.Options{}, dest)

			d, attempts := waitFinished(t, st, id)
			if d.Status != store.Dead {
				t.Fatalf("status %s, want dead", d.Status)
			}
			if len(attempts) != 1 {
				t.Fatalf("%d attempts, want 1", len(attempts))
			}
			match := func(what, got, want string) {
				if p, ok := strings.CutSuffix(want, "…"); ok {
					if !strings.HasPrefix(got, p) || len(got) == len(p) {
						t.Errorf("%s %q, want %q and more", what, got, p)
					}
				} else if got != want {
					t.Errorf("%s %q, want %q", what, got, want)
				}
			}
			match("dead reason", d.DeadReason, c.reason)
			match("attempt error", attempts[0].Error, c.err)
			if hits := rc.got(); len(hits) != c.hits {
				t.Errorf("receiver got %d requests, want %d", len(hits), c.hits)
			}
		})
	}
}

// TestSlowDestinationDoesNotDelayOthers: a destination whose receiver hangs
// holds its own max_concurrency workers until its timeout; another
// destination's deliveries go through meanwhile.
func TestSlowDestinationDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var slowDone atomic.Int32
	slow := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		defer slowDone.Add(1)
		select {
		case <-r.Context().Done(): // the engine gave up at its timeout
		case <-release:
		case <-time.After(wait):
		}
	})
	t.Cleanup(func() { close(release) })
	fast := newReceiver(t, nil)
	dests := mustDests(t, fmt.Sprintf(`
destination "slow" {
  url             = "%s/hooks"
  timeout         = "3s"
  max_concurrency = 2
  allow_private   = true
  retry { schedule = [] }
}
destination "fast" {
  url             = "%s/hooks"
  max_concurrency = 4
  allow_private   = true
}`, slow.URL, fast.URL))
	st := mustStore(t)
	var slowIDs, fastIDs []string
	for range 2 {
		slowIDs = append(slowIDs, accept(t, st, "slow", `{"slow":true}`))
	}
	// Three global workers: the slow destination can hold two, never the
	// third.
	r := start(t, st, delivery.Options{Workers: 3, Poll: time.Hour}, dests...)
	waitUntil(t, "the slow receiver to hold two requests", func() bool { return len(slow.got()) == 2 })

	began := time.Now()
	for range 20 {
		fastIDs = append(fastIDs, accept(t, st, "fast", `{"fast":true}`))
		r.e.Notify("fast")
	}
	for _, id := range fastIDs {
		d, _ := waitFinished(t, st, id)
		if d.Status != store.Delivered {
			t.Fatalf("fast delivery %s is %s", id, d.Status)
		}
	}
	took := time.Since(began)
	if n := slowDone.Load(); n != 0 {
		t.Errorf("the fast deliveries took %s, finishing after %d slow attempts ended: they waited for the slow destination", took, n)
	}
	for _, id := range slowIDs {
		d, attempts := waitFinished(t, st, id)
		if d.Status != store.Dead || len(attempts) != 1 || attempts[0].Error != "timeout after 3s" {
			t.Errorf("slow delivery: %s, attempts %+v", d.Status, attempts)
		}
	}
}

func TestMaxConcurrency(t *testing.T) {
	t.Parallel()
	var now, peak atomic.Int32
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		c := now.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
		now.Add(-1)
	})
	dest := mustDest(t, fmt.Sprintf(`
destination "d" {
  url             = "%s/hooks"
  max_concurrency = 3
  allow_private   = true
}`, rc.URL))
	st := mustStore(t)
	var ids []string
	for range 12 {
		ids = append(ids, accept(t, st, "d", `{}`))
	}
	start(t, st, delivery.Options{Workers: 64}, dest)
	for _, id := range ids {
		if d, _ := waitFinished(t, st, id); d.Status != store.Delivered {
			t.Fatalf("delivery %s is %s", id, d.Status)
		}
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("at most %d requests at once at the receiver, want 3 (max_concurrency)", p)
	}
}

// TestRateLimit: a backlog drains at the destination's rate_limit, after a
// burst of as many. In a synctest bubble with an in-memory receiver
// (retry_test.go): the pace is measured in virtual time, exactly.
func TestRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mr := &memReceiver{answer: func(int) plugins.Sent { return plugins.Sent{} }}
		dest := mustDest(t, `
destination "d" {
  url        = "https://receiver.invalid/hooks"
  rate_limit = "5/s"
}`)
		if dest.RatePerSecond != 5 || dest.RateBurst != 5 {
			t.Fatalf("rate %v burst %d, want 5 and 5", dest.RatePerSecond, dest.RateBurst)
		}
		dest.Deliverer = mr
		st := mustStore(t)
		var ids []string
		for range 15 {
			ids = append(ids, accept(t, st, "d", `{}`))
		}
		start(t, st, delivery.Options{}, dest)
		for _, id := range ids {
			waitFinished(t, st, id)
		}
		hits := mr.got()
		if len(hits) != 15 {
			t.Fatalf("%d messages, want 15", len(hits))
		}
		// The i-th message (from 0) may come no sooner than
		// (i+1-burst)/rate after the first.
		for i, h := range hits {
			earliest := time.Duration(max(i+1-5, 0)) * time.Second / 5
			if since := h.at.Sub(hits[0].at); since < earliest {
				t.Errorf("message %d came %s after the first, want at least %s at 5/s with a burst of 5", i+1, since, earliest)
			}
		}
	})
}

// TestShutdownFinishesInFlight: after cancel, Run returns only once the
// attempts in flight have finished and been recorded.
func TestShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	var started atomic.Int32
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		time.Sleep(500 * time.Millisecond)
		io.WriteString(w, "late but fine")
	})
	dest := mustDest(t, fmt.Sprintf(`
destination "d" {
  url             = "%s/hooks"
  max_concurrency = 4
  allow_private   = true
}`, rc.URL))
	st := mustStore(t)
	var ids []string
	for range 3 {
		ids = append(ids, accept(t, st, "d", `{}`))
	}
	r := start(t, st, delivery.Options{}, dest)
	waitUntil(t, "three requests at the receiver", func() bool { return started.Load() == 3 })
	r.stop(t)

	for _, id := range ids {
		d, attempts, err := st.Delivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != store.Delivered || len(attempts) != 1 || attempts[0].Response != "late but fine" {
			t.Errorf("after Run returned, delivery %s is %s with %d attempts", id, d.Status, len(attempts))
		}
	}
}

// TestRunTwiceAtOnce: a second concurrent Run is refused.
func TestRunTwiceAtOnce(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	dest := mustDest(t, fmt.Sprintf(`
destination "d" {
  url           = "%s/hooks"
  allow_private = true
}`, rc.URL))
	st := mustStore(t)
	id := accept(t, st, "d", `{}`)
	r := start(t, st, delivery.Options{}, dest)
	waitFinished(t, st, id) // the first Run is running
	if err := r.e.Run(context.Background(), []*config.Destination{dest}); err == nil {
		t.Fatal("a second Run at once was not refused")
	}
}
