package store

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestLatencyBuckets(t *testing.T) {
	if n := LatencyBuckets; n < 150 || n > 170 {
		t.Errorf("LatencyBuckets = %d, want about 160 (10%% steps from 100µs to 5min)", n)
	}
	if got := LatencyBound(0); got != 100*time.Microsecond {
		t.Errorf("LatencyBound(0) = %s, want 100µs", got)
	}
	if got := LatencyBound(LatencyBuckets - 2); got < 5*time.Minute || got > 6*time.Minute {
		t.Errorf("last bound = %s, want about 5min", got)
	}
	for _, d := range []time.Duration{-time.Second, 0, time.Microsecond} {
		if got := LatencyBucket(d); got != 0 {
			t.Errorf("LatencyBucket(%s) = %d, want 0", d, got)
		}
	}
	if got := LatencyBucket(time.Hour); got != LatencyBuckets-1 {
		t.Errorf("LatencyBucket(1h) = %d, want the last, %d", got, LatencyBuckets-1)
	}
	for i := range LatencyBuckets - 1 {
		b := LatencyBound(i)
		if got := LatencyBucket(b); got != i+1 {
			t.Errorf("LatencyBucket(bound %d = %s) = %d, want %d", i, b, got, i+1)
		}
		if got := LatencyBucket(b - 1); got != i {
			t.Errorf("LatencyBucket(bound %d - 1ns) = %d, want %d", i, got, i)
		}
		if i > 0 {
			if r := float64(b) / float64(LatencyBound(i-1)); math.Abs(r-1.1) > 0.001 {
				t.Errorf("bound %d / bound %d = %.4f, want 1.1", i, i-1, r)
			}
		}
	}
}

// TestFiguresP99: the histogram's p99 is within 5% of the exact
// nearest-rank p99, and exact below 100 attempts.
func TestFiguresP99(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		n := 1 + rng.IntN(3000)
		if trial%5 == 0 {
			n = 1 + rng.IntN(99)
		}
		lats := make([]time.Duration, n)
		var f Figures
		// Log-uniform between 100µs and 5min, or clustered around one
		// value (a healthy endpoint).
		center := math.Log(float64(100*time.Microsecond)) + rng.Float64()*math.Log(3e6)
		for i := range lats {
			x := math.Log(float64(100*time.Microsecond)) + rng.Float64()*math.Log(3e6)
			if trial%2 == 1 {
				x = center + rng.NormFloat64()*0.3
			}
			lats[i] = time.Duration(min(math.Exp(x), float64(5*time.Minute)))
			f.Add(1, 200, lats[i])
		}
		slices.Sort(lats)
		want, got := P99(lats), f.P99()
		if n < 100 && got != want {
			t.Fatalf("trial %d: %d attempts: P99 = %s, want exactly %s", trial, n, got, want)
		}
		if err := math.Abs(float64(got-want)) / float64(want); err > 0.05 {
			t.Fatalf("trial %d: %d attempts: P99 = %s, exact %s: off by %.1f%%", trial, n, got, want, 100*err)
		}
	}
	var f Figures
	if f.P99() != 0 {
		t.Errorf("P99 without attempts = %s, want 0", f.P99())
	}
}

// TestFiguresMerge: merging per-minute figures gives the figures of all
// their attempts.
func TestFiguresMerge(t *testing.T) {
	var all, a, b Figures
	for i := range 300 {
		d := time.Duration(i+1) * time.Millisecond
		n, code := 1+i%3, 200+i%2*300
		all.Add(n, code, d)
		if i%7 < 3 {
			a.Add(n, code, d)
		} else {
			b.Add(n, code, d)
		}
	}
	var m Figures
	m.Merge(&a)
	m.Merge(&Figures{})
	m.Merge(&b)
	if m.Attempts != all.Attempts || m.RetryAttempts != all.RetryAttempts || m.Succeeded != all.Succeeded ||
		m.LatencySum != all.LatencySum || m.MinLatency != all.MinLatency || m.MaxLatency != all.MaxLatency ||
		!slices.Equal(m.Hist, all.Hist) {
		t.Errorf("merged = %+v, want %+v", m, all)
	}
}

func TestMinute(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(59, 999), 0},
		{time.Unix(60, 0), 1},
		{time.Unix(-1, 0), -1},
		{time.Unix(-60, 0), -1},
		{time.Unix(-61, 0), -2},
	} {
		if got := Minute(tc.t); got != tc.want {
			t.Errorf("Minute(%d s) = %d, want %d", tc.t.Unix(), got, tc.want)
		}
	}
}
