package embedded

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/store"
)

// A delivery record that does not decode is dead-lettered once, with its
// raw record kept in the corrupt bucket, instead of failing every claim of
// its destination.
func TestCorruptRecordSetAside(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	ev := &store.Event{ID: "evt_1", Source: "shop", ReceivedAt: now, Body: []byte(`{}`)}
	ds := []*store.Delivery{
		{ID: "dlv_bad", Route: "r", Destination: "a", Body: []byte(`{"x":1}`)},
		{ID: "dlv_good", Route: "r", Destination: "a", Body: []byte(`{}`)},
	}
	if _, err := s.Accept(ctx, ev, ds, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDeliveries).Put([]byte("dlv_bad"), []byte("\x7fgarbage"))
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, "a", now.Add(time.Second), 10, time.Minute)
	if err != nil {
		t.Fatalf("Claim with a corrupt record: %v", err)
	}
	if len(got) != 1 || got[0].ID != "dlv_good" {
		t.Fatalf("Claim = %v, want the good delivery", got)
	}
	d, _, err := s.Delivery(ctx, "dlv_bad")
	if err != nil || d.Status != store.Dead || d.DeadReason != CorruptReason || string(d.Body) != `{"x":1}` {
		t.Fatalf("the corrupt delivery reads %+v, %v; want it dead with %q and its body", d, err, CorruptReason)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if raw := tx.Bucket(bucketCorrupt).Get([]byte("dlv_bad")); string(raw) != "\x7fgarbage" {
			t.Errorf("raw record %q not kept", raw)
		}
		return nil
	})
	page, err := s.Deliveries(ctx, store.Query{Status: store.Dead})
	if err != nil || len(page.Deliveries) != 1 {
		t.Errorf("dead-letter listing = %v, %v", page.Deliveries, err)
	}
	if _, err := s.Claim(ctx, "a", now.Add(2*time.Minute), 10, time.Minute); err != nil {
		t.Errorf("a later Claim: %v", err)
	}
	// Replay brings it back with its body.
	if n, err := s.Replay(ctx, store.ReplayQuery{Destination: "a"}, now.Add(3*time.Minute)); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v", n, err)
	}
	got, err = s.Claim(ctx, "a", now.Add(4*time.Minute), 10, time.Minute)
	found := false
	for _, d := range got {
		found = found || d.ID == "dlv_bad" && string(d.Body) == `{"x":1}`
	}
	if err != nil || !found {
		t.Errorf("after Replay, Claim = %v, %v; want dlv_bad with its body", got, err)
	}
}

// An ordered head whose record does not decode is set aside like any
// other, and its key goes on with the next delivery.
func TestCorruptOrderedHead(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	for i, id := range []string{"dlv_1", "dlv_2"} {
		ev := &store.Event{ID: "evt_" + id, Source: "shop", ReceivedAt: now.Add(time.Duration(i) * time.Millisecond), Body: []byte(`{}`)}
		d := &store.Delivery{ID: id, Route: "r", Destination: "a", Key: "k", KeyBlocks: true}
		if _, err := s.Accept(ctx, ev, []*store.Delivery{d}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDeliveries).Put([]byte("dlv_1"), []byte("\x7fgarbage"))
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Claim(ctx, "a", now.Add(time.Second), 10, time.Minute); err != nil || len(got) != 0 {
		t.Fatalf("Claim with the corrupt head = %v, %v; want nothing", got, err)
	}
	got, err := s.Claim(ctx, "a", now.Add(time.Second), 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != "dlv_2" {
		t.Fatalf("Claim after the head was set aside = %v, %v; want dlv_2", got, err)
	}
}
