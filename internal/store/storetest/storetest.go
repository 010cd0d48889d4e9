package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// Run runs the conformance suite, one subtest per behaviour, each against
// a fresh, empty store from open. open should register the store's Close
// with t.Cleanup; Close must be safe to call twice.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"AcceptThenRead", testAcceptThenRead},
		{"AcceptWithoutDeliveries", testAcceptWithoutDeliveries},
		{"AcceptInvalid", testAcceptInvalid},
		{"DedupeWindow", testDedupeWindow},
		{"DedupeConcurrent", testDedupeConcurrent},
		{"ClaimOldestDueFirst", testClaimOldestDueFirst},
		{"ClaimLimitAndDestination", testClaimLimitAndDestination},
		{"ClaimConcurrent", testClaimConcurrent},
		{"LeaseExpires", testLeaseExpires},
		{"AcceptLeased", testAcceptLeased},
		{"Release", testRelease},
		{"CompleteDelivered", testCompleteDelivered},
		{"CompleteRetrying", testCompleteRetrying},
		{"CompleteDead", testCompleteDead},
		{"AttemptsInOrder", testAttemptsInOrder},
		{"Errors", testErrors},
		{"NextDue", testNextDue},
		{"DeliveriesFilters", testDeliveriesFilters},
		{"DeliveriesPagination", testDeliveriesPagination},
		{"DeliveriesLimit", testDeliveriesLimit},
		{"DeliveriesPaginationWhileAccepting", testPaginationWhileAccepting},
		{"EventsListing", testEventsListing},
		{"ReplayFields", testReplayFields},
		{"Retry", testRetry},
		{"Replay", testReplay},
		{"RequeueRacesClaim", testRequeueRacesClaim},
		{"Abandon", testAbandon},
		{"Cleanup", testCleanup},
		{"CleanupDedupe", testCleanupDedupe},
		{"ConcurrentAccept", testConcurrentAccept},
		{"Stats", testStats},
		{"StatsCounts", testStatsCounts},
		{"StatsMinutes", testStatsMinutes},
		{"Pauses", testPauses},
		{"StatsMinutesChart", testStatsMinutesChart},
		{"Ping", testPing},
		{"Closed", testClosed},
	}
	tests = append(tests, orderingTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

func testAcceptThenRead(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := newFixture(at(0), "shop", "order.created",
		target{route: "r1", dest: "a"}, target{route: "r2", dest: "b", due: time.Minute})
	mustAccept(t, s, f)

	ev, err := s.Event(ctx, f.ev.ID)
	if err != nil {
		t.Fatalf("Event: %v", err)
	}
	wantEqual(t, "Event", normEvent(*ev), normEvent(*f.ev))
	if !bytes.Equal(ev.Body, f.ev.Body) {
		t.Errorf("Event body = %q, want %q", ev.Body, f.ev.Body)
	}
	for _, want := range f.ds {
		d, as := mustDelivery(t, s, want.ID)
		wantEqual(t, "Delivery "+want.ID, normDelivery(*d), normDelivery(*want))
		if !bytes.Equal(d.Body, want.Body) {
			t.Errorf("Delivery body = %q, want %q", d.Body, want.Body)
		}
		if len(as) != 0 {
			t.Errorf("Delivery %s has attempts %v, want none", want.ID, as)
		}
	}
	// Due at their NextAttemptAt: b not yet.
	wantIDs(t, "Claim(a) at t0", claimIDs(t, s, "a", at(0), 10, time.Minute), []string{f.ds[0].ID})
	wantIDs(t, "Claim(b) at t0", claimIDs(t, s, "b", at(0), 10, time.Minute), nil)
	wantIDs(t, "Claim(b) at t0+1m", claimIDs(t, s, "b", at(time.Minute), 10, time.Minute), []string{f.ds[1].ID})
}

func testAcceptWithoutDeliveries(t *testing.T, s store.Store) {
	f := newFixture(at(0), "shop", "order.unrouted")
	mustAccept(t, s, f)
	ev, err := s.Event(context.Background(), f.ev.ID)
	if err != nil {
		t.Fatalf("Event: %v", err)
	}
	wantEqual(t, "Event", normEvent(*ev), normEvent(*f.ev))
	wantIDs(t, "Deliveries", listAll(t, s, store.Query{}), nil)
}

func testAcceptInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Accept(ctx, nil, nil, nil); err == nil {
		t.Error("Accept(nil event): no error")
	}
	f := newFixture(at(0), "shop", "x", target{route: "r", dest: "a"})
	f.ds[0].ID = ""
	if _, err := s.Accept(ctx, f.ev, f.ds, nil); err == nil {
		t.Error("Accept(delivery without id): no error")
	}
	g := newFixture(at(0), "shop", "x", target{route: "r", dest: "a"})
	if _, err := s.Accept(ctx, g.ev, []*store.Delivery{nil}, nil); err == nil {
		t.Error("Accept(nil delivery): no error")
	}
	if _, err := s.Event(ctx, f.ev.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused event was stored (Event: %v)", err)
	}
	if _, err := s.Event(ctx, g.ev.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused event was stored (Event: %v)", err)
	}
}

