package redis

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
)

// Stats sums up deliveries per destination: StatsWindows with one window.
func (s *Store) Stats(ctx context.Context, since time.Time) ([]store.DestinationStats, error) {
	w, err := s.StatsWindows(ctx, []time.Time{since})
	if err != nil {
		return nil, err
	}
	return w[0], nil
}

// StatsWindows sums up deliveries per destination for each window in two
// round trips, whatever the number of deliveries stored: the sizes of
// each destination's four status sets and the minutes it has attempt
// figures of since the widest window's start (…:mins), then the hashes of
// those figures (written by scriptFigures), an hour's
// (…:hr:HOUR) for each hour no window starts inside, else the minutes'
// (…:m:MINUTE). A day's window reads about 25 hashes per destination.
func (s *Store) StatsWindows(ctx context.Context, sinces []time.Time) ([][]store.DestinationStats, error) {
	sb, err := s.statsBuilder(ctx, sinces)
	if err != nil {
		return nil, err
	}
	return sb.Windows(), nil
}

// StatsMinutes returns each destination's attempt figures of the n
// minutes from since's, read as StatsWindows reads them (each minute's
// hash).
func (s *Store) StatsMinutes(ctx context.Context, since time.Time, n int) (map[string][]store.MinuteStats, error) {
	sb, err := s.statsBuilder(ctx, store.MinuteSinces(since, n))
	if err != nil {
		return nil, err
	}
	return sb.Minutes(), nil
}

// statsBuilder reads the figures of the windows starting at sinces.
func (s *Store) statsBuilder(ctx context.Context, sinces []time.Time) (*store.StatsBuilder, error) {
	const op = "stats"
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	dests, err := s.destinations(ctx)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	// This instance's attempts count at once.
	if err := s.flushFigures(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	sb := store.NewStatsBuilder(sinces)
	if len(dests) == 0 {
		return sb, nil
	}
	from := "-inf"
	if m := sb.EarliestMinute(); m > -1<<53 {
		from = strconv.FormatInt(m, 10)
	}
	counts := make([][4]*goredis.IntCmd, len(dests))
	mins := make([]*goredis.StringSliceCmd, len(dests))
	pipe := s.rdb.Pipeline()
	for i, d := range dests {
		base := s.k.dest(d)
		for j, st := range statuses {
			counts[i][j] = pipe.ZCard(ctx, base+":s:"+string(st))
		}
		mins[i] = pipe.ZRangeByScore(ctx, base+":mins", &goredis.ZRangeBy{Min: from, Max: "+inf"})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	// An hour that a window starts inside of is read by its minutes.
	split := map[int64]bool{}
	for _, m := range sb.Starts() {
		if h := floorDiv(m, 60); m != h*60 {
			split[h] = true
		}
	}
	type span struct {
		dest  string
		first int64 // minute
		cmd   *goredis.MapStringStringCmd
	}
	var spans []span
	pipe = s.rdb.Pipeline()
	for i, d := range dests {
		for j, st := range statuses {
			sb.Count(d, st, int(counts[i][j].Val()))
		}
		base := s.k.dest(d)
		lastHour := int64(math.MinInt64)
		for _, v := range mins[i].Val() {
			m, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			h := floorDiv(m, 60)
			switch {
			case split[h]:
				spans = append(spans, span{d, m, pipe.HGetAll(ctx, base+":m:"+v)})
			case h != lastHour:
				spans = append(spans, span{d, h * 60, pipe.HGetAll(ctx, base+":hr:"+strconv.FormatInt(h, 10))})
			}
			lastHour = h
		}
	}
	if len(spans) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, s.wrap(op, err)
		}
	}
	var f store.Figures
	for _, sp := range spans {
		clear(f.Hist)
		f = store.Figures{Hist: f.Hist}
		if parseFigures(sp.cmd.Val(), &f) {
			sb.Minute(sp.dest, sp.first, &f)
		}
	}
	return sb, nil
}

// floorDiv is a/b rounded down.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// parseFigures adds the fields of a minute's hash to f; ok is false when
// the hash is gone (expired) or damaged.
func parseFigures(h map[string]string, f *store.Figures) bool {
	num := func(k string) int64 {
		n, _ := strconv.ParseInt(h[k], 10, 64)
		return n
	}
	n := num("n")
	if n <= 0 {
		return false
	}
	f.RetryAttempts += num("retries")
	f.Succeeded += num("ok")
	f.AddLatency(n, time.Duration(num("lat_sum")), time.Duration(num("lat_min")), time.Duration(num("lat_max")))
	for k, v := range h {
		if rest, ok := strings.CutPrefix(k, "h"); ok {
			i, err1 := strconv.Atoi(rest)
			c, err2 := strconv.ParseInt(v, 10, 64)
			if err1 == nil && err2 == nil {
				f.AddBucket(i, c)
			}
		}
	}
	return true
}

// scriptFigures adds one destination's attempt figures of one minute,
// gathered by an instance (see figures), to the hashes …:m:MINUTE and
// …:hr:HOUR (unix minute, unix hour) with the fields n (attempts),
// retries (N > 1), ok (2xx), lat_sum, lat_min, lat_max (ns) and h<i>
// (attempts in latency bucket i, see store.LatencyBucket), and the minute
// to the sorted set …:mins of the minutes that have figures (scored by
// the minute). Each expires store.StatsRetention after its last write;
// …:mins also forgets its older minutes at each write. ARGV: base,
// minute, hour, n, retries, ok, lat_sum, lat_min, lat_max, then pairs of
// bucket and count.
var scriptFigures = goredis.NewScript(`
local base, minute, hour = ARGV[1], ARGV[2], ARGV[3]
local ttl = ` + strconv.Itoa(int(store.StatsRetention/time.Second)) + `
local lmin, lmax = tonumber(ARGV[8]), tonumber(ARGV[9])
for _, k in ipairs({base .. ':m:' .. minute, base .. ':hr:' .. hour}) do
  redis.call('HINCRBY', k, 'n', ARGV[4])
  if ARGV[5] ~= '0' then redis.call('HINCRBY', k, 'retries', ARGV[5]) end
  if ARGV[6] ~= '0' then redis.call('HINCRBY', k, 'ok', ARGV[6]) end
  redis.call('HINCRBY', k, 'lat_sum', ARGV[7])
  local ext = redis.call('HMGET', k, 'lat_min', 'lat_max')
  if not ext[1] or lmin < tonumber(ext[1]) then redis.call('HSET', k, 'lat_min', ARGV[8]) end
  if not ext[2] or lmax > tonumber(ext[2]) then redis.call('HSET', k, 'lat_max', ARGV[9]) end
  for i = 10, #ARGV, 2 do redis.call('HINCRBY', k, 'h' .. ARGV[i], ARGV[i + 1]) end
  redis.call('EXPIRE', k, ttl)
end
local ms = base .. ':mins'
redis.call('ZADD', ms, minute, minute)
redis.call('ZREMRANGEBYSCORE', ms, '-inf', '(' .. (tonumber(minute) - ` + strconv.Itoa(int(store.StatsRetention/time.Minute)) + `))
redis.call('EXPIRE', ms, ttl)
return 0
`)

// figureArgs are what the figures of attempt a count: latency ns, latency
// bucket, minute.
func figureArgs(a *store.Attempt) (lat int64, bucket int, minute int64) {
	d := max(a.Latency, 0)
	return int64(d), store.LatencyBucket(d), store.Minute(a.At)
}
