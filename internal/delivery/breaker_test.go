package delivery

import (
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
)

// TestBreaker walks the breaker through its states: closed opens after N
// consecutive failures (a success in between starts the count again), open
// lets nothing through until its cooldown ends, half open lets one probe
// through, whose success closes it and whose failure re-opens it for
// another cooldown.
func TestBreaker(t *testing.T) {
	cfg := &config.Breaker{Failures: 3, Cooldown: 10 * time.Second}
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var b breaker
	check := func(step string, now time.Time, wantAllowed int, wantWait time.Duration, want State) {
		t.Helper()
		allowed, wait := b.gate(cfg, now)
		if allowed != wantAllowed || wait != wantWait || b.current() != want {
			t.Fatalf("%s: gate = %d, %s, state %s; want %d, %s, %s", step, allowed, wait, b.current(), wantAllowed, wantWait, want)
		}
	}
	check("new", t0, -1, 0, Closed)
	b.observe(cfg, false, t0)
	b.observe(cfg, false, t0)
	b.observe(cfg, true, t0)
	b.observe(cfg, false, t0)
	b.observe(cfg, false, t0)
	check("four failures, not consecutive", t0, -1, 0, Closed)
	if !b.observe(cfg, false, t0) {
		t.Fatal("the third consecutive failure did not open the breaker")
	}
	check("opened", t0.Add(time.Second), 0, 9*time.Second, Open)
	if b.observe(cfg, false, t0.Add(2*time.Second)) || b.observe(cfg, true, t0.Add(2*time.Second)) {
		t.Fatal("an attempt that started before the breaker opened changed it")
	}
	check("open, a straggler's success", t0.Add(2*time.Second), 0, 8*time.Second, Open)
	check("cooldown over", t0.Add(10*time.Second), 1, 0, HalfOpen)
	b.started()
	check("probe out", t0.Add(10*time.Second), 0, 0, HalfOpen)
	if !b.observe(cfg, false, t0.Add(11*time.Second)) {
		t.Fatal("a failed probe did not re-open the breaker")
	}
	check("probe failed", t0.Add(12*time.Second), 0, 9*time.Second, Open)
	check("second cooldown over", t0.Add(21*time.Second), 1, 0, HalfOpen)
	b.started()
	b.observe(cfg, true, t0.Add(21*time.Second))
	check("probe succeeded", t0.Add(21*time.Second), -1, 0, Closed)
	b.observe(cfg, false, t0)
	b.observe(cfg, false, t0)
	check("closed counts from zero again", t0.Add(22*time.Second), -1, 0, Closed)
	b.gate(nil, t0)
	check("breaker removed by a reload, then added back", t0.Add(22*time.Second), -1, 0, Closed)
	if b.fails != 0 {
		t.Errorf("a removed breaker kept %d failures", b.fails)
	}
}

// TestBreakerCountsEveryFailure: a 410 (which dead-letters its delivery),
// a 429, a 500 and a transport error all count as failures for the
// breaker; only a 2xx is a success.
func TestBreakerCountsEveryFailure(t *testing.T) {
	d := &config.Destination{Name: "d", MaxConcurrency: 4, Breaker: &config.Breaker{Failures: 4, Cooldown: time.Minute}}
	set := &destSettings{dest: d, max: 4}
	h := newHealth()
	now := time.Now()
	for i, r := range []result{{Status: 410}, {Status: 429}, {Status: 500}, {Err: "connection refused", ErrType: "connection_refused"}} {
		if opened := h.observe(set, r, 1, now); opened != (i == 3) {
			t.Fatalf("failure %d (%+v): opened = %v", i+1, r, opened)
		}
	}
	if st, _ := h.snapshot(set); st != Open {
		t.Fatalf("state %s after four failures, want open", st)
	}
	if h.accepting() {
		t.Error("an open breaker accepts hand-overs")
	}
	if _, wait := h.gate(set, now, time.Second); wait != time.Minute {
		t.Errorf("gate waits %s, want the cooldown", wait)
	}
}

