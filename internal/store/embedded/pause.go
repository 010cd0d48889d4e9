package embedded

import (
	"context"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/store"
)

// bucketPaused: destination → JSON store.Pause, one key per paused
// destination. Created by the first pause (a file without it has none).
var bucketPaused = []byte("paused")

// Pause pauses destination from at, durably (committed like any write).
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
	err = s.write(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPaused)
		if err != nil {
			return err
		}
		if b.Get([]byte(destination)) != nil {
			return nil // paused already: keep the first time
		}
		return b.Put([]byte(destination), v)
	})
	return s.wrap(op, err)
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
	err := s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPaused)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(destination))
	})
	return s.wrap(op, err)
}

// Paused returns the paused destinations.
func (s *Store) Paused(ctx context.Context) (map[string]store.Pause, error) {
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap("paused", err)
	}
	out := map[string]store.Pause{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPaused)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var p store.Pause
			if err := json.Unmarshal(v, &p); err != nil {
				return corrupt("pause", err)
			}
			out[string(k)] = p
			return nil
		})
	})
	if err != nil {
		return nil, s.wrap("paused", err)
	}
	return out, nil
}