func testDedupeWindow(t *testing.T, s store.Store) {
	ctx := context.Background()
	dd := &store.Dedupe{Key: "msg_1", Window: time.Hour}
	acc := func(when time.Time, source string) (fixture, string, error) {
		f := newFixture(when, source, "order.created", target{route: "r", dest: "a"})
		id, err := s.Accept(ctx, f.ev, f.ds, dd)
		return f, id, err
	}

	first, _, err := acc(at(0), "shop")
	if err != nil {
		t.Fatalf("first Accept: %v", err)
	}
	dup, id, err := acc(at(30*time.Minute), "shop")
	wantErr(t, "Accept within the window", err, store.ErrDuplicate)
	if id != first.ev.ID {
		t.Errorf("duplicate Accept returned %q, want the first event's id %q", id, first.ev.ID)
	}
	if _, err := s.Event(ctx, dup.ev.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("duplicate event was stored (Event: %v)", err)
	}
	if _, _, err := s.Delivery(ctx, dup.ds[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("duplicate's delivery was stored (Delivery: %v)", err)
	}
	// Keys are per source.
	if _, _, err := acc(at(30*time.Minute), "crm"); err != nil {
		t.Errorf("same key, other source: %v", err)
	}
	// After the window the key is new again, with a new window.
	second, _, err := acc(at(2*time.Hour), "shop")
	if err != nil {
		t.Fatalf("Accept after the window: %v", err)
	}
	_, id, err = acc(at(2*time.Hour+30*time.Minute), "shop")
	wantErr(t, "Accept within the second window", err, store.ErrDuplicate)
	if id != second.ev.ID {
		t.Errorf("duplicate Accept returned %q, want %q", id, second.ev.ID)
	}
	// Without dedupe, nothing is refused.
	f := newFixture(at(2*time.Hour+40*time.Minute), "shop", "order.created")
	if _, err := s.Accept(ctx, f.ev, f.ds, nil); err != nil {
		t.Errorf("Accept without dedupe: %v", err)
	}
	wantIDs(t, "deliveries stored", listAll(t, s, store.Query{Destination: "a", Source: "shop"}),
		[]string{second.ds[0].ID, first.ds[0].ID})
}

func testDedupeConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 16
	dd := &store.Dedupe{Key: "same", Window: time.Hour}
	var (
		wg       sync.WaitGroup
		accepted atomic.Int32
		mu       sync.Mutex
		firsts   = map[string]int{}
		winner   string
	)
	for i := range n {
		wg.Go(func() {
			f := newFixture(at(time.Duration(i)*time.Millisecond), "shop", "x", target{route: "r", dest: "a"})
			id, err := s.Accept(ctx, f.ev, f.ds, dd)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				accepted.Add(1)
				winner = f.ev.ID
			case errors.Is(err, store.ErrDuplicate):
				firsts[id]++
			default:
				t.Errorf("Accept: %v", err)
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 1 {
		t.Fatalf("%d of %d concurrent Accepts with one key succeeded, want 1", accepted.Load(), n)
	}
	if len(firsts) != 1 || firsts[winner] != n-1 {
		t.Errorf("duplicates named %v as first, want %s %d times", firsts, winner, n-1)
	}
}

func testClaimOldestDueFirst(t *testing.T, s store.Store) {
	// Accepted in an order unlike their due order.
	d3 := accept(t, s, at(0), target{route: "r", dest: "a", due: 3 * time.Second})
	d1 := accept(t, s, at(0), target{route: "r", dest: "a", due: 1 * time.Second})
	d2 := accept(t, s, at(0), target{route: "r", dest: "a", due: 2 * time.Second})
	d9 := accept(t, s, at(0), target{route: "r", dest: "a", due: time.Hour})

	wantIDs(t, "Claim before anything is due", claimIDs(t, s, "a", at(500*time.Millisecond), 10, time.Minute), nil)
	// Due at exactly now counts (NextAttemptAt <= now).
	wantIDs(t, "Claim at the first due time", claimIDs(t, s, "a", at(time.Second), 10, 2*time.Hour), []string{d1.ID})
	wantIDs(t, "Claim later", claimIDs(t, s, "a", at(10*time.Second), 10, 2*time.Hour), []string{d2.ID, d3.ID})
	wantIDs(t, "Claim at the last due time", claimIDs(t, s, "a", at(time.Hour), 10, 2*time.Hour), []string{d9.ID})
}

func testClaimLimitAndDestination(t *testing.T, s store.Store) {
	var as, bs []string
	for i := range 5 {
		as = append(as, accept(t, s, at(time.Duration(i)*time.Second), target{route: "r", dest: "a"}).ID)
	}
	for i := range 3 {
		bs = append(bs, accept(t, s, at(time.Duration(i)*time.Second), target{route: "r", dest: "b"}).ID)
	}
	now := at(time.Minute)
	wantIDs(t, "Claim(a, 2)", claimIDs(t, s, "a", now, 2, time.Minute), as[:2])
	wantIDs(t, "Claim(a, 10)", claimIDs(t, s, "a", now, 10, time.Minute), as[2:])
	wantIDs(t, "Claim(a) when all are leased", claimIDs(t, s, "a", now, 10, time.Minute), nil)
	wantIDs(t, "Claim(b, 10)", claimIDs(t, s, "b", now, 10, time.Minute), bs)
	wantIDs(t, "Claim(c)", claimIDs(t, s, "c", now, 10, time.Minute), nil)
	wantIDs(t, "Claim(a, 0)", claimIDs(t, s, "a", at(time.Hour), 0, time.Minute), nil)

	// A claimed delivery is the whole record.
	d := accept(t, s, at(0), target{route: "r9", dest: "z"})
	got, err := s.Claim(context.Background(), "z", now, 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim(z) = %v, %v", got, err)
	}
	want := *d
	wantEqual(t, "claimed delivery", normDelivery(*got[0]), normDelivery(want))
}

func testClaimConcurrent(t *testing.T, s store.Store) {
	const n = 120
	want := map[string]bool{}
	for i := range n / 4 {
		f := newFixture(at(time.Duration(i)*time.Millisecond), "shop", "x",
			target{route: "r", dest: "a"}, target{route: "r", dest: "a"},
			target{route: "r", dest: "a"}, target{route: "r", dest: "a"})
		mustAccept(t, s, f)
		for _, id := range f.ids() {
			want[id] = true
		}
	}
	var (
		mu  sync.Mutex
		got = map[string]int{}
		wg  sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			// Bounded: a store that hands out leased deliveries again
			// would otherwise keep this loop going forever.
			for range n {
				ds, err := s.Claim(context.Background(), "a", at(time.Hour), 7, time.Hour)
				if err != nil {
					t.Errorf("Claim: %v", err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					got[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("concurrent claims got %d distinct deliveries, want %d", len(got), n)
	}
	for id, c := range got {
		if c != 1 || !want[id] {
			t.Errorf("delivery %s claimed %d times (known: %t)", id, c, want[id])
		}
	}
}

func testLeaseExpires(t *testing.T, s store.Store) {
	d := accept(t, s, at(0), target{route: "r", dest: "a"})
	wantIDs(t, "first Claim", claimIDs(t, s, "a", at(0), 10, 30*time.Second), []string{d.ID})
	wantIDs(t, "Claim while leased", claimIDs(t, s, "a", at(10*time.Second), 10, 30*time.Second), nil)
	next, ok, err := s.NextDue(context.Background(), "a")
	if err != nil || !ok {
		t.Fatalf("NextDue = %v, %v, %v", next, ok, err)
	}
	wantTime(t, "NextDue while leased", next, at(30*time.Second))
	// The process that claimed it died: the lease runs out and the
	// delivery is due again, unchanged.
	wantIDs(t, "Claim after the lease", claimIDs(t, s, "a", at(31*time.Second), 10, 30*time.Second), []string{d.ID})
	got, as := mustDelivery(t, s, d.ID)
	if got.Status != store.Pending || got.Attempts != 0 || len(as) != 0 {
		t.Errorf("after a lost attempt: status %s, %d attempts, %d recorded; want pending, 0, 0", got.Status, got.Attempts, len(as))
	}
	wantIDs(t, "Claim while leased again", claimIDs(t, s, "a", at(40*time.Second), 10, 30*time.Second), nil)
}

func testCompleteDelivered(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := accept(t, s, at(0), target{route: "r", dest: "a"})
	claimIDs(t, s, "a", at(0), 1, time.Minute)
	mustComplete(t, s, d.ID, store.Outcome{
		Attempt: store.Attempt{At: at(time.Second), StatusCode: 204, Latency: 120 * time.Millisecond, Response: "ok"},
		Status:  store.Delivered,
	})
	got := wantStatus(t, s, d.ID, store.Delivered)
	if got.Attempts != 1 || got.LastStatus != 204 || got.LastError != "" {
		t.Errorf("delivered: attempts %d, last status %d, last error %q; want 1, 204, \"\"", got.Attempts, got.LastStatus, got.LastError)
	}
	wantTime(t, "UpdatedAt", got.UpdatedAt, at(time.Second))
	wantIDs(t, "Claim after delivery", claimIDs(t, s, "a", at(48*time.Hour), 10, time.Minute), nil)
	if next, ok, err := s.NextDue(ctx, "a"); err != nil || ok {
		t.Errorf("NextDue after delivery = %v, %v, %v; want none", next, ok, err)
	}
	if n, err := s.Replay(ctx, store.ReplayQuery{}, at(time.Hour)); err != nil || n != 0 {
		t.Errorf("Replay after delivery = %d, %v; want 0", n, err)
	}
	wantIDs(t, "Deliveries(delivered)", listAll(t, s, store.Query{Status: store.Delivered}), []string{d.ID})
}

func testCompleteRetrying(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := accept(t, s, at(0), target{route: "r", dest: "a"})
	claimIDs(t, s, "a", at(0), 1, time.Minute)
	mustComplete(t, s, d.ID, store.Outcome{
		Attempt:       store.Attempt{At: at(time.Second), StatusCode: 503, Latency: time.Second, Error: "HTTP 503", Response: "busy"},
		Status:        store.Retrying,
		NextAttemptAt: at(5 * time.Minute),
	})
	got := wantStatus(t, s, d.ID, store.Retrying)
	if got.Attempts != 1 || got.LastStatus != 503 || got.LastError != "HTTP 503" {
		t.Errorf("retrying: attempts %d, last status %d, last error %q", got.Attempts, got.LastStatus, got.LastError)
	}
	wantTime(t, "NextAttemptAt", got.NextAttemptAt, at(5*time.Minute))
	next, ok, err := s.NextDue(ctx, "a")
	if err != nil || !ok {
		t.Fatalf("NextDue = %v, %v, %v", next, ok, err)
	}
	wantTime(t, "NextDue", next, at(5*time.Minute))
	wantIDs(t, "Claim before the next attempt", claimIDs(t, s, "a", at(4*time.Minute), 10, time.Minute), nil)
	ds, err := s.Claim(ctx, "a", at(5*time.Minute), 10, time.Minute)
	if err != nil || len(ds) != 1 || ds[0].ID != d.ID {
		t.Fatalf("Claim at the next attempt = %v, %v; want %s", ds, err, d.ID)
	}
	if ds[0].Attempts != 1 || ds[0].Status != store.Retrying {
		t.Errorf("claimed retry: status %s, attempts %d; want retrying, 1", ds[0].Status, ds[0].Attempts)
	}
	// A Retrying outcome with no next time is due at once.
	mustComplete(t, s, d.ID, store.Outcome{
		Attempt: store.Attempt{At: at(6 * time.Minute), Error: "connection refused"},
		Status:  store.Retrying,
	})
	wantIDs(t, "Claim after a retry with no delay", claimIDs(t, s, "a", at(7*time.Minute), 10, time.Minute), []string{d.ID})
}

func testCompleteDead(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := accept(t, s, at(0), target{route: "r", dest: "a"})
	kill(t, s, d, at(time.Second))
	got, as := mustDelivery(t, s, d.ID)
	if got.Status != store.Dead || got.DeadReason != "HTTP 410 Gone" || got.Attempts != 1 || got.LastStatus != 410 {
		t.Errorf("dead: %+v", got)
	}
	wantIDs(t, "Claim when dead", claimIDs(t, s, "a", at(48*time.Hour), 10, time.Minute), nil)
	if _, ok, err := s.NextDue(ctx, "a"); err != nil || ok {
		t.Errorf("NextDue when dead: %v, %v; want none", ok, err)
	}
	wantIDs(t, "Deliveries(dead)", listAll(t, s, store.Query{Status: store.Dead}), []string{d.ID})

	n, err := s.Replay(ctx, store.ReplayQuery{Destination: "a"}, at(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	again, as2 := mustDelivery(t, s, d.ID)
	if again.Status != store.Pending || again.DeadReason != "" || again.Attempts != 1 || len(as2) != len(as) {
		t.Errorf("replayed: status %s, dead reason %q, attempts %d, %d recorded; want pending, \"\", 1, %d",
			again.Status, again.DeadReason, again.Attempts, len(as2), len(as))
	}
	wantTime(t, "replayed NextAttemptAt", again.NextAttemptAt, at(time.Hour))
	wantIDs(t, "Claim after replay", claimIDs(t, s, "a", at(time.Hour), 10, time.Minute), []string{d.ID})
	if n, err := s.Replay(ctx, store.ReplayQuery{}, at(2*time.Hour)); err != nil || n != 0 {
		t.Errorf("second Replay = %d, %v; want 0", n, err)
	}
}

func testAttemptsInOrder(t *testing.T, s store.Store) {
	d := accept(t, s, at(0), target{route: "r", dest: "a"})
	long := strings.Repeat("x", 3*store.ResponsePrefix)
	steps := []store.Outcome{
		{Attempt: store.Attempt{At: at(1 * time.Second), StatusCode: 500, Latency: 15 * time.Millisecond, Error: "HTTP 500", Response: `{"error":"boom"}`},
			Status: store.Retrying, NextAttemptAt: at(time.Minute)},
		{Attempt: store.Attempt{At: at(61 * time.Second), Latency: 5 * time.Second, Error: "timeout after 5s"},
			Status: store.Retrying, NextAttemptAt: at(10 * time.Minute)},
		{Attempt: store.Attempt{At: at(601 * time.Second), StatusCode: 200, Latency: 42 * time.Millisecond, Response: long},
			Status: store.Delivered},
	}
	var want []store.Attempt
	for i, o := range steps {
		wantIDs(t, fmt.Sprintf("Claim before attempt %d", i+1),
			claimIDs(t, s, "a", o.Attempt.At, 1, time.Minute), []string{d.ID})
		mustComplete(t, s, d.ID, o)
		a := o.Attempt
		a.N = i + 1
		a.Response = a.Response[:min(len(a.Response), store.ResponsePrefix)]
		want = append(want, normAttempt(a))
	}
	got, as := mustDelivery(t, s, d.ID)
	if got.Attempts != 3 {
		t.Errorf("Attempts = %d, want 3", got.Attempts)
	}
	norm := make([]store.Attempt, len(as))
	for i, a := range as {
		norm[i] = normAttempt(a)
	}
	wantEqual(t, "attempts", norm, want)
}

func testErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := accept(t, s, at(0), target{route: "r", dest: "a"})
	_, _, err := s.Delivery(ctx, "dlv_unknown")
	wantErr(t, "Delivery(unknown)", err, store.ErrNotFound)
	_, err = s.Event(ctx, "evt_unknown")
	wantErr(t, "Event(unknown)", err, store.ErrNotFound)
	wantErr(t, "Complete(unknown)", s.Complete(ctx, "dlv_unknown", store.Outcome{
		Attempt: store.Attempt{At: at(0), StatusCode: 200}, Status: store.Delivered}), store.ErrNotFound)
	wantErr(t, "Retry(unknown)", s.Retry(ctx, "dlv_unknown", at(0)), store.ErrNotFound)
	wantErr(t, "Retry(pending)", s.Retry(ctx, d.ID, at(0)), store.ErrConflict)

	if err := s.Complete(ctx, d.ID, store.Outcome{Attempt: store.Attempt{At: at(0)}, Status: store.Pending}); err == nil {
		t.Error("Complete with outcome status pending: no error")
	}
	if err := s.Complete(ctx, d.ID, store.Outcome{Attempt: store.Attempt{At: at(0)}, Status: "bogus"}); err == nil {
		t.Error("Complete with outcome status bogus: no error")
	}
	if got, as := mustDelivery(t, s, d.ID); got.Status != store.Pending || got.Attempts != 0 || len(as) != 0 {
		t.Errorf("a refused Complete changed the delivery: %+v, %v", got, as)
	}

	claimIDs(t, s, "a", at(0), 1, time.Minute)
	mustComplete(t, s, d.ID, store.Outcome{
		Attempt: store.Attempt{At: at(time.Second), StatusCode: 500}, Status: store.Retrying, NextAttemptAt: at(time.Hour)})
	wantErr(t, "Retry(retrying)", s.Retry(ctx, d.ID, at(0)), store.ErrConflict)

	deliver(t, s, d, at(time.Hour))
	// A second worker whose lease had run out completes it again.
	wantErr(t, "Complete(delivered)", s.Complete(ctx, d.ID, store.Outcome{
		Attempt: store.Attempt{At: at(time.Hour), StatusCode: 200}, Status: store.Delivered}), store.ErrConflict)
	if got, as := mustDelivery(t, s, d.ID); got.Attempts != 2 || len(as) != 2 {
		t.Errorf("a refused Complete was recorded: %d attempts, %d recorded; want 2", got.Attempts, len(as))
	}
	if _, err := s.Deliveries(ctx, store.Query{Status: "bogus"}); err == nil {
		t.Error("Deliveries(status bogus): no error")
	}
}

func testNextDue(t *testing.T, s store.Store) {
	ctx := context.Background()
	nextDue := func(dest string) (time.Time, bool) {
		t.Helper()
		next, ok, err := s.NextDue(ctx, dest)
		if err != nil {
			t.Fatalf("NextDue(%s): %v", dest, err)
		}
		return next, ok
	}
	if _, ok := nextDue("a"); ok {
		t.Error("NextDue on an empty store: ok")
	}
	late := accept(t, s, at(0), target{route: "r", dest: "a", due: 3 * time.Minute})
	early := accept(t, s, at(0), target{route: "r", dest: "a", due: time.Minute})
	accept(t, s, at(0), target{route: "r", dest: "b", due: 30 * time.Second})

	next, _ := nextDue("a")
	wantTime(t, "NextDue(a)", next, at(time.Minute))
	next, _ = nextDue("b")
	wantTime(t, "NextDue(b)", next, at(30*time.Second))
	if _, ok := nextDue("c"); ok {
		t.Error("NextDue(c): ok")
	}

	wantIDs(t, "Claim(a)", claimIDs(t, s, "a", at(2*time.Minute), 10, 10*time.Minute), []string{early.ID})
	next, _ = nextDue("a")
	wantTime(t, "NextDue(a) with the early one leased", next, at(3*time.Minute))
	mustComplete(t, s, early.ID, store.Outcome{Attempt: store.Attempt{At: at(2 * time.Minute), StatusCode: 200}, Status: store.Delivered})
	wantIDs(t, "Claim(a) the late one", claimIDs(t, s, "a", at(3*time.Minute), 10, time.Minute), []string{late.ID})
	next, _ = nextDue("a")
	wantTime(t, "NextDue(a) = the lease's end", next, at(4*time.Minute))
	mustComplete(t, s, late.ID, store.Outcome{Attempt: store.Attempt{At: at(3 * time.Minute), StatusCode: 200}, Status: store.Delivered})
	if _, ok := nextDue("a"); ok {
		t.Error("NextDue(a) with everything delivered: ok")
	}
}

func testDeliveriesFilters(t *testing.T, s store.Store) {
	e1 := newFixture(at(1*time.Second), "shop", "order.created", target{route: "r1", dest: "a"}, target{route: "r2", dest: "b"})
	e2 := newFixture(at(2*time.Second), "shop", "order.paid", target{route: "r1", dest: "a"})
	e3 := newFixture(at(3*time.Second), "crm", "contact.new", target{route: "r3", dest: "b"})
	e4 := newFixture(at(4*time.Second), "crm", "order.created", target{route: "r1", dest: "c"})
	for _, f := range []fixture{e1, e2, e3, e4} {
		mustAccept(t, s, f)
	}
	d1, d2, d3, d4, d5 := e1.ds[0].ID, e1.ds[1].ID, e2.ds[0].ID, e3.ds[0].ID, e4.ds[0].ID
	deliver(t, s, e2.ds[0], at(time.Minute))
	kill(t, s, e3.ds[0], at(time.Minute))
	claimIDs(t, s, "c", at(time.Minute), 1, time.Minute)
	mustComplete(t, s, d5, store.Outcome{Attempt: store.Attempt{At: at(time.Minute), StatusCode: 500}, Status: store.Retrying, NextAttemptAt: at(time.Hour)})

	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"all", store.Query{}, []string{d5, d4, d3, d2, d1}},
		{"pending", store.Query{Status: store.Pending}, []string{d2, d1}},
		{"delivered", store.Query{Status: store.Delivered}, []string{d3}},
		{"dead", store.Query{Status: store.Dead}, []string{d4}},
		{"retrying", store.Query{Status: store.Retrying}, []string{d5}},
		{"destination a", store.Query{Destination: "a"}, []string{d3, d1}},
		{"destination b", store.Query{Destination: "b"}, []string{d4, d2}},
		{"destination none", store.Query{Destination: "zzz"}, nil},
		{"route", store.Query{Route: "r1"}, []string{d5, d3, d1}},
		{"source", store.Query{Source: "crm"}, []string{d5, d4}},
		{"event type", store.Query{EventType: "order.created"}, []string{d5, d2, d1}},
		{"since", store.Query{Since: at(2 * time.Second)}, []string{d5, d4, d3}},
		{"until", store.Query{Until: at(2 * time.Second)}, []string{d2, d1}},
		{"since and until", store.Query{Since: at(2 * time.Second), Until: at(4 * time.Second)}, []string{d4, d3}},
		{"route and source", store.Query{Route: "r1", Source: "shop"}, []string{d3, d1}},
		{"route and status", store.Query{Route: "r1", Status: store.Pending}, []string{d1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantIDs(t, "Deliveries", listAll(t, s, tc.q), tc.want)
			tc.q.Limit = 1
			wantIDs(t, "Deliveries by pages of 1", listAll(t, s, tc.q), tc.want)
		})
	}

	// Listed deliveries are whole but for their body, which a listing never
	// carries (a page of 1000 must not read 1000 bodies); Delivery reads it.
	p, err := s.Deliveries(context.Background(), store.Query{Status: store.Pending, Limit: 1})
	if err != nil || len(p.Deliveries) != 1 {
		t.Fatalf("Deliveries = %v, %v", p, err)
	}
	if p.Deliveries[0].Body != nil {
		t.Errorf("listed delivery carries its body %q, want nil", p.Deliveries[0].Body)
	}
	want := *e1.ds[1]
	want.Body = nil
	wantEqual(t, "listed delivery", normDelivery(*p.Deliveries[0]), normDelivery(want))
}

func testDeliveriesPagination(t *testing.T, s store.Store) {
	var all, as []string
	for i := range 24 {
		dest := []string{"a", "b"}[i%2]
		d := accept(t, s, at(time.Duration(i)*time.Second), target{route: "r", dest: dest})
		all = append(all, d.ID)
		if dest == "a" {
			as = append(as, d.ID)
		}
	}
	ctx := context.Background()
	q := store.Query{Limit: 5}
	var sizes []int
	var got []string
	for {
		p, err := s.Deliveries(ctx, q)
		if err != nil {
			t.Fatalf("Deliveries: %v", err)
		}
		sizes = append(sizes, len(p.Deliveries))
		for _, d := range p.Deliveries {
			got = append(got, d.ID)
		}
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	if !slices.Equal(sizes, []int{5, 5, 5, 5, 4}) {
		t.Errorf("page sizes = %v, want [5 5 5 5 4]", sizes)
	}
	wantIDs(t, "paged listing", got, reversed(all...))
	// 12 matches by pages of 4: the third page is full and the last.
	var pages int
	q = store.Query{Destination: "a", Limit: 4}
	for {
		p, err := s.Deliveries(ctx, q)
		if err != nil {
			t.Fatalf("Deliveries: %v", err)
		}
		pages++
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	if pages != 3 {
		t.Errorf("12 matches by pages of 4 took %d pages, want 3", pages)
	}
	wantIDs(t, "filtered paged listing", listAll(t, s, store.Query{Destination: "a", Limit: 4}), reversed(as...))
}

func testDeliveriesLimit(t *testing.T, s store.Store) {
	targets := make([]target, 1001)
	for i := range targets {
		targets[i] = target{route: "r", dest: "a"}
	}
	mustAccept(t, s, newFixture(at(0), "shop", "bulk", targets...))
	ctx := context.Background()
	for _, tc := range []struct{ limit, want int }{{0, 50}, {7, 7}, {1000, 1000}, {5000, 1000}} {
		p, err := s.Deliveries(ctx, store.Query{Limit: tc.limit})
		if err != nil {
			t.Fatalf("Deliveries(limit %d): %v", tc.limit, err)
		}
		if len(p.Deliveries) != tc.want || p.NextCursor == "" {
			t.Errorf("Deliveries(limit %d): %d rows, cursor %q; want %d and a cursor", tc.limit, len(p.Deliveries), p.NextCursor, tc.want)
		}
	}
}

func testPaginationWhileAccepting(t *testing.T, s store.Store) {
	var existing []string
	for i := range 60 {
		f := newFixture(at(time.Duration(i)*time.Second), "shop", "x", target{route: "r", dest: "a"}, target{route: "r", dest: "b"})
		mustAccept(t, s, f)
		existing = append(existing, f.ids()...)
	}
	var (
		stop     = make(chan struct{})
		accepted atomic.Int64
		wg       sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				when := at(time.Hour + time.Duration(w*100_000+i)*time.Millisecond)
				f := newFixture(when, "shop", "x", target{route: "r", dest: "a"}, target{route: "r", dest: "b"})
				if _, err := s.Accept(context.Background(), f.ev, f.ds, nil); err != nil {
					t.Errorf("concurrent Accept: %v", err)
					return
				}
				accepted.Add(1)
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	// Each page waits for new writes, so every page races with them.
	waitWrites := func() {
		start := accepted.Load()
		for deadline := time.Now().Add(5 * time.Second); accepted.Load() == start && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	waitWrites()
	q := store.Query{Limit: 7}
	var got []string
	for range 1000 {
		waitWrites()
		p, err := s.Deliveries(context.Background(), q)
		if err != nil {
			t.Fatalf("Deliveries: %v", err)
		}
		for _, d := range p.Deliveries {
			got = append(got, d.ID)
		}
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	for i := 1; i < len(got); i++ {
		if got[i] >= got[i-1] {
			t.Fatalf("listing not strictly newest first at row %d: %s after %s", i, got[i], got[i-1])
		}
	}
	seen := map[string]bool{}
	for _, id := range got {
		seen[id] = true
	}
	for _, id := range existing {
		if !seen[id] {
			t.Errorf("delivery %s, stored before paging began, was skipped", id)
		}
	}
	if accepted.Load() == 0 {
		t.Error("no Accept ran while paging")
	}
}

func testRetry(t *testing.T, s store.Store) {
	ctx := context.Background()
	dead := accept(t, s, at(0), target{route: "r", dest: "a"})
	kill(t, s, dead, at(time.Second))
	done := accept(t, s, at(0), target{route: "r", dest: "a"})
	deliver(t, s, done, at(time.Second))

	for _, d := range []*store.Delivery{dead, done} {
		if err := s.Retry(ctx, d.ID, at(time.Hour)); err != nil {
			t.Fatalf("Retry(%s): %v", d.ID, err)
		}
		got, as := mustDelivery(t, s, d.ID)
		if got.ID != d.ID || got.Status != store.Pending || got.DeadReason != "" || got.Attempts != 1 || len(as) != 1 {
			t.Errorf("retried: id %s, status %s, dead reason %q, attempts %d, %d recorded; want %s, pending, \"\", 1, 1",
				got.ID, got.Status, got.DeadReason, got.Attempts, len(as), d.ID)
		}
		wantTime(t, "retried NextAttemptAt", got.NextAttemptAt, at(time.Hour))
	}
	wantIDs(t, "Deliveries(dead) after retry", listAll(t, s, store.Query{Status: store.Dead}), nil)
	if n, err := s.Replay(ctx, store.ReplayQuery{}, at(time.Hour)); err != nil || n != 0 {
		t.Errorf("Replay after retry = %d, %v; want 0", n, err)
	}
	wantIDs(t, "Claim before due", claimIDs(t, s, "a", at(time.Hour-time.Second), 10, time.Minute), nil)
	wantIDs(t, "Claim retried", sorted(claimIDs(t, s, "a", at(time.Hour), 10, time.Minute)), sorted([]string{dead.ID, done.ID}))
	wantErr(t, "Retry(leased)", s.Retry(ctx, dead.ID, at(time.Hour)), store.ErrConflict)
}

func testReplay(t *testing.T, s store.Store) {
	ctx := context.Background()
	type spec struct {
		route, dest string
		diedAt      time.Duration
	}
	specs := []spec{
		{"r1", "a", 1 * time.Minute},
		{"r2", "a", 2 * time.Minute},
		{"r1", "b", 3 * time.Minute},
		{"r2", "b", 4 * time.Minute},
		{"r1", "c", 5 * time.Minute},
		{"r1", "a", 6 * time.Minute},
	}
	x := make([]*store.Delivery, len(specs))
	for i, sp := range specs {
		x[i] = accept(t, s, at(0), target{route: sp.route, dest: sp.dest})
		kill(t, s, x[i], at(sp.diedAt))
	}
	// Neither counts: one pending, one delivered.
	pending := accept(t, s, at(0), target{route: "r1", dest: "a", due: 24 * time.Hour})
	deliver(t, s, accept(t, s, at(0), target{route: "r1", dest: "a"}), at(time.Minute))

	now := at(time.Hour)
	steps := []struct {
		name string
		q    store.ReplayQuery
		want []*store.Delivery
	}{
		{"destination and until", store.ReplayQuery{Destination: "a", Until: at(6 * time.Minute)}, []*store.Delivery{x[0], x[1]}},
		{"route", store.ReplayQuery{Route: "r2"}, []*store.Delivery{x[3]}},
		{"since and until", store.ReplayQuery{Since: at(3 * time.Minute), Until: at(5 * time.Minute)}, []*store.Delivery{x[2]}},
		{"destination and since", store.ReplayQuery{Destination: "c", Since: at(5 * time.Minute)}, []*store.Delivery{x[4]}},
		{"everything", store.ReplayQuery{}, []*store.Delivery{x[5]}},
		{"nothing left", store.ReplayQuery{}, nil},
	}
	for _, st := range steps {
		n, err := s.Replay(ctx, st.q, now)
		if err != nil {
			t.Fatalf("Replay(%s): %v", st.name, err)
		}
		if n != len(st.want) {
			t.Errorf("Replay(%s) = %d, want %d", st.name, n, len(st.want))
		}
		for _, d := range st.want {
			got, as := mustDelivery(t, s, d.ID)
			if got.Status != store.Pending || got.Attempts != 1 || len(as) != 1 || got.DeadReason != "" {
				t.Errorf("Replay(%s): %s is %s with %d attempts (%d recorded), dead reason %q; want pending, 1, 1, \"\"",
					st.name, d.ID, got.Status, got.Attempts, len(as), got.DeadReason)
			}
			wantTime(t, "replayed NextAttemptAt", got.NextAttemptAt, now)
		}
	}
	wantStatus(t, s, pending.ID, store.Pending)
	var all []string
	for _, d := range x {
		if d.Destination == "a" {
			all = append(all, d.ID)
		}
	}
	wantIDs(t, "Claim(a) after replays", sorted(claimIDs(t, s, "a", now, 10, time.Minute)), sorted(all))
}

// testAbandon: a removed destination's waiting deliveries (pending, due
// later, retrying, or with an expired lease) go dead with the reason; one
// in flight, finished ones and other destinations' are left alone; Replay
// brings them back.
// testRequeueRacesClaim replays and retries dead deliveries while claimers
// run: a delivery requeued and claimed at once is held by that claim's
// lease, so it is handed out exactly once per requeue.
func testRequeueRacesClaim(t *testing.T, s store.Store) {
	const rounds = 60
	ctx := context.Background()
	for i := range rounds {
		d := accept(t, s, at(time.Duration(i)*time.Millisecond), target{route: "r", dest: "a"})
		kill(t, s, d, at(time.Second))
		var (
			mu       sync.Mutex
			claims   int
			wg       sync.WaitGroup
			requeued = make(chan struct{})
		)
		for range 3 {
			wg.Go(func() {
				// Claim while the requeue runs and a few times after it,
				// as an engine woken by it and by its poll would; bounded
				// in count and time.
				deadline := time.Now().Add(5 * time.Second)
				after := 0
				for n := 0; n < 100000 && after < 5 && time.Now().Before(deadline); n++ {
					select {
					case <-requeued:
						after++
					default:
					}
					ds, err := s.Claim(ctx, "a", at(time.Hour), 10, time.Hour)
					if err != nil {
						t.Errorf("Claim: %v", err)
						return
					}
					mu.Lock()
					claims += len(ds)
					mu.Unlock()
				}
			})
		}
		var err error
		if i%2 == 0 {
			_, err = s.Replay(ctx, store.ReplayQuery{Destination: "a"}, at(time.Minute))
		} else {
			err = s.Retry(ctx, d.ID, at(time.Minute))
		}
		close(requeued)
		wg.Wait()
		if err != nil {
			t.Fatalf("round %d: requeue: %v", i, err)
		}
		if claims != 1 {
			t.Fatalf("round %d: the requeued delivery was claimed %d times while its lease held, want once", i, claims)
		}
		mustComplete(t, s, d.ID, store.Outcome{
			Attempt: store.Attempt{At: at(2 * time.Minute), StatusCode: 200}, Status: store.Delivered,
		})
	}
}

func testAbandon(t *testing.T, s store.Store) {
	ctx := context.Background()
	expired := accept(t, s, at(0), target{route: "r", dest: "gone"})
	delivered := accept(t, s, at(0), target{route: "r", dest: "gone"})
	retrying := accept(t, s, at(0), target{route: "r", dest: "gone"})
	other := accept(t, s, at(0), target{route: "r", dest: "kept"})
	wantIDs(t, "Claim(gone) at +1s", sorted(claimIDs(t, s, "gone", at(time.Second), 1000, time.Minute)),
		sorted([]string{expired.ID, delivered.ID, retrying.ID}))
	mustComplete(t, s, delivered.ID, store.Outcome{
		Attempt: store.Attempt{At: at(time.Second), StatusCode: 200},
		Status:  store.Delivered,
	})
	mustComplete(t, s, retrying.ID, store.Outcome{
		Attempt:       store.Attempt{At: at(time.Second), StatusCode: 500, Error: "HTTP 500"},
		Status:        store.Retrying,
		NextAttemptAt: at(time.Hour),
	})
	// expired stays leased until +61s, and is abandoned after that.
	inFlight := accept(t, s, at(2*time.Second), target{route: "r", dest: "gone"})
	wantIDs(t, "Claim(gone) at +3s", claimIDs(t, s, "gone", at(3*time.Second), 1000, 10*time.Minute), []string{inFlight.ID})
	pending := accept(t, s, at(4*time.Second), target{route: "r", dest: "gone"})
	later := accept(t, s, at(4*time.Second), target{route: "r", dest: "gone", due: 24 * time.Hour})

	now := at(100 * time.Second)
	n, err := s.Abandon(ctx, "gone", "destination removed", now)
	if err != nil {
		t.Fatalf("Abandon: %v", err)
	}
	wantDead := []*store.Delivery{expired, retrying, pending, later}
	if n != len(wantDead) {
		t.Errorf("Abandon = %d, want %d", n, len(wantDead))
	}
	for _, d := range wantDead {
		got := wantStatus(t, s, d.ID, store.Dead)
		if got.DeadReason != "destination removed" {
			t.Errorf("%s: dead reason %q, want %q", d.ID, got.DeadReason, "destination removed")
		}
		if !got.NextAttemptAt.IsZero() {
			t.Errorf("%s: dead with NextAttemptAt %s", d.ID, got.NextAttemptAt)
		}
	}
	wantStatus(t, s, inFlight.ID, store.Pending)
	wantStatus(t, s, delivered.ID, store.Delivered)
	wantStatus(t, s, other.ID, store.Pending)
	if got := claimIDs(t, s, "gone", at(200*time.Second), 1000, time.Minute); len(got) != 0 {
		t.Errorf("Claim(gone) after Abandon = %v, want none (%s is in flight)", got, inFlight.ID)
	}
	if _, ok, err := s.NextDue(ctx, "kept"); err != nil || !ok {
		t.Errorf("NextDue(kept) = %v, %v; want the other destination untouched", ok, err)
	}
	r, err := s.Replay(ctx, store.ReplayQuery{Destination: "gone"}, at(2*time.Hour))
	if err != nil || r != len(wantDead) {
		t.Fatalf("Replay(gone) = %d, %v; want %d", r, err, len(wantDead))
	}
	if n, err := s.Abandon(ctx, "nobody", "destination removed", now); err != nil || n != 0 {
		t.Errorf("Abandon(nobody) = %d, %v; want 0, nil", n, err)
	}
}

func testCleanup(t *testing.T, s store.Store) {
	ctx := context.Background()
	cutoff, now := at(time.Hour), at(2*time.Hour)
	tg := func(dest string) target { return target{route: "r", dest: dest} }

	oldDone := newFixture(at(0), "shop", "x", tg("a1"), tg("a2"))
	halfDone := newFixture(at(0), "shop", "x", tg("h1"), tg("h2"))
	recentDone := newFixture(at(0), "shop", "x", tg("r"))
	oldEmpty := newFixture(at(0), "shop", "x")
	newEmpty := newFixture(at(110*time.Minute), "shop", "x")
	oldDead := newFixture(at(0), "shop", "x", tg("d"))
	retried := newFixture(at(0), "shop", "x", tg("t"))
	for _, f := range []fixture{oldDone, halfDone, recentDone, oldEmpty, newEmpty, oldDead, retried} {
		mustAccept(t, s, f)
	}
	deliver(t, s, oldDone.ds[0], at(time.Minute))
	deliver(t, s, oldDone.ds[1], at(2*time.Minute))
	deliver(t, s, halfDone.ds[0], at(time.Minute))
	// halfDone's second delivery is leased and never completed.
	wantIDs(t, "Claim(h2)", claimIDs(t, s, "h2", at(3*time.Minute), 10, 10*time.Minute), []string{halfDone.ds[1].ID})
	deliver(t, s, recentDone.ds[0], at(90*time.Minute))
	kill(t, s, oldDead.ds[0], at(80*time.Minute))
	kill(t, s, retried.ds[0], at(10*time.Minute))
	if err := s.Retry(ctx, retried.ds[0].ID, at(20*time.Minute)); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	// oldDead died at 80m, after the cutoff: kept for now.
	n, err := s.Cleanup(ctx, cutoff, now)
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if n != 2 {
		t.Errorf("Cleanup deleted %d events, want 2 (oldDone, oldEmpty)", n)
	}
	gone := func(name string, f fixture) {
		t.Helper()
		if _, err := s.Event(ctx, f.ev.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Event(%s) after cleanup: %v, want not found", name, err)
		}
		for _, d := range f.ds {
			if _, _, err := s.Delivery(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Delivery(%s) of %s after cleanup: %v, want not found", d.ID, name, err)
			}
		}
	}
	kept := func(name string, f fixture) {
		t.Helper()
		if _, err := s.Event(ctx, f.ev.ID); err != nil {
			t.Errorf("Event(%s) after cleanup: %v, want kept", name, err)
		}
		for _, d := range f.ds {
			if _, _, err := s.Delivery(ctx, d.ID); err != nil {
				t.Errorf("Delivery(%s) of %s after cleanup: %v, want kept", d.ID, name, err)
			}
		}
	}
	gone("oldDone", oldDone)
	gone("oldEmpty", oldEmpty)
	kept("halfDone", halfDone)
	kept("recentDone", recentDone)
	kept("newEmpty", newEmpty)
	kept("oldDead", oldDead)
	kept("retried", retried)

	// Later the dead one is old too, and goes with its dead-letter entry.
	n, err = s.Cleanup(ctx, at(100*time.Minute), at(3*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("second Cleanup = %d, %v; want 2 (recentDone, oldDead)", n, err)
	}
	gone("recentDone", recentDone)
	gone("oldDead", oldDead)
	kept("halfDone", halfDone)
	kept("retried", retried)
	kept("newEmpty", newEmpty)
	if n, err := s.Replay(ctx, store.ReplayQuery{}, at(3*time.Hour)); err != nil || n != 0 {
		t.Errorf("Replay after cleanup = %d, %v; want 0", n, err)
	}
	wantIDs(t, "Deliveries(dead) after cleanup", listAll(t, s, store.Query{Status: store.Dead}), nil)
	if n, err := s.Cleanup(ctx, at(100*time.Minute), at(3*time.Hour)); err != nil || n != 0 {
		t.Errorf("third Cleanup = %d, %v; want 0", n, err)
	}
	// The unfinished ones are still claimable.
	wantIDs(t, "Claim(t) after cleanup", claimIDs(t, s, "t", at(3*time.Hour), 10, time.Minute), []string{retried.ds[0].ID})
	wantIDs(t, "Claim(h2) after cleanup", claimIDs(t, s, "h2", at(3*time.Hour), 10, time.Minute), []string{halfDone.ds[1].ID})
}

func testCleanupDedupe(t *testing.T, s store.Store) {
	ctx := context.Background()
	acc := func(when time.Time, key string) (fixture, error) {
		f := newFixture(when, "shop", "x")
		_, err := s.Accept(ctx, f.ev, f.ds, &store.Dedupe{Key: key, Window: time.Hour})
		return f, err
	}
	if _, err := acc(at(0), "k1"); err != nil { // expires at 1h
		t.Fatal(err)
	}
	if _, err := acc(at(90*time.Minute), "k2"); err != nil { // expires at 2h30m
		t.Fatal(err)
	}
	if _, err := s.Cleanup(ctx, at(-time.Hour), at(2*time.Hour)); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	// k1 is forgotten: an event in its old window is new.
	if _, err := acc(at(30*time.Minute), "k1"); err != nil {
		t.Errorf("Accept with an expired, cleaned-up key: %v", err)
	}
	// k2 is not.
	_, err := acc(at(100*time.Minute), "k2")
	wantErr(t, "Accept with a live key after cleanup", err, store.ErrDuplicate)
}

func testConcurrentAccept(t *testing.T, s store.Store) {
	const writers, each = 16, 20
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all []fixture
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				when := at(time.Duration(w*each+i) * time.Millisecond)
				f := newFixture(when, "shop", "x", target{route: "r", dest: "a"}, target{route: "r", dest: "b"})
				if _, err := s.Accept(context.Background(), f.ev, f.ds, nil); err != nil {
					t.Errorf("Accept: %v", err)
					return
				}
				mu.Lock()
				all = append(all, f)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(all) != writers*each {
		t.Fatalf("%d of %d Accepts succeeded", len(all), writers*each)
	}
	for _, f := range all {
		ev, err := s.Event(context.Background(), f.ev.ID)
		if err != nil {
			t.Fatalf("Event(%s): %v", f.ev.ID, err)
		}
		if !bytes.Equal(ev.Body, f.ev.Body) {
			t.Errorf("Event(%s) body = %q, want %q", f.ev.ID, ev.Body, f.ev.Body)
		}
	}
	if n := len(listAll(t, s, store.Query{Limit: 1000})); n != 2*writers*each {
		t.Errorf("Deliveries lists %d, want %d", n, 2*writers*each)
	}
	if n := len(claimIDs(t, s, "a", at(time.Hour), 1000, time.Minute)); n != writers*each {
		t.Errorf("Claim(a) = %d deliveries, want %d", n, writers*each)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testClosed(t *testing.T, s store.Store) {
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	f := newFixture(at(0), "shop", "x", target{route: "r", dest: "a"})
	_, err := s.Accept(context.Background(), f.ev, f.ds, nil)
	wantErr(t, "Accept on a closed store", err, store.ErrUnavailable)
	wantErr(t, "Ping on a closed store", s.Ping(context.Background()), store.ErrUnavailable)
}

func testStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	if got, err := s.Stats(ctx, time.Time{}); err != nil || len(got) != 0 {
		t.Fatalf("Stats on an empty store = %+v, %v; want none", got, err)
	}

	// "a": one delivery of each state, attempts on both sides of the
	// window's start at 1h.
	f := newFixture(at(0), "shop", "order.created",
		target{route: "r", dest: "a"},                        // delivered on its 2nd attempt
		target{route: "r", dest: "a", due: 100 * time.Hour},  // stays pending
		target{route: "r", dest: "a", due: 90 * time.Minute}, // retrying
		target{route: "r", dest: "a", due: 3 * time.Hour},    // dead
	)
	mustAccept(t, s, f)
	d1, d4, d3 := f.ds[0], f.ds[2], f.ds[3]
	wantIDs(t, "Claim a at 1s", claimIDs(t, s, "a", at(time.Second), 10, time.Minute), []string{d1.ID})
	mustComplete(t, s, d1.ID, store.Outcome{
		Attempt: store.Attempt{At: at(time.Second), StatusCode: 500, Latency: 10 * time.Millisecond, Error: "HTTP 500"},
		Status:  store.Retrying, NextAttemptAt: at(2 * time.Hour),
	})
	wantIDs(t, "Claim a at 90m", claimIDs(t, s, "a", at(90*time.Minute), 10, time.Minute), []string{d4.ID})
	mustComplete(t, s, d4.ID, store.Outcome{
		Attempt: store.Attempt{At: at(90 * time.Minute), StatusCode: 503, Latency: 20 * time.Millisecond, Error: "HTTP 503"},
		Status:  store.Retrying, NextAttemptAt: at(100 * time.Hour),
	})
	wantIDs(t, "Claim a at 2h", claimIDs(t, s, "a", at(2*time.Hour), 10, time.Minute), []string{d1.ID})
	mustComplete(t, s, d1.ID, store.Outcome{
		Attempt: store.Attempt{At: at(2 * time.Hour), StatusCode: 200, Latency: 30 * time.Millisecond},
		Status:  store.Delivered,
	})
	kill(t, s, d3, at(3*time.Hour)) // 410, 3ms

	// "b": 100 first attempts, all 2xx, latencies 1ms..100ms: the
	// nearest-rank p99 is 99ms, not the maximum (the store's histogram
	// gives it within 5%).
	var targets []target
	for range 100 {
		targets = append(targets, target{route: "r", dest: "b", due: 2 * time.Hour})
	}
	fb := newFixture(at(0), "shop", "order.created", targets...)
	mustAccept(t, s, fb)
	if got := claimIDs(t, s, "b", at(2*time.Hour), 1000, time.Minute); len(got) != 100 {
		t.Fatalf("Claim b = %d deliveries, want 100", len(got))
	}
	for i, d := range fb.ds {
		mustComplete(t, s, d.ID, store.Outcome{
			Attempt: store.Attempt{At: at(2*time.Hour + time.Duration(i)*time.Second), StatusCode: 200 + i%2*4, Latency: time.Duration(100-i) * time.Millisecond},
			Status:  store.Delivered,
		})
	}

	near := func(a, b time.Duration) bool { return (a - b).Abs() <= time.Microsecond }
	// The p99 comes from a histogram (store.Figures): within 5% of the
	// exact nearest rank, and exact below 100 attempts (the maximum).
	nearP99 := func(g, w store.DestinationStats) bool {
		if w.Attempts < 100 {
			return near(g.P99Latency, w.P99Latency)
		}
		return float64((g.P99Latency - w.P99Latency).Abs()) <= 0.05*float64(w.P99Latency)
	}
	check := func(since time.Time, want []store.DestinationStats) {
		t.Helper()
		got, err := s.Stats(ctx, since)
		if err != nil {
			t.Fatalf("Stats(%s): %v", since.Format(time.RFC3339), err)
		}
		if len(got) != len(want) {
			t.Fatalf("Stats(%s) = %+v, want %+v", since.Format(time.RFC3339), got, want)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Destination != w.Destination || g.Pending != w.Pending || g.Retrying != w.Retrying ||
				g.Delivered != w.Delivered || g.Dead != w.Dead || g.Attempts != w.Attempts ||
				g.RetryAttempts != w.RetryAttempts || g.Succeeded != w.Succeeded ||
				math.Abs(g.SuccessRate-w.SuccessRate) > 1e-9 ||
				!near(g.MeanLatency, w.MeanLatency) || !nearP99(g, w) {
				t.Errorf("Stats(%s)[%d]:\n got %+v\nwant %+v", since.Format(time.RFC3339), i, g, w)
			}
		}
	}
	aStates := store.DestinationStats{Destination: "a", Pending: 1, Retrying: 1, Delivered: 1, Dead: 1}
	bAll := store.DestinationStats{Destination: "b", Delivered: 100, Attempts: 100, Succeeded: 100, SuccessRate: 1,
		MeanLatency: 50500 * time.Microsecond, P99Latency: 99 * time.Millisecond}

	// Window from 1h: d1's first attempt (500, 10ms) is outside.
	a := aStates
	a.Attempts, a.RetryAttempts, a.Succeeded, a.SuccessRate = 3, 1, 1, 1.0/3
	a.MeanLatency, a.P99Latency = 53*time.Millisecond/3, 30*time.Millisecond
	check(at(time.Hour), []store.DestinationStats{a, bAll})

	// Every attempt.
	a = aStates
	a.Attempts, a.RetryAttempts, a.Succeeded, a.SuccessRate = 4, 1, 1, 0.25
	a.MeanLatency, a.P99Latency = 63*time.Millisecond/4, 30*time.Millisecond
	check(time.Time{}, []store.DestinationStats{a, bAll})

	// A window after every attempt: states still counted, no attempts.
	check(at(5*time.Hour), []store.DestinationStats{aStates, {Destination: "b", Delivered: 100}})

	// The same windows in one pass, in any order, equal one Stats each.
	sinces := []time.Time{at(5 * time.Hour), time.Time{}, at(time.Hour)}
	windows, err := s.StatsWindows(ctx, sinces)
	if err != nil || len(windows) != len(sinces) {
		t.Fatalf("StatsWindows = %d windows, %v; want %d", len(windows), err, len(sinces))
	}
	for i, since := range sinces {
		one, err := s.Stats(ctx, since)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "StatsWindows["+since.Format(time.RFC3339)+"]", windows[i], one)
	}
}

// testStatsCounts: Stats's state counts stay exact through every change of
// state (Accept, Complete of each outcome and of a finished delivery,
// Retry, Replay, Abandon, Cleanup): they are what a listing of every
// delivery counts, and a destination whose deliveries are all deleted is
// gone.
func testStatsCounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	check := func(step string) {
		t.Helper()
		want := map[string]*store.DestinationStats{}
		for _, st := range []store.Status{store.Pending, store.Retrying, store.Delivered, store.Dead} {
			for _, id := range listAll(t, s, store.Query{Status: st, Limit: 1000}) {
				d, _ := mustDelivery(t, s, id)
				w := want[d.Destination]
				if w == nil {
					w = &store.DestinationStats{Destination: d.Destination}
					want[d.Destination] = w
				}
				switch st {
				case store.Pending:
					w.Pending++
				case store.Retrying:
					w.Retrying++
				case store.Delivered:
					w.Delivered++
				case store.Dead:
					w.Dead++
				}
			}
		}
		got, err := s.Stats(ctx, time.Time{})
		if err != nil {
			t.Fatalf("%s: Stats: %v", step, err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: Stats = %+v, want %d destinations", step, got, len(want))
		}
		for _, g := range got {
			w := want[g.Destination]
			if w == nil {
				t.Errorf("%s: Stats has %q, which has no deliveries", step, g.Destination)
				continue
			}
			if g.Pending != w.Pending || g.Retrying != w.Retrying || g.Delivered != w.Delivered || g.Dead != w.Dead {
				t.Errorf("%s: Stats[%s] = pending %d, retrying %d, delivered %d, dead %d; want %d, %d, %d, %d", step,
					g.Destination, g.Pending, g.Retrying, g.Delivered, g.Dead, w.Pending, w.Retrying, w.Delivered, w.Dead)
			}
		}
	}
	check("empty")
	f := newFixture(at(0), "shop", "order.created",
		target{route: "r", dest: "a"}, target{route: "r", dest: "b"}, target{route: "r", dest: "a"})
	mustAccept(t, s, f)
	a1, b1, a2 := f.ds[0], f.ds[1], f.ds[2]
	kept := accept(t, s, at(0), target{route: "r", dest: "c", due: 100 * time.Hour})
	dd := &store.Dedupe{Key: "k", Window: time.Hour}
	if _, err := s.Accept(ctx, newFixture(at(0), "shop", "x", target{route: "r", dest: "a"}).ev, nil, dd); err != nil {
		t.Fatalf("Accept with a dedupe key: %v", err)
	}
	dup := newFixture(at(time.Second), "shop", "x", target{route: "r", dest: "a"})
	if _, err := s.Accept(ctx, dup.ev, dup.ds, dd); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Accept of a duplicate = %v, want ErrDuplicate", err)
	}
	check("accept")

	wantIDs(t, "Claim a", sorted(claimIDs(t, s, "a", at(time.Second), 10, time.Minute)), sorted([]string{a1.ID, a2.ID}))
	mustComplete(t, s, a1.ID, store.Outcome{Attempt: store.Attempt{At: at(time.Second), StatusCode: 200}, Status: store.Delivered})
	mustComplete(t, s, a2.ID, store.Outcome{Attempt: store.Attempt{At: at(time.Second), StatusCode: 500}, Status: store.Retrying, NextAttemptAt: at(time.Minute)})
	kill(t, s, b1, at(2*time.Second))
	check("complete")
	err := s.Complete(ctx, a1.ID, store.Outcome{Attempt: store.Attempt{At: at(3 * time.Second), StatusCode: 500}, Status: store.Dead})
	wantErr(t, "Complete of a delivered delivery", err, store.ErrConflict)
	check("complete of a finished delivery")

	if err := s.Retry(ctx, a1.ID, at(4*time.Second)); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	check("retry")
	if n, err := s.Replay(ctx, store.ReplayQuery{Destination: "b"}, at(5*time.Second)); err != nil || n != 1 {
		t.Fatalf("Replay(b) = %d, %v; want 1", n, err)
	}
	check("replay")
	if n, err := s.Abandon(ctx, "a", "destination removed", at(10*time.Minute)); err != nil || n != 2 {
		t.Fatalf("Abandon(a) = %d, %v; want 2", n, err)
	}
	check("abandon")
	deliver(t, s, b1, at(11*time.Minute))
	check("deliver")

	if n, err := s.Cleanup(ctx, at(time.Hour), at(time.Hour)); err != nil || n != 2 {
		t.Fatalf("Cleanup = %d, %v; want 2 events", n, err)
	}
	check("cleanup")
	wantStatus(t, s, kept.ID, store.Pending)
}

// testStatsMinutes: windows are whole minutes. A window that starts in
// the middle of a minute counts every attempt of that minute, and none of
// the minute before; attempts of one minute, and of one hour, add up.
func testStatsMinutes(t *testing.T, s store.Store) {
	ctx := context.Background()
	var ds []*store.Delivery
	for range 4 {
		ds = append(ds, accept(t, s, at(0), target{route: "r", dest: "m"}))
	}
	if got := claimIDs(t, s, "m", at(0), 10, 2*time.Hour); len(got) != 4 {
		t.Fatalf("Claim m = %v, want 4 deliveries", got)
	}
	for i, off := range []time.Duration{59 * time.Second, 60 * time.Second, 119 * time.Second, 61 * time.Minute} {
		mustComplete(t, s, ds[i].ID, store.Outcome{
			Attempt: store.Attempt{At: at(off), StatusCode: 200, Latency: time.Duration(i+1) * time.Millisecond},
			Status:  store.Delivered,
		})
	}
	for _, tc := range []struct {
		since    time.Duration
		attempts int
		mean     time.Duration
	}{
		{0, 4, 2500 * time.Microsecond},
		{30 * time.Second, 4, 2500 * time.Microsecond},
		{60 * time.Second, 3, 3 * time.Millisecond},
		{90 * time.Second, 3, 3 * time.Millisecond},
		{120 * time.Second, 1, 4 * time.Millisecond},
		{time.Hour + 30*time.Second, 1, 4 * time.Millisecond},
		{61*time.Minute + 59*time.Second, 1, 4 * time.Millisecond},
		{62 * time.Minute, 0, 0},
	} {
		got, err := s.Stats(ctx, at(tc.since))
		if err != nil || len(got) != 1 {
			t.Fatalf("Stats(+%s) = %+v, %v; want m", tc.since, got, err)
		}
		if g := got[0]; g.Attempts != tc.attempts || g.MeanLatency != tc.mean || g.Delivered != 4 {
			t.Errorf("Stats(+%s) = %d attempts, mean %s, %d delivered; want %d, %s, 4", tc.since, g.Attempts, g.MeanLatency, g.Delivered, tc.attempts, tc.mean)
		}
	}
}

// testAcceptLeased: a delivery accepted with a LeaseUntil is the caller's
// (ingest hands it to the engine in memory): no Claim returns it before
// the lease ends, NextDue reports the lease's end, Complete records its
// attempt as for a claimed one, and a lost holder's lease ends by itself.
func testAcceptLeased(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := newFixture(at(0), "shop", "order.created",
		target{route: "r1", dest: "a"}, target{route: "r2", dest: "a"}, target{route: "r3", dest: "a"})
	f.ds[0].LeaseUntil = at(time.Minute)
	f.ds[1].LeaseUntil = at(time.Minute)
	mustAccept(t, s, f)

	wantIDs(t, "Claim at t0", claimIDs(t, s, "a", at(0), 10, time.Minute), []string{f.ds[2].ID})
	next, ok, err := s.NextDue(ctx, "a")
	if err != nil || !ok {
		t.Fatalf("NextDue = %v, %v, %v", next, ok, err)
	}
	wantTime(t, "NextDue", next, at(0).Add(time.Minute))
	d, _ := mustDelivery(t, s, f.ds[0].ID)
	if d.Status != store.Pending || !d.LeaseUntil.IsZero() {
		t.Errorf("leased delivery reads back as %s with LeaseUntil %v, want pending and zero", d.Status, d.LeaseUntil)
	}
	// The holder attempts ds[0]; it is delivered and never claimed.
	mustComplete(t, s, f.ds[0].ID, store.Outcome{
		Attempt: store.Attempt{At: at(time.Second), StatusCode: 200, Latency: time.Millisecond},
		Status:  store.Delivered,
	})
	// ds[1]'s holder died: once its lease ends, it is due for anyone.
	wantIDs(t, "Claim before the lease ends", claimIDs(t, s, "a", at(59*time.Second), 10, time.Minute), nil)
	// (ds[2]'s claim at t0 has ended by then too.)
	wantIDs(t, "Claim after the lease ends", claimIDs(t, s, "a", at(2*time.Minute), 10, time.Minute), []string{f.ds[1].ID, f.ds[2].ID})
	wantStatus(t, s, f.ds[0].ID, store.Delivered)

	// A duplicate stores nothing and leases nothing.
	g := newFixture(at(0), "shop", "order.created", target{route: "r1", dest: "b"})
	dd := &store.Dedupe{Key: "k", Window: time.Hour}
	if _, err := s.Accept(ctx, g.ev, g.ds, dd); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	h := newFixture(at(time.Second), "shop", "order.created", target{route: "r1", dest: "b"})
	h.ds[0].LeaseUntil = at(time.Hour)
	if _, err := s.Accept(ctx, h.ev, h.ds, dd); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("second Accept = %v, want ErrDuplicate", err)
	}
	wantIDs(t, "Claim(b)", claimIDs(t, s, "b", at(2*time.Second), 10, time.Minute), []string{g.ds[0].ID})
}

// testRelease: Release hands leased deliveries back without an attempt:
// due again at once at their NextAttemptAt, with no attempt recorded;
// releasing what is not leased changes nothing.
func testRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := newFixture(at(0), "shop", "order.created",
		target{route: "r1", dest: "a"}, target{route: "r2", dest: "b"})
	f.ds[0].LeaseUntil = at(time.Hour)
	mustAccept(t, s, f)
	claimed := claimIDs(t, s, "b", at(0), 10, time.Hour)
	wantIDs(t, "Claim(b)", claimed, []string{f.ds[1].ID})
	wantIDs(t, "Claim(a) while leased", claimIDs(t, s, "a", at(0), 10, time.Minute), nil)

	if err := s.Release(ctx, f.ds); err != nil {
		t.Fatalf("Release: %v", err)
	}
	wantIDs(t, "Claim(a) after Release", claimIDs(t, s, "a", at(time.Second), 10, time.Minute), []string{f.ds[0].ID})
	wantIDs(t, "Claim(b) after Release", claimIDs(t, s, "b", at(time.Second), 10, time.Minute), []string{f.ds[1].ID})
	for _, d := range f.ds {
		got, as := mustDelivery(t, s, d.ID)
		if got.Status != store.Pending || len(as) != 0 {
			t.Errorf("%s after Release: %s with %d attempts, want pending with none", d.ID, got.Status, len(as))
		}
	}
	// A finished delivery stays finished.
	mustComplete(t, s, f.ds[0].ID, store.Outcome{
		Attempt: store.Attempt{At: at(2 * time.Second), StatusCode: 200, Latency: time.Millisecond},
		Status:  store.Delivered,
	})
	if err := s.Release(ctx, f.ds[:1]); err != nil {
		t.Fatalf("Release of a delivered one: %v", err)
	}
	wantStatus(t, s, f.ds[0].ID, store.Delivered)
	wantIDs(t, "Claim(a) after releasing a delivered one", claimIDs(t, s, "a", at(time.Hour), 10, time.Minute), nil)
}