// TestPauseGate: a paused destination lets nothing start, whatever its
// breaker, and takes no hand-over; resuming restores the capacity.
func TestPauseGate(t *testing.T) {
	d := &config.Destination{Name: "d", MaxConcurrency: 7}
	set := &destSettings{dest: d, max: 7}
	h := newHealth()
	h.setPaused(true)
	if c, wait := h.gate(set, time.Now(), time.Second); c != 0 || wait != time.Second {
		t.Fatalf("paused: gate = %d, %s; want 0, the poll", c, wait)
	}
	if st, _ := h.snapshot(set); st != Paused || h.accepting() {
		t.Fatalf("paused: state %s, accepting %v", st, h.accepting())
	}
	select {
	case <-h.poke:
	default:
		t.Fatal("pausing did not wake the loop")
	}
	h.setPaused(false)
	if c, wait := h.gate(set, time.Now(), time.Second); c != 7 || wait != 0 {
		t.Fatalf("resumed: gate = %d, %s; want 7, 0", c, wait)
	}
}

// TestAIMD: congestion halves the limit once per round and not below 1;
// successes grow it back to the ceiling (the attempts in flight when the
// receiver pushed back, less one) quickly and beyond it slowly, up to max.
func TestAIMD(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var a aimd
	if got := a.current(32); got != 32 {
		t.Fatalf("starts at %d, want max_concurrency 32", got)
	}
	ok := func(at time.Time) result { return result{Status: 200, At: at, End: at} }
	busy := func(at time.Time) result { return result{Status: 429, At: at, End: at.Add(time.Millisecond)} }
	// A burst of 429s from one round halves once.
	for range 10 {
		a.observe(32, busy(t0), 32)
	}
	if got := a.current(32); got != 16 {
		t.Fatalf("after one round of 429s: %d, want 16", got)
	}
	a.observe(32, result{Status: 503, At: t0.Add(time.Second), End: t0.Add(time.Second)}, 12)
	if got := a.current(32); got != 8 {
		t.Fatalf("after a 503 in the next round: %d, want 8", got)
	}
	a.observe(32, result{Status: 0, ErrType: "timeout", At: t0.Add(2 * time.Second), End: t0.Add(2 * time.Second)}, 9)
	if got := a.current(32); got != 4 {
		t.Fatalf("after a timeout: %d, want 4", got)
	}
	for i := range 10 {
		at := t0.Add(time.Duration(3+i) * time.Second)
		a.observe(32, busy(at), 1)
	}
	if got := a.current(32); got != 1 {
		t.Fatalf("after many rounds of 429s: %d, want 1 (never below)", got)
	}
	// Successes grow it back; the ceiling was set by the attempts in
	// flight at the congestion (9 → 8).
	a = aimd{}
	a.current(32)
	a.observe(32, busy(t0), 9)
	if a.ceiling != 16 {
		// halved to 16, and the ceiling is never below the limit
		t.Fatalf("ceiling %v, want 16", a.ceiling)
	}
	a.observe(32, busy(t0.Add(time.Second)), 9)
	if a.current(32) != 8 || a.ceiling != 8 {
		t.Fatalf("limit %d ceiling %v, want 8 and 8", a.current(32), a.ceiling)
	}
	a.observe(32, busy(t0.Add(2*time.Second)), 9)
	if a.current(32) != 4 {
		t.Fatalf("limit %d, want 4", a.current(32))
	}
	n := 0
	for a.current(32) < 8 {
		a.observe(32, ok(t0.Add(3*time.Second)), 4)
		n++
		if n > 100 {
			t.Fatalf("100 successes did not grow 4 back to 8 (at %v)", a.limit)
		}
	}
	for range 8*ceilingLift - 1 {
		a.observe(32, ok(t0.Add(4*time.Second)), 8)
	}
	if got := a.current(32); got != 8 {
		t.Fatalf("grew past its ceiling to %d within %d successes", got, 8*ceilingLift-1)
	}
	for range 2 + 9*ceilingLift {
		a.observe(32, ok(t0.Add(5*time.Second)), 8)
	}
	if got := a.current(32); got < 9 {
		t.Fatalf("a receiver calm for %d rounds was not probed above the ceiling: %d", ceilingLift, got)
	}
	for range 100000 {
		a.observe(32, ok(t0.Add(6*time.Second)), 8)
	}
	if got := a.current(32); got != 32 {
		t.Fatalf("a calm receiver grew to %d, want max_concurrency 32", got)
	}
}
