package redis

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/redis/redistest"
)

// TestRecoverHalfDoneAccept: an Accept whose process died after its first
// step (the event and its recovery copy stored, no delivery yet) is
// completed by recovery, run by any instance.
func TestRecoverHalfDoneAccept(t *testing.T) {
	srv := redistest.Start(t)
	s, err := Open(srv.URL(), Options{Prefix: "rec"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// The two-step Accept of a cluster (one Redis takes one step, which
	// leaves nothing to recover).
	s.cluster = true
	ctx := context.Background()
	now := time.Now()
	ev := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now, Body: []byte(`{}`)}
	var ds []*store.Delivery
	for _, dest := range []string{"a", "b", "a"} {
		ds = append(ds, &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "r", Destination: dest, Body: []byte(`{}`)})
	}
	req, err := s.prepareAccept(ev, ds, &store.Dedupe{Key: "k", Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// Step 1 only, as a process killed between the steps leaves it.
	base := s.k.bucket(req.bucket)
	req.event[4] = micros(now)
	c := call(scriptEvent, base+":events", append([]any{base}, req.event...)...)
	if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Delivery(ctx, ds[0].ID); err == nil {
		t.Fatal("a delivery exists before recovery")
	}
	// Too recent: the Accept may still be running.
	if n, err := s.recoverAccepts(ctx, now.Add(-time.Second)); err != nil || n != 0 {
		t.Fatalf("recoverAccepts(recent) = %d, %v; want 0", n, err)
	}
	if n, err := s.recoverAccepts(ctx, now.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("recoverAccepts = %d, %v; want 1", n, err)
	}
	for _, d := range ds {
		got, _, err := s.Delivery(ctx, d.ID)
		if err != nil || got.Status != store.Pending || got.EventID != ev.ID {
			t.Errorf("Delivery(%s) after recovery = %+v, %v", d.ID, got, err)
		}
	}
	if n, err := s.recoverAccepts(ctx, now.Add(time.Second)); err != nil || n != 0 {
		t.Fatalf("second recoverAccepts = %d, %v; want 0", n, err)
	}
	// The dedupe key was stored with the event.
	ev2 := *ev
	ev2.ID = ids.New(ids.Event, now)
	if first, err := s.Accept(ctx, &ev2, nil, &store.Dedupe{Key: "k", Window: time.Hour}); first != ev.ID {
		t.Errorf("Accept with the same key = %q, %v; want %s as a duplicate", first, err, ev.ID)
	}
	got, err := s.Claim(ctx, "a", now.Add(time.Minute), 10, time.Minute)
	if err != nil || len(got) != 2 {
		t.Errorf("Claim(a) after recovery = %d, %v; want 2", len(got), err)
	}
}
