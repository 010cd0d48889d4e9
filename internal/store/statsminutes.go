package store

import (
	"context"
	"slices"
	"strings"
	"time"
)

// MinuteStats are one destination's attempts of one minute, for charts.
type MinuteStats struct {
	// Minute is the minute's start.
	Minute time.Time
	// Attempts made then, and how many were answered 2xx.
	Attempts  int
	Succeeded int
	// P99 approximates the nearest-rank 99th percentile of their
	// latencies, as DestinationStats.P99Latency does (0 without attempts).
	P99 time.Duration
}

// Failed is how many of the minute's attempts were not answered 2xx.
func (m MinuteStats) Failed() int { return m.Attempts - m.Succeeded }

// MinuteStatser is a store that gives per-minute attempt figures; both
// stores are.
type MinuteStatser interface {
	// StatsMinutes returns, per destination with a stored delivery, n
	// entries: the minute holding since and the n-1 following, oldest
	// first (minutes without attempts are zeros).
	StatsMinutes(ctx context.Context, since time.Time, n int) (map[string][]MinuteStats, error)
}

// MaxChartMinutes bounds StatsMinutes's n.
const MaxChartMinutes = 24 * 60

// MinuteSinces are the window starts StatsMinutes builds on: one per
// minute from since's on, and one after the last, so each of the first n
// segments is one minute.
func MinuteSinces(since time.Time, n int) []time.Time {
	n = min(max(n, 1), MaxChartMinutes)
	first := time.Unix(Minute(since)*60, 0).UTC()
	out := make([]time.Time, n+1)
	for i := range out {
		out[i] = first.Add(time.Duration(i) * time.Minute)
	}
	return out
}

// Minutes returns, per destination, the figures of each segment but the
// last, for a builder made with MinuteSinces: one entry per minute.
func (b *StatsBuilder) Minutes() map[string][]MinuteStats {
	out := map[string][]MinuteStats{}
	names := make([]string, 0, len(b.dests))
	for name, d := range b.dests {
		if d.counts != [4]int{} {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, strings.Compare)
	for _, name := range names {
		d := b.dests[name]
		ms := make([]MinuteStats, 0, max(len(b.segs)-1, 0))
		for j := 0; j+1 < len(b.segs); j++ {
			f := &d.segs[j]
			m := MinuteStats{Minute: time.Unix(b.segs[j]*60, 0).UTC(), Attempts: int(f.Attempts), Succeeded: int(f.Succeeded)}
			if f.Attempts > 0 {
				m.P99 = f.P99()
			}
			ms = append(ms, m)
		}
		out[name] = ms
	}
	return out
}

// MinuteStatsZeros returns n minutes without attempts from since's, for a
// destination that has none stored.
func MinuteStatsZeros(since time.Time, n int) []MinuteStats {
	s := MinuteSinces(since, n)
	out := make([]MinuteStats, len(s)-1)
	for i := range out {
		out[i].Minute = s[i]
	}
	return out
}
