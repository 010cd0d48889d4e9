package redis

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/gateway/store"
)

// Stats sums up deliveries per destination in one pipeline: the sizes of
// each destination's four status sets, and its attempts since the window's
// start from the attempt-figures set (scored by the attempt's time, each
// member "delivery:n:status code:latency ns").
//
// The p99 is exact: it keeps the window's latencies per destination (8
// bytes each) and sorts them. Cleanup forgets attempt figures older than
// its cutoff (the retention), so a window that starts earlier counts from
// there.
func (s *Store) Stats(ctx context.Context, since time.Time) ([]store.DestinationStats, error) {
	const op = "stats"
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	dests, err := s.destinations(ctx)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	type cmds struct {
		counts [4]*goredis.IntCmd
		atts   *goredis.StringSliceCmd
	}
	all := make([]cmds, len(dests))
	pipe := s.rdb.Pipeline()
	for i, d := range dests {
		base := s.k.dest(d)
		for j, st := range statuses {
			all[i].counts[j] = pipe.ZCard(ctx, base+":s:"+string(st))
		}
		all[i].atts = pipe.ZRangeByScore(ctx, base+":atts", &goredis.ZRangeBy{Min: minScore(since, false), Max: "+inf"})
	}
	if len(dests) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, s.wrap(op, err)
		}
	}
	out := make([]store.DestinationStats, 0, len(dests))
	for i, d := range dests {
		st := store.DestinationStats{
			Destination: d,
			Pending:     int(all[i].counts[0].Val()),
			Retrying:    int(all[i].counts[1].Val()),
			Delivered:   int(all[i].counts[2].Val()),
			Dead:        int(all[i].counts[3].Val()),
		}
		if st.Pending+st.Retrying+st.Delivered+st.Dead == 0 {
			continue
		}
		var (
			total     time.Duration
			latencies []time.Duration
		)
		for _, m := range all[i].atts.Val() {
			n, code, lat, ok := parseAttemptFigure(m)
			if !ok {
				continue
			}
			st.Attempts++
			if n > 1 {
				st.RetryAttempts++
			}
			if code/100 == 2 {
				st.Succeeded++
			}
			total += lat
			latencies = append(latencies, lat)
		}
		if st.Attempts > 0 {
			st.SuccessRate = float64(st.Succeeded) / float64(st.Attempts)
			st.MeanLatency = total / time.Duration(st.Attempts)
			slices.Sort(latencies)
			st.P99Latency = store.P99(latencies)
		}
		out = append(out, st)
	}
	return out, nil
}

// parseAttemptFigure reads a member of the attempt-figures set from its
// end, since a delivery id may hold colons.
func parseAttemptFigure(m string) (n, code int, lat time.Duration, ok bool) {
	parts := make([]string, 3)
	for i := 2; i >= 0; i-- {
		j := strings.LastIndexByte(m, ':')
		if j < 0 {
			return 0, 0, 0, false
		}
		parts[i], m = m[j+1:], m[:j]
	}
	n, err1 := strconv.Atoi(parts[0])
	code, err2 := strconv.Atoi(parts[1])
	ns, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, false
	}
	return n, code, time.Duration(ns), true
}
