package store

import (
	"math"
	"slices"
	"time"
)

// Attempt figures are kept per destination and per minute, as Figures:
// counts, the latency sum, the extreme latencies and a histogram of
// latencies over fixed log-scale buckets. A window adds up the minutes it
// covers, so reading it costs the same however many deliveries are
// stored.
//
// The histogram's buckets grow by 10% a step from 100 µs to 5 min:
// bucket 0 holds latencies under LatencyBound(0) = 100 µs, bucket i
// (1 <= i < LatencyBuckets-1) those in [LatencyBound(i-1),
// LatencyBound(i)), and the last one those of 5 min and more. A
// percentile read from it is the geometric middle of its bucket, clamped
// to the window's least and greatest latency: within 5% (√1.1 − 1) of the
// exact value between 100 µs and 5 min. The p99 is exact when the window
// holds fewer than 100 attempts, since it is then the greatest latency,
// which is kept exactly.
const (
	latencyFirst  = 100 * time.Microsecond
	latencyLast   = 5 * time.Minute
	latencyGrowth = 1.1
)

// latencyBounds are the buckets' upper bounds (exclusive), in ascending
// order: latencyFirst·1.1^i, rounded to the nanosecond, up to the first
// at or beyond latencyLast.
var latencyBounds = func() []time.Duration {
	var bs []time.Duration
	for i := 0; ; i++ {
		b := time.Duration(math.Round(float64(latencyFirst) * math.Pow(latencyGrowth, float64(i))))
		bs = append(bs, b)
		if b >= latencyLast {
			return bs
		}
	}
}()

// LatencyBuckets is how many buckets the latency histogram has: one below
// 100 µs, one per 10% step up to 5 min, one above.
var LatencyBuckets = len(latencyBounds) + 1

// LatencyBound is the upper bound (exclusive) of histogram bucket i, for i
// < LatencyBuckets-1.
func LatencyBound(i int) time.Duration { return latencyBounds[i] }

// LatencyBucket is the histogram bucket of latency d.
func LatencyBucket(d time.Duration) int {
	i, found := slices.BinarySearch(latencyBounds, d)
	if found {
		i++ // a bound is the first latency of the next bucket
	}
	return i
}

// latencyMiddle is the value a percentile that falls in bucket i reports
// before clamping: the geometric middle of its bounds (the bucket under
// 100 µs: its half; the one above 5 min: its lower bound).
func latencyMiddle(i int) time.Duration {
	switch {
	case i == 0:
		return latencyBounds[0] / 2
	case i >= len(latencyBounds):
		return latencyBounds[len(latencyBounds)-1]
	}
	return time.Duration(math.Sqrt(float64(latencyBounds[i-1]) * float64(latencyBounds[i])))
}

// Figures sum up attempts: one destination's in one minute as stores keep
// them, or a window's as StatsBuilder adds them up.
type Figures struct {
	Attempts      int64
	RetryAttempts int64 // attempts with N > 1
	Succeeded     int64 // attempts answered with a 2xx
	LatencySum    time.Duration
	// MinLatency and MaxLatency are the least and greatest latency (0
	// without attempts).
	MinLatency, MaxLatency time.Duration
	// Hist counts attempts per latency bucket (LatencyBucket); nil until
	// an attempt is added.
	Hist []int64
}

// Add adds attempt number n, answered with HTTP status code (0: no answer)
// after latency.
func (f *Figures) Add(n, code int, latency time.Duration) {
	if n > 1 {
		f.RetryAttempts++
	}
	if code/100 == 2 {
		f.Succeeded++
	}
	f.AddLatency(1, latency, latency, latency)
	f.count(LatencyBucket(latency), 1)
}

// AddLatency adds attempts latencies to the count, sum and extremes
// (without the histogram: see AddBucket).
func (f *Figures) AddLatency(attempts int64, sum, least, greatest time.Duration) {
	if attempts <= 0 {
		return
	}
	if f.Attempts == 0 || least < f.MinLatency {
		f.MinLatency = least
	}
	if f.Attempts == 0 || greatest > f.MaxLatency {
		f.MaxLatency = greatest
	}
	f.Attempts += attempts
	f.LatencySum += sum
}

// AddBucket adds n attempts to histogram bucket i (ignored when out of
// range).
func (f *Figures) AddBucket(i int, n int64) {
	if i >= 0 && i < LatencyBuckets && n > 0 {
		f.count(i, n)
	}
}

func (f *Figures) count(i int, n int64) {
	if f.Hist == nil {
		f.Hist = make([]int64, LatencyBuckets)
	}
	f.Hist[i] += n
}

// Merge adds g to f.
func (f *Figures) Merge(g *Figures) {
	if g.Attempts == 0 {
		return
	}
	f.RetryAttempts += g.RetryAttempts
	f.Succeeded += g.Succeeded
	f.AddLatency(g.Attempts, g.LatencySum, g.MinLatency, g.MaxLatency)
	for i, n := range g.Hist {
		if n > 0 {
			f.count(i, n)
		}
	}
}

// P99 is the nearest-rank 99th percentile of the latencies, read from the
// histogram (see Figures for its precision); 0 without attempts.
func (f *Figures) P99() time.Duration {
	n := f.Attempts
	if n == 0 {
		return 0
	}
	rank := (99*n + 99) / 100
	if rank == n {
		return f.MaxLatency
	}
	var seen int64
	for i, c := range f.Hist {
		if seen += c; seen >= rank {
			return min(max(latencyMiddle(i), f.MinLatency), f.MaxLatency)
		}
	}
	return f.MaxLatency // a histogram short of Attempts: damaged figures
}
