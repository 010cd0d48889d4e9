package store

import (
	"slices"
	"strings"
	"time"
)

// StatsBuilder sums deliveries and attempts up into DestinationStats for
// several windows in one pass over a store's records, so a page that
// shows the last hour and the last day reads them once. Stores feed it
// their state counts and every attempt at or after Earliest().
type StatsBuilder struct {
	sinces []time.Time
	dests  map[string]*destAcc
}

// destAcc is one destination's figures: state counts, and per window its
// attempt figures with every latency (the p99 is exact).
type destAcc struct {
	counts    [4]int // Pending, Retrying, Delivered, Dead
	windows   []DestinationStats
	total     []time.Duration
	latencies [][]time.Duration
}

// NewStatsBuilder returns a builder of the windows starting at sinces.
func NewStatsBuilder(sinces []time.Time) *StatsBuilder {
	return &StatsBuilder{sinces: sinces, dests: map[string]*destAcc{}}
}

// Earliest is the start of the widest window: older attempts count in
// none.
func (b *StatsBuilder) Earliest() time.Time {
	var t time.Time
	for i, s := range b.sinces {
		if i == 0 || s.Before(t) {
			t = s
		}
	}
	return t
}

func (b *StatsBuilder) dest(name string) *destAcc {
	d := b.dests[name]
	if d == nil {
		n := len(b.sinces)
		d = &destAcc{windows: make([]DestinationStats, n), total: make([]time.Duration, n), latencies: make([][]time.Duration, n)}
		b.dests[name] = d
	}
	return d
}

// Count adds n deliveries of destination in state st.
func (b *StatsBuilder) Count(destination string, st Status, n int) {
	if n == 0 {
		return
	}
	var i int
	switch st {
	case Pending:
		i = 0
	case Retrying:
		i = 1
	case Delivered:
		i = 2
	case Dead:
		i = 3
	default:
		return
	}
	b.dest(destination).counts[i] += n
}

// Attempt adds attempt number n of a delivery to destination, made at at,
// answered with code (0: no answer) after latency, to every window it
// falls in.
func (b *StatsBuilder) Attempt(destination string, at time.Time, n, code int, latency time.Duration) {
	d := b.dest(destination)
	for i, since := range b.sinces {
		if at.Before(since) {
			continue
		}
		w := &d.windows[i]
		w.Attempts++
		if n > 1 {
			w.RetryAttempts++
		}
		if code/100 == 2 {
			w.Succeeded++
		}
		d.total[i] += latency
		d.latencies[i] = append(d.latencies[i], latency)
	}
}

// Windows returns each window's figures, in the order of the sinces, each
// sorted by destination. A destination appears when it has a stored
// delivery.
func (b *StatsBuilder) Windows() [][]DestinationStats {
	names := make([]string, 0, len(b.dests))
	for name, d := range b.dests {
		if d.counts != [4]int{} {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, strings.Compare)
	out := make([][]DestinationStats, len(b.sinces))
	for i := range b.sinces {
		out[i] = make([]DestinationStats, 0, len(names))
		for _, name := range names {
			d := b.dests[name]
			st := d.windows[i]
			st.Destination = name
			st.Pending, st.Retrying, st.Delivered, st.Dead = d.counts[0], d.counts[1], d.counts[2], d.counts[3]
			if st.Attempts > 0 {
				st.SuccessRate = float64(st.Succeeded) / float64(st.Attempts)
				st.MeanLatency = d.total[i] / time.Duration(st.Attempts)
				slices.Sort(d.latencies[i])
				st.P99Latency = P99(d.latencies[i])
			}
			out[i] = append(out[i], st)
		}
	}
	return out
}
