package embedded

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/store"
)

// TestMinuteAdd: adding attempts one by one to a minute's value (as
// Complete does) encodes what the figures of all of them encode.
func TestMinuteAdd(t *testing.T) {
	var (
		v    []byte
		want store.Figures
	)
	lats := []time.Duration{30 * time.Millisecond, 0, time.Hour, 30 * time.Millisecond, 50 * time.Microsecond,
		2 * time.Second, 31 * time.Millisecond, 29 * time.Millisecond}
	for i, lat := range lats {
		n, code := 1+i%2, []int{200, 503, 0, 204}[i%4]
		var err error
		if v, err = minuteAdd(v, n > 1, code/100 == 2, lat); err != nil {
			t.Fatalf("minuteAdd: %v", err)
		}
		want.Add(n, code, lat)
		if got := encodeMinute(&want); !slices.Equal(v, got) {
			t.Fatalf("after %d attempts: minuteAdd gives %x, encodeMinute %x", i+1, v, got)
		}
		var f store.Figures
		if err := decodeMinute(v, &f); err != nil {
			t.Fatalf("decodeMinute: %v", err)
		}
		if f.Attempts != want.Attempts || f.RetryAttempts != want.RetryAttempts || f.Succeeded != want.Succeeded ||
			f.LatencySum != want.LatencySum || f.MinLatency != want.MinLatency || f.MaxLatency != want.MaxLatency ||
			!slices.Equal(f.Hist, want.Hist) {
			t.Fatalf("decoded %+v, want %+v", f, want)
		}
	}
	for _, bad := range [][]byte{{}, {0x7f}, {minuteFormat, 1}, append(encodeMinute(&want), 0x80)} {
		if _, err := minuteAdd(bad, false, true, time.Millisecond); err == nil {
			t.Errorf("minuteAdd(%x) accepted a damaged value", bad)
		}
	}
}

// TestCountsBuiltAtOpen: a file without counters (written by an earlier
// version) is counted at Open, once, to the same figures the writes keep.
func TestCountsBuiltAtOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookgate.db")
	t0 := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return t0.Add(2 * time.Hour) }
	s, err := Open(path, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 12 {
		ids = append(ids, accept(t, s, t0, []string{"a", "b", "c"}[i%3]))
	}
	for _, dest := range []string{"a", "b", "c"} {
		claim(t, s, dest, t0, time.Minute)
	}
	for i, id := range ids[:9] {
		st := []store.Status{store.Delivered, store.Retrying, store.Dead}[i%3]
		o := store.Outcome{Attempt: store.Attempt{At: t0.Add(time.Duration(i) * time.Minute), StatusCode: 200 + 300*(i%2),
			Latency: time.Duration(i+1) * time.Millisecond}, Status: st}
		if err := s.Complete(ctx, id, o); err != nil {
			t.Fatalf("Complete: %v", err)
		}
	}
	sinces := []time.Time{{}, t0.Add(4 * time.Minute)}
	want, err := s.StatsWindows(ctx, sinces)
	if err != nil {
		t.Fatal(err)
	}
	if len(want[0]) != 3 || want[0][0].Attempts == 0 {
		t.Fatalf("Stats = %+v, want three destinations with attempts", want[0])
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Forget the counters, as a file written before them.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketCounts, bucketMinutes} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(countsReady)
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	got, err := s.StatsWindows(ctx, sinces)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sinces {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("window %d after a rebuild:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// TestCleanupDropsMinutes: Cleanup deletes the attempt figures older than
// store.StatsRetention before its now, and keeps the rest.
func TestCleanupDropsMinutes(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	t0 := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	for i, off := range []time.Duration{0, 10 * time.Hour, 20 * time.Hour} {
		id := accept(t, s, t0, "a")
		claim(t, s, "a", t0.Add(off), time.Minute)
		o := store.Outcome{Attempt: store.Attempt{At: t0.Add(off), StatusCode: 500, Latency: time.Millisecond}, Status: store.Retrying,
			NextAttemptAt: t0.Add(100 * time.Hour)}
		if err := s.Complete(ctx, id, o); err != nil {
			t.Fatalf("Complete %d: %v", i, err)
		}
	}
	if _, err := s.Cleanup(ctx, t0, t0.Add(store.StatsRetention+10*time.Hour+time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Stats(ctx, time.Time{})
	if err != nil || len(got) != 1 {
		t.Fatalf("Stats = %+v, %v", got, err)
	}
	if got[0].Attempts != 1 || got[0].Retrying != 3 {
		t.Errorf("after Cleanup: %d attempts, %d retrying; want 1 (the older minutes dropped), 3", got[0].Attempts, got[0].Retrying)
	}
}
