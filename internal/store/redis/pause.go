package redis

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// pausedKey is the hash of paused destinations: destination → JSON
// store.Pause. One key, its own hash tag: every instance reads it every
// poll.
func (k keys) paused() string { return "{" + k.prefix + ":paused}" }

// Pause pauses destination from at; every instance on this Redis and
// prefix stops attempting it within its poll.
func (s *Store) Pause(ctx context.Context, destination string, at time.Time) error {
	op := "pause " + destination
	if err := s.usable(ctx); err != nil {
		return s.wrap(op, err)
	}
	if err := store.CheckPauseName(destination); err != nil {
		return s.wrap(op, err)
	}
	v, err := json.Marshal(store.Pause{At: at.UTC()})
	if err != nil {
		return s.wrap(op, err)
	}
	// HSETNX: paused already keeps the first time.
	return s.wrap(op, s.rdb.HSetNX(ctx, s.k.paused(), destination, v).Err())
}

// Resume ends destination's pause.
func (s *Store) Resume(ctx context.Context, destination string) error {
	op := "resume " + destination
	if err := s.usable(ctx); err != nil {
		return s.wrap(op, err)
	}
	if err := store.CheckPauseName(destination); err != nil {
		return s.wrap(op, err)
	}
	return s.wrap(op, s.rdb.HDel(ctx, s.k.paused(), destination).Err())
}

// Paused returns the paused destinations.
func (s *Store) Paused(ctx context.Context) (map[string]store.Pause, error) {
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap("paused", err)
	}
	m, err := s.rdb.HGetAll(ctx, s.k.paused()).Result()
	if err != nil {
		return nil, s.wrap("paused", err)
	}
	out := make(map[string]store.Pause, len(m))
	for name, v := range m {
		var p store.Pause
		if err := json.Unmarshal([]byte(v), &p); err != nil {
			return nil, s.wrap("paused", corrupt("pause", err))
		}
		out[name] = p
	}
	return out, nil
}
