package redis

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/redis/redistest"
	"github.com/hookgate/hookgate/internal/store/storetest"
)

// BenchmarkStats measures Stats with a million stored deliveries of ten
// destinations, their attempts spread over the last 24 hours. (A
// benchmark with sub-benchmarks runs once: Redis is filled once.)
func BenchmarkStats(b *testing.B) {
	srv := redistest.Start(b, "--appendonly", "no")
	s, err := Open(srv.URL(), Options{Prefix: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now()
	start := time.Now()
	if err := fillStats(s, 1_000_000, now); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled 1,000,000 deliveries in %s", time.Since(start).Round(time.Millisecond))
	storetest.BenchStats(b, s, now)
}

// fillStats stores n deliveries (storetest.StatsDelivery, with the
// attempts of storetest.StatsOutcomes) with the scripts Accept and
// Complete run (with Complete's arguments), thousands to a pipeline:
// through the API it took nearly five minutes. It registers the
// destinations but stores no events.
func fillStats(s *Store, n int, now time.Time) error {
	ctx := context.Background()
	const perRound = 10_000
	for i := range min(n, 10) {
		if err := s.rdb.SAdd(ctx, s.k.bucket(0)+":dests", storetest.StatsDelivery(i, n, now).Destination).Err(); err != nil {
			return err
		}
	}
	for lo := 0; lo < n; lo += perRound {
		puts := map[string][]any{}
		var completes []*scriptCall
		for i := lo; i < min(lo+perRound, n); i++ {
			d := storetest.StatsDelivery(i, n, now)
			puts[d.Destination] = append(puts[d.Destination], d.ID, micros(d.NextAttemptAt), `{}`,
				timeText(d.UpdatedAt), micros(d.UpdatedAt), timeText(d.NextAttemptAt), "")
			base := s.k.dest(d.Destination)
			for j, st := range storetest.StatsOutcomes(i) {
				a := storetest.StatsAttempt(i, j, st, d.CreatedAt)
				av, err := json.Marshal(&a)
				if err != nil {
					return err
				}
				next := ""
				if st == store.Retrying {
					next = micros(now.Add(time.Hour))
				}
				s.figs.add(d.Destination, j+1, &a)
				completes = append(completes, call(scriptComplete, base+":due", base, d.ID, string(st), av,
					timeText(a.At), micros(a.At), next, next, a.StatusCode, a.Error, ""))
			}
		}
		var calls []*scriptCall
		for dest, args := range puts {
			base := s.k.dest(dest)
			calls = append(calls, call(scriptPut, base+":due", append([]any{base}, args...)...))
		}
		if err := s.runScripts(ctx, calls); err != nil {
			return err
		}
		if err := s.runScripts(ctx, completes); err != nil {
			return err
		}
		if err := s.flushFigures(ctx); err != nil {
			return err
		}
	}
	return nil
}
