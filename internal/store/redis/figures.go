package redis

import (
	"context"
	"sync"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// figuresEvery is how often an instance adds the attempt figures it
// gathered to Redis's (luaFigures). Stats flushes first, so an instance
// reads its own attempts at once; another instance's are at most this
// late.
const figuresEvery = time.Second

// figures gathers the attempt figures of this instance's Completes per
// destination and minute, in memory, for a flush that adds them to
// Redis's hashes in one script per destination and minute: writing them
// with each attempt cost about seventeen commands per attempt, more than
// the attempt's own record. Figures not yet flushed when the process dies
// are lost (the attempts themselves are recorded); stats are
// approximate within that.
type figures struct {
	mu sync.Mutex
	m  map[figureKey]*figureSum
}

type figureKey struct {
	dest   string
	minute int64
}

// figureSum is one destination's attempts in one minute.
type figureSum struct {
	n, retries, ok, latSum int64
	latMin, latMax         int64
	hist                   map[int]int64
}

// add counts attempt a (number n) of a delivery to dest.
func (f *figures) add(dest string, n int, a *store.Attempt) {
	lat, bucket, minute := figureArgs(a)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[figureKey]*figureSum{}
	}
	k := figureKey{dest, minute}
	s := f.m[k]
	if s == nil {
		s = &figureSum{latMin: lat, latMax: lat, hist: map[int]int64{}}
		f.m[k] = s
	}
	s.n++
	if n > 1 {
		s.retries++
	}
	if a.StatusCode >= 200 && a.StatusCode < 300 {
		s.ok++
	}
	s.latSum += lat
	s.latMin, s.latMax = min(s.latMin, lat), max(s.latMax, lat)
	s.hist[bucket]++
}

// take empties the figures and returns what they held.
func (f *figures) take() map[figureKey]*figureSum {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.m
	f.m = nil
	return m
}

// putBack merges figures a flush could not write into those gathered
// since, so the next flush tries again (bounded: a Redis that stays down
// keeps at most a day of minutes per destination).
func (f *figures) putBack(m map[figureKey]*figureSum) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[figureKey]*figureSum{}
	}
	for k, s := range m {
		cur := f.m[k]
		if cur == nil {
			if len(f.m) < 100_000 {
				f.m[k] = s
			}
			continue
		}
		cur.n += s.n
		cur.retries += s.retries
		cur.ok += s.ok
		cur.latSum += s.latSum
		cur.latMin, cur.latMax = min(cur.latMin, s.latMin), max(cur.latMax, s.latMax)
		for b, c := range s.hist {
			cur.hist[b] += c
		}
	}
}

// flushFigures adds the gathered figures to Redis, one script per
// destination and minute, in one pipeline.
func (s *Store) flushFigures(ctx context.Context) error {
	m := s.figs.take()
	if len(m) == 0 {
		return nil
	}
	calls := make([]*scriptCall, 0, len(m))
	for k, f := range m {
		base := s.k.dest(k.dest)
		args := []any{base, k.minute, floorDiv(k.minute, 60), f.n, f.retries, f.ok, f.latSum, f.latMin, f.latMax}
		for b, c := range f.hist {
			args = append(args, b, c)
		}
		calls = append(calls, call(scriptFigures, base+":due", args...))
	}
	if err := s.runScripts(ctx, calls); err != nil {
		s.figs.putBack(m)
		return err
	}
	return nil
}

// figuresLoop flushes the figures every figuresEvery until ctx ends, and
// once more then.
func (s *Store) figuresLoop(ctx context.Context) {
	t := time.NewTicker(figuresEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.flushFigures(fctx); err != nil {
				s.log.Warn("attempt figures not written at close; stats miss them", "error", err)
			}
			cancel()
			return
		case <-t.C:
		}
		if err := s.flushFigures(ctx); err != nil && ctx.Err() == nil {
			s.log.Debug("write attempt figures; retried at the next flush", "error", err)
		}
	}
}
