package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/redis/redistest"
)

// A delivery record that does not decode is dead-lettered once, with its
// raw record kept, instead of failing every claim of its destination.
func TestCorruptRecordSetAside(t *testing.T) {
	srv := redistest.Start(t)
	s, err := Open(srv.URL(), Options{Prefix: "corrupt"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	now := time.Now()
	ev := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now, Body: []byte(`{}`)}
	bad := &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "r", Destination: "a", Body: []byte(`{}`)}
	good := &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "r", Destination: "a", Body: []byte(`{}`)}
	if _, err := s.Accept(ctx, ev, []*store.Delivery{bad, good}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.HSet(ctx, s.k.dest("a")+":dlv:"+bad.ID, "r", "\x7fgarbage").Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, "a", now.Add(time.Second), 10, time.Minute)
	if err != nil {
		t.Fatalf("Claim with a corrupt record: %v", err)
	}
	if len(got) != 1 || got[0].ID != good.ID {
		t.Fatalf("Claim = %v, want the good delivery", got)
	}
	d, _, err := s.Delivery(ctx, bad.ID)
	if err != nil || d.Status != store.Dead || d.DeadReason != CorruptReason || d.Destination != "a" {
		t.Fatalf("the corrupt delivery reads %+v, %v; want it dead with %q", d, err, CorruptReason)
	}
	if raw, _ := s.rdb.HGet(ctx, s.k.dest("a")+":dlv:"+bad.ID, "rx").Result(); !strings.Contains(raw, "garbage") {
		t.Errorf("raw record %q not kept in rx", raw)
	}
	page, err := s.Deliveries(ctx, store.Query{Status: store.Dead})
	if err != nil || len(page.Deliveries) != 1 || page.Deliveries[0].ID != bad.ID {
		t.Errorf("dead-letter listing = %v, %v", page.Deliveries, err)
	}
	if _, err := s.Claim(ctx, "a", now.Add(2*time.Minute), 10, time.Minute); err != nil {
		t.Errorf("a later Claim: %v", err)
	}
}
