package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// A delivery stored for a destination after a reload removed it (by an
// ingest request that began under the old config) is dead-lettered like
// those that waited for it, whether ingest announced it (Notify) or handed
// it over (Handoff): it must not stay pending with no loop to claim it.
func TestDeliveryStoredAfterRemovalIsDeadLettered(t *testing.T) {
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(recv.Close)
	st := mustStore(t)
	dests := mustDests(t, `
destination "gone" {
  url           = "`+recv.URL+`/hook"
  allow_private = true
}
destination "kept" {
  url           = "`+recv.URL+`/hook"
  allow_private = true
}
`)
	r := start(t, st, delivery.Options{Poll: time.Hour}, dests...)
	// A request under the old config asks for a hand-over, then the
	// reload lands before it stores its deliveries.
	var lease time.Duration
	waitUntil(t, "the gone destination's loop to run", func() bool {
		var ok bool
		lease, ok = r.e.HandoffLease("gone")
		return ok
	})
	r.e.Update(dests[1:])

	announced := accept(t, st, "gone", `{"n":1}`)
	r.e.Notify("gone")

	now := time.Now()
	ev := &store.Event{ID: ids.New(ids.Event, now), Source: "src", ReceivedAt: now, Body: []byte(`{"n":2}`)}
	handed := &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "r", Destination: "gone", Body: []byte(`{"n":2}`),
		LeaseUntil: now.Add(lease)}
	if _, err := st.Accept(context.Background(), ev, []*store.Delivery{handed}, nil); err != nil {
		t.Fatal(err)
	}
	r.e.Handoff([]*store.Delivery{handed})

	for _, id := range []string{announced, handed.ID} {
		d, as := waitFinished(t, st, id)
		if d.Status != store.Dead || d.DeadReason != delivery.RemovedReason || len(as) != 0 {
			t.Errorf("%s: %s (%q) with %d attempts, want dead with %q and no attempt", id, d.Status, d.DeadReason, len(as), delivery.RemovedReason)
		}
	}
}
