package store

import (
	"slices"
	"strings"
	"time"
)

// StatsBuilder adds up DestinationStats for several windows from what
// stores keep: state counts per destination, and attempt figures per
// destination and minute. Windows are whole minutes: a window starting at
// since covers the minute that holds since and every later one. Each
// minute is added once, to the segment between two window starts it falls
// in; a window is the sum of the segments from its start on.
type StatsBuilder struct {
	starts []int64 // per window, its first minute (Minute)
	segs   []int64 // the distinct starts, ascending: segment j begins at segs[j]
	dests  map[string]*destAcc
}

// destAcc is one destination's state counts and, per segment, its attempt
// figures.
type destAcc struct {
	counts [4]int // Pending, Retrying, Delivered, Dead
	segs   []Figures
}

// Minute is the unix minute that holds t: the key of the figures of the
// attempts made then.
func Minute(t time.Time) int64 {
	s := t.Unix()
	m := s / 60
	if s%60 < 0 {
		m--
	}
	return m
}

// NewStatsBuilder returns a builder of the windows starting at sinces (a
// zero since: every minute kept).
func NewStatsBuilder(sinces []time.Time) *StatsBuilder {
	b := &StatsBuilder{starts: make([]int64, len(sinces)), dests: map[string]*destAcc{}}
	for i, s := range sinces {
		if s.IsZero() {
			b.starts[i] = minMinute
		} else {
			b.starts[i] = Minute(s)
		}
	}
	b.segs = slices.Compact(slices.Sorted(slices.Values(b.starts)))
	return b
}

// minMinute is the first minute of a window without a start.
const minMinute = -1 << 62

// EarliestMinute is the first minute of the widest window: older figures
// count in none. It is very negative when a window has no start.
func (b *StatsBuilder) EarliestMinute() int64 {
	if len(b.segs) == 0 {
		return 0
	}
	return b.segs[0]
}

func (b *StatsBuilder) dest(name string) *destAcc {
	d := b.dests[name]
	if d == nil {
		d = &destAcc{segs: make([]Figures, len(b.segs))}
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

// Starts are the windows' first minutes, ascending, each once (very
// negative for a window without a start).
func (b *StatsBuilder) Starts() []int64 { return b.segs }

// Minute adds the figures of destination's attempts made in minute (see
// Minute) to every window that covers it. f may also sum up a span of
// minutes from minute on (an hour's figures) inside of which no window
// starts.
func (b *StatsBuilder) Minute(destination string, minute int64, f *Figures) {
	if f.Attempts == 0 {
		return
	}
	// The last segment that begins at or before minute.
	j, found := slices.BinarySearch(b.segs, minute)
	if !found {
		j--
	}
	if j < 0 {
		return
	}
	b.dest(destination).segs[j].Merge(f)
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
	out := make([][]DestinationStats, len(b.starts))
	for i := range b.starts {
		out[i] = make([]DestinationStats, 0, len(names))
	}
	for _, name := range names {
		d := b.dests[name]
		// sums[j] is segments j and later: the window starting at segs[j].
		sums := make([]Figures, len(b.segs))
		for j := len(b.segs) - 1; j >= 0; j-- {
			if j+1 < len(b.segs) {
				sums[j].Merge(&sums[j+1])
			}
			sums[j].Merge(&d.segs[j])
		}
		for i, start := range b.starts {
			j, _ := slices.BinarySearch(b.segs, start)
			f := &sums[j]
			st := DestinationStats{
				Destination: name,
				Pending:     d.counts[0], Retrying: d.counts[1], Delivered: d.counts[2], Dead: d.counts[3],
				Attempts: int(f.Attempts), RetryAttempts: int(f.RetryAttempts), Succeeded: int(f.Succeeded),
			}
			if f.Attempts > 0 {
				st.SuccessRate = float64(f.Succeeded) / float64(f.Attempts)
				st.MeanLatency = f.LatencySum / time.Duration(f.Attempts)
				st.P99Latency = f.P99()
			}
			out[i] = append(out[i], st)
		}
	}
	return out
}
