package storetest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// listEvents follows an event listing to its end and returns every id,
// checking no page exceeds the limit and that bodies come back whole.
func listEvents(tb testing.TB, s store.Store, q store.EventQuery, bodies map[string][]byte) []string {
	tb.Helper()
	var out []string
	for range 10_000 {
		page, err := s.Events(context.Background(), q)
		if err != nil {
			tb.Fatalf("Events(%+v): %v", q, err)
		}
		if len(page.Events) > q.PageSize() {
			tb.Fatalf("Events page of %d, limit %d", len(page.Events), q.PageSize())
		}
		for _, ev := range page.Events {
			out = append(out, ev.ID)
			if want, ok := bodies[ev.ID]; ok && !bytes.Equal(ev.Body, want) {
				tb.Errorf("event %s body = %q, want %q", ev.ID, ev.Body, want)
			}
		}
		if page.NextCursor == "" {
			return out
		}
		q.Cursor = page.NextCursor
	}
	tb.Fatal("Events: listing never ended")
	return nil
}

func testEventsListing(t *testing.T, s store.Store) {
	// Seven events a minute apart from two sources; some routed, some not.
	var all []string
	bySource := map[string][]string{}
	bodies := map[string][]byte{}
	for i := range 7 {
		src := "shop"
		if i%3 == 0 {
			src = "crm"
		}
		var f fixture
		if i%2 == 0 {
			f = newFixture(at(time.Duration(i)*time.Minute), src, "x", target{route: "r", dest: "a"})
		} else {
			f = newFixture(at(time.Duration(i)*time.Minute), src, "x")
		}
		mustAccept(t, s, f)
		all = append(all, f.ev.ID)
		bySource[src] = append(bySource[src], f.ev.ID)
		bodies[f.ev.ID] = f.ev.Body
	}
	newest := func(ids []string) []string {
		out := slices.Clone(ids)
		slices.Reverse(out)
		return out
	}
	for _, limit := range []int{0, 1, 2, 3, 7, 100} {
		wantIDs(t, "Events all", listEvents(t, s, store.EventQuery{Limit: limit}, bodies), newest(all))
		wantIDs(t, "Events crm", listEvents(t, s, store.EventQuery{Source: "crm", Limit: limit}, bodies), newest(bySource["crm"]))
		wantIDs(t, "Events since 2m until 5m",
			listEvents(t, s, store.EventQuery{Since: at(2 * time.Minute), Until: at(5 * time.Minute), Limit: limit}, bodies),
			newest(all[2:5]))
	}
	wantIDs(t, "Events of an unknown source", listEvents(t, s, store.EventQuery{Source: "nope"}, nil), nil)
	if _, err := s.Events(context.Background(), store.EventQuery{Since: at(time.Hour), Until: at(0)}); err == nil {
		t.Error("Events with until before since: no error")
	}

	// A listing paged through while events arrive is not shifted: new
	// events (newer) never appear in a later page, none is skipped.
	page, err := s.Events(context.Background(), store.EventQuery{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	mustAccept(t, s, newFixture(at(10*time.Minute), "shop", "x"))
	got := []string{}
	for _, ev := range page.Events {
		got = append(got, ev.ID)
	}
	got = append(got, listEvents(t, s, store.EventQuery{Limit: 3, Cursor: page.NextCursor}, nil)...)
	wantIDs(t, "Events paged while accepting", got, newest(all))
}

// testReplayFields: the fields a backfill sets (Event.ReplayOf,
// Delivery.ReplayOf) are kept through Accept, reads, listings, Claim and
// Complete.
func testReplayFields(t *testing.T, s store.Store) {
	ctx := context.Background()
	orig := newFixture(at(0), "shop", "x", target{route: "r", dest: "a"})
	mustAccept(t, s, orig)
	cp := newFixture(at(time.Minute), "shop", "x", target{route: "r", dest: "a"})
	cp.ev.ReplayOf = orig.ev.ID
	cp.ds[0].ReplayOf = orig.ds[0].ID
	mustAccept(t, s, cp)

	ev, err := s.Event(ctx, cp.ev.ID)
	if err != nil || ev.ReplayOf != orig.ev.ID {
		t.Fatalf("Event: %+v, %v; want replay_of %s", ev, err, orig.ev.ID)
	}
	if ev, err := s.Event(ctx, orig.ev.ID); err != nil || ev.ReplayOf != "" {
		t.Errorf("the original event: %+v, %v", ev, err)
	}
	page, err := s.Events(ctx, store.EventQuery{})
	if err != nil || len(page.Events) != 2 || page.Events[0].ReplayOf != orig.ev.ID || !bytes.Equal(page.Events[0].Body, cp.ev.Body) {
		t.Errorf("Events: %+v, %v", page.Events, err)
	}
	check := func(when string) {
		t.Helper()
		d, _ := mustDelivery(t, s, cp.ds[0].ID)
		if d.ReplayOf != orig.ds[0].ID || !bytes.Equal(d.Body, cp.ds[0].Body) {
			t.Errorf("%s: delivery replay_of %q body %q", when, d.ReplayOf, d.Body)
		}
		o, _ := mustDelivery(t, s, orig.ds[0].ID)
		if o.ReplayOf != "" {
			t.Errorf("%s: the original delivery has replay_of %q", when, o.ReplayOf)
		}
	}
	check("accepted")
	claimed, err := s.Claim(ctx, "a", at(time.Hour), 10, time.Minute)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("Claim: %d, %v", len(claimed), err)
	}
	for _, d := range claimed {
		if d.ID == cp.ds[0].ID && d.ReplayOf != orig.ds[0].ID {
			t.Errorf("claimed replay_of %q", d.ReplayOf)
		}
	}
	if err := s.Complete(ctx, cp.ds[0].ID, store.Outcome{Attempt: store.Attempt{N: 1, At: at(time.Hour), StatusCode: 500},
		Status: store.Retrying, NextAttemptAt: at(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	check("completed")
	list, err := s.Deliveries(ctx, store.Query{Destination: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list.Deliveries {
		if d.ID == cp.ds[0].ID && d.ReplayOf != orig.ds[0].ID {
			t.Errorf("listed replay_of %q", d.ReplayOf)
		}
	}
}
