package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// testPauses: a pause is kept until resumed, keeps its first time, is
// independent per destination, and a name no store can key is refused.
func testPauses(t *testing.T, s store.Store) {
	ctx := context.Background()
	if p, err := s.Paused(ctx); err != nil || len(p) != 0 {
		t.Fatalf("a new store: Paused = %v, %v; want none", p, err)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := s.Pause(ctx, "crm", at); err != nil {
		t.Fatal(err)
	}
	if err := s.Pause(ctx, "crm", at.Add(time.Hour)); err != nil {
		t.Fatalf("pausing a paused destination: %v", err)
	}
	if err := s.Pause(ctx, "warehouse", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p, err := s.Paused(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2 || !p["crm"].At.Equal(at) || !p["warehouse"].At.Equal(at.Add(time.Minute)) {
		t.Fatalf("Paused = %v, want crm at %s (its first pause) and warehouse", p, at)
	}
	if err := s.Resume(ctx, "crm"); err != nil {
		t.Fatal(err)
	}
	if err := s.Resume(ctx, "crm"); err != nil {
		t.Fatalf("resuming a destination not paused: %v", err)
	}
	if err := s.Resume(ctx, "never_paused"); err != nil {
		t.Fatalf("resuming a destination never paused: %v", err)
	}
	p, err = s.Paused(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p["crm"]; ok || len(p) != 1 {
		t.Fatalf("after resuming crm: Paused = %v, want warehouse only", p)
	}
	for _, bad := range []string{"", "a{b}", "nul\x00"} {
		if err := s.Pause(ctx, bad, at); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Pause(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// testStatsMinutes: per-minute figures for charts: each minute's attempts,
// successes and p99 apart, zeros for a minute without attempts.
func testStatsMinutesChart(t *testing.T, s store.Store) {
	ms, ok := s.(store.MinuteStatser)
	if !ok {
		t.Fatal("the store gives no per-minute figures (store.MinuteStatser)")
	}
	ctx := context.Background()
	var ds []*store.Delivery
	for range 4 {
		ds = append(ds, accept(t, s, at(0), target{route: "r", dest: "m"}))
	}
	if got := claimIDs(t, s, "m", at(0), 10, 2*time.Hour); len(got) != 4 {
		t.Fatalf("Claim m = %v, want 4 deliveries", got)
	}
	outcomes := []struct {
		off     time.Duration
		code    int
		latency time.Duration
	}{{10 * time.Second, 200, time.Millisecond}, {20 * time.Second, 500, 3 * time.Millisecond}, {130 * time.Second, 200, 7 * time.Millisecond}, {140 * time.Second, 200, 9 * time.Millisecond}}
	for i, o := range outcomes {
		st := store.Delivered
		var next time.Time
		if o.code != 200 {
			st, next = store.Retrying, at(time.Hour)
		}
		mustComplete(t, s, ds[i].ID, store.Outcome{
			Attempt: store.Attempt{At: at(o.off), StatusCode: o.code, Latency: o.latency}, Status: st, NextAttemptAt: next,
		})
	}
	got, err := ms.StatsMinutes(ctx, at(0), 4)
	if err != nil {
		t.Fatal(err)
	}
	m := got["m"]
	if len(m) != 4 {
		t.Fatalf("StatsMinutes = %+v, want 4 minutes of m", got)
	}
	want := []struct{ attempts, ok int }{{2, 1}, {0, 0}, {2, 2}, {0, 0}}
	for i, w := range want {
		if m[i].Attempts != w.attempts || m[i].Succeeded != w.ok || m[i].Failed() != w.attempts-w.ok {
			t.Errorf("minute %d: %+v, want %d attempts, %d succeeded", i, m[i], w.attempts, w.ok)
		}
		if !m[i].Minute.Equal(time.Unix(store.Minute(at(0))*60, 0).Add(time.Duration(i) * time.Minute)) {
			t.Errorf("minute %d starts at %s", i, m[i].Minute)
		}
	}
	if m[0].P99 != 3*time.Millisecond || m[2].P99 != 9*time.Millisecond || m[1].P99 != 0 {
		t.Errorf("p99s %s %s %s, want 3ms (the greatest of minute 0), 0, 9ms", m[0].P99, m[1].P99, m[2].P99)
	}
}
