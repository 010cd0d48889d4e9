package redis

import (
	"context"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/gateway/store"
)

// Stats sums up deliveries per destination: StatsWindows with one window.
func (s *Store) Stats(ctx context.Context, since time.Time) ([]store.DestinationStats, error) {
	w, err := s.StatsWindows(ctx, []time.Time{since})
	if err != nil {
		return nil, err
	}
	return w[0], nil
}

// StatsWindows sums up deliveries per destination for each window in one
// pipeline: the sizes of each destination's four status sets, and its
// attempts since the widest window's start from the attempt-figures set
// (scored by the attempt's time in microseconds, each member
// "delivery:n:status code:latency ns").
//
// The p99 is exact: it keeps the window's latencies per destination (8
// bytes each) and sorts them. Cleanup forgets attempt figures older than
// its cutoff (the retention), so a window that starts earlier counts from
// there.
func (s *Store) StatsWindows(ctx context.Context, sinces []time.Time) ([][]store.DestinationStats, error) {
	const op = "stats"
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	dests, err := s.destinations(ctx)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	// Scores are microseconds: a window starts at its since's microsecond,
	// as ZRANGEBYSCORE's bound does.
	micro := make([]time.Time, len(sinces))
	for i, t := range sinces {
		if !t.IsZero() {
			micro[i] = time.UnixMicro(t.UnixMicro())
		}
	}
	sb := store.NewStatsBuilder(micro)
	type cmds struct {
		counts [4]*goredis.IntCmd
		atts   *goredis.ZSliceCmd
	}
	all := make([]cmds, len(dests))
	from := minScore(sb.Earliest(), false)
	pipe := s.rdb.Pipeline()
	for i, d := range dests {
		base := s.k.dest(d)
		for j, st := range statuses {
			all[i].counts[j] = pipe.ZCard(ctx, base+":s:"+string(st))
		}
		all[i].atts = pipe.ZRangeByScoreWithScores(ctx, base+":atts", &goredis.ZRangeBy{Min: from, Max: "+inf"})
	}
	if len(dests) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, s.wrap(op, err)
		}
	}
	for i, d := range dests {
		for j, st := range statuses {
			sb.Count(d, st, int(all[i].counts[j].Val()))
		}
		for _, z := range all[i].atts.Val() {
			m, _ := z.Member.(string)
			n, code, lat, ok := parseAttemptFigure(m)
			if !ok {
				continue
			}
			sb.Attempt(d, time.UnixMicro(int64(z.Score)), n, code, lat)
		}
	}
	return sb.Windows(), nil
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
