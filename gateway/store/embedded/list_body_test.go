package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/ids"
	"github.com/hookgate/hookgate/gateway/store"
	"github.com/hookgate/hookgate/gateway/store/embedded"
)

// TestListingsCarryNoBody: a listing leaves every delivery's Body nil (a
// page of 1,000 must not read 1,000 bodies); Delivery still reads it.
func TestListingsCarryNoBody(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	now := time.Now()
	body := []byte(`{"n":1,"payload":"a body a listing must not read"}`)
	ev := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now, Body: body}
	var ds []*store.Delivery
	for _, dest := range []string{"a", "b"} {
		ds = append(ds, &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "r", Destination: dest, Body: body, CreatedAt: now})
	}
	if _, err := s.Accept(ctx, ev, ds, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []store.Query{{}, {Destination: "a"}, {Status: store.Pending, Limit: 1000}} {
		p, err := s.Deliveries(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Deliveries) == 0 {
			t.Fatalf("Deliveries(%+v) is empty", q)
		}
		for _, d := range p.Deliveries {
			if d.Body != nil {
				t.Errorf("Deliveries(%+v): %s carries its body %q", q, d.ID, d.Body)
			}
		}
	}
	d, _, err := s.Delivery(ctx, ds[0].ID)
	if err != nil || string(d.Body) != string(body) {
		t.Errorf("Delivery: body %q (%v), want %q", d.Body, err, body)
	}
}
