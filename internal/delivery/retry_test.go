package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/plugins"
)

// The retry schedule's tests run in a testing/synctest bubble: time is
// virtual, so a 1 s schedule takes no wall-clock time and every gap is
// exact. The receiver is in memory (memReceiver, the destination's kind in
// place of HTTP): a connection over loopback is not durably blocking, and
// would keep the bubble's clock from moving. What is HTTP about an attempt
// (the request, its headers, Retry-After read from the answer) is tested
// over loopback in engine_test.go and attempt_test.go.

// memHit is one message a memReceiver got.
type memHit struct {
	at time.Time
	m  *plugins.Outbound
}

// memReceiver is a destination kind that records each message with the
// (bubble's) time it came and answers with answer (n counts messages from
// 1).
type memReceiver struct {
	mu     sync.Mutex
	hits   []memHit
	answer func(n int) plugins.Sent
}

func (mr *memReceiver) Deliver(_ context.Context, m *plugins.Outbound) plugins.Sent {
	mr.mu.Lock()
	mr.hits = append(mr.hits, memHit{at: time.Now(), m: m})
	n := len(mr.hits)
	mr.mu.Unlock()
	return mr.answer(n)
}

func (mr *memReceiver) got() []memHit {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	return append([]memHit(nil), mr.hits...)
}

// memDest compiles the destination "name" with the retry block retry and
// makes mr its receiver.
func memDest(tb testing.TB, name, retry string, mr *memReceiver) *config.Destination {
	tb.Helper()
	d := mustDest(tb, fmt.Sprintf(`
destination %q {
  url = "https://receiver.invalid/hooks"
  sign "standard_webhooks" { secret = %q }
  retry {
%s
  }
}`, name, testSecret, retry))
	d.Deliverer = mr
	return d
}

// TestRetryComesFromTheTimer: with a poll of an hour, the first attempt
// comes from Notify at once and the retry from the timer to its due time,
// exactly the schedule's 1 s later, with the same webhook-id.
func TestRetryComesFromTheTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mr := &memReceiver{answer: func(n int) plugins.Sent {
			if n == 1 {
				return plugins.Sent{Status: 500, Err: "status 500 Internal Server Error"}
			}
			return plugins.Sent{}
		}}
		dest := memDest(t, "team", `schedule = ["1s"]
    jitter = "0%"`, mr)
		st := mustStore(t)
		r := start(t, st, delivery.Options{Workers: 4, Poll: time.Hour}, dest)
		synctest.Wait() // the loop's first, empty claim is done: it waits for a wake

		id := accept(t, st, "team", `{"creator":"c1"}`)
		accepted := time.Now()
		r.e.Notify("team")
		synctest.Wait()
		hits := mr.got()
		if len(hits) != 1 || !hits[0].at.Equal(accepted) {
			t.Fatalf("%d messages after Notify (want 1, at once): Notify did not wake the loop", len(hits))
		}

		d, attempts := waitFinished(t, st, id)
		if d.Status != store.Delivered || len(attempts) != 2 {
			t.Fatalf("status %s after %d attempts, want delivered after 2", d.Status, len(attempts))
		}
		hits = mr.got()
		if len(hits) != 2 {
			t.Fatalf("%d messages, want 2", len(hits))
		}
		// Virtual time: the gap is the schedule's, not "at least" it; a
		// retry that waited for the hour's poll would show here.
		if gap := hits[1].at.Sub(hits[0].at); gap != time.Second {
			t.Errorf("retry %s after the first attempt, want the schedule's 1s", gap)
		}
		for i, h := range hits {
			if got := h.m.Header.Get("Webhook-Id"); got != id {
				t.Errorf("message %d: webhook-id %q, want %q", i+1, got, id)
			}
		}
	})
}

// TestRetriesUntilDead: a receiver that always fails gets the first attempt
// and one per entry of the schedule, each after its entry with the jitter
// the engine drew, then the delivery is dead with the last reason.
func TestRetriesUntilDead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mr := &memReceiver{answer: func(int) plugins.Sent {
			return plugins.Sent{Status: http.StatusBadGateway, Err: "status 502 Bad Gateway", Response: strings.Repeat("x", store.ResponsePrefix)}
		}}
		dest := memDest(t, "flaky", `schedule = ["1s", "2s"]
    jitter = "20%"`, mr)
		st := mustStore(t)
		id := accept(t, st, "flaky", `{"n":1}`)
		// rand 0 and 1 are the jitter's ends: -20% and +20%.
		draws := []float64{0, 0.999999}
		var mu sync.Mutex
		rand := func() float64 {
			mu.Lock()
			defer mu.Unlock()
			v := draws[0]
			draws = draws[1:]
			return v
		}
		start(t, st, delivery.Options{Rand: rand}, dest)

		d, attempts := waitFinished(t, st, id)
		if d.Status != store.Dead {
			t.Fatalf("status %s, want dead", d.Status)
		}
		if want := "retries exhausted after 3 attempts: status 502 Bad Gateway"; d.DeadReason != want {
			t.Errorf("dead reason %q, want %q", d.DeadReason, want)
		}
		hits := mr.got()
		if len(hits) != 3 || len(attempts) != 3 {
			t.Fatalf("%d messages and %d attempts, want 3 and 3", len(hits), len(attempts))
		}
		for i, want := range []time.Duration{800 * time.Millisecond, 2400 * time.Millisecond} {
			gap := hits[i+1].at.Sub(hits[i].at)
			if diff := gap - want; diff < -time.Millisecond || diff > time.Millisecond {
				t.Errorf("attempt %d came %s after the previous one, want %s (the schedule with the jitter drawn)", i+2, gap, want)
			}
		}
		for i, a := range attempts {
			if a.N != i+1 || a.StatusCode != 502 || len(a.Response) != store.ResponsePrefix {
				t.Errorf("attempt %d: n %d, status %d, response of %d bytes", i+1, a.N, a.StatusCode, len(a.Response))
			}
		}
	})
}

// TestRetryAfterOverridesTheSchedule: a receiver's Retry-After longer than
// the schedule's entry sets when the retry comes.
func TestRetryAfterOverridesTheSchedule(t *testing.T) {
	for _, code := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mr := &memReceiver{answer: func(n int) plugins.Sent {
					if n == 1 {
						return plugins.Sent{Status: code, Err: fmt.Sprintf("status %d", code), RetryAfter: 2 * time.Second}
					}
					return plugins.Sent{}
				}}
				dest := memDest(t, "busy", `schedule = ["1s"]
    jitter = "0%"`, mr)
				st := mustStore(t)
				id := accept(t, st, "busy", `{}`)
				start(t, st, delivery.Options{}, dest)

				d, attempts := waitFinished(t, st, id)
				if d.Status != store.Delivered || len(attempts) != 2 {
					t.Fatalf("status %s after %d attempts, want delivered after 2", d.Status, len(attempts))
				}
				hits := mr.got()
				if gap := hits[1].at.Sub(hits[0].at); gap != 2*time.Second {
					t.Errorf("retried %s after a %d with Retry-After: 2, want 2s", gap, code)
				}
				if attempts[0].StatusCode != code {
					t.Errorf("first attempt status %d, want %d", attempts[0].StatusCode, code)
				}
			})
		})
	}
}
