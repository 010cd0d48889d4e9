package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// t0 is the suite's epoch. It lies in the future so that a store which
// also expires keys by its own clock (Redis TTLs) keeps everything the
// suite writes for as long as a test runs.
var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// target is one delivery of a fixture event.
type target struct {
	route, dest string
	// due is the delivery's NextAttemptAt offset from the event's time
	// (zero: due when created).
	due time.Duration
}

// fixture is an event and its deliveries as ingest hands them to Accept.
type fixture struct {
	ev *store.Event
	ds []*store.Delivery
}

// ids returns the deliveries' ids.
func (f fixture) ids() []string {
	out := make([]string, len(f.ds))
	for i, d := range f.ds {
		out[i] = d.ID
	}
	return out
}

// newFixture builds an event received at when from source, of event type
// typ, bound for targets. Bodies differ per event and delivery and hold
// bytes a careless store would mangle (NUL, invalid UTF-8, newline).
func newFixture(when time.Time, source, typ string, targets ...target) fixture {
	ev := &store.Event{
		ID:          ids.New(ids.Event, when),
		Source:      source,
		EventType:   typ,
		ReceivedAt:  when,
		Headers:     map[string]string{"content-type": "application/json", "webhook-id": "msg_" + when.Format("150405.000")},
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		ConfigHash:  "cfg1",
	}
	ev.Body = append(fmt.Appendf(nil, `{"type":%q,"id":%q,"note":"café ☕"}`, typ, ev.ID), '\n', 0x00, 0xff)
	f := fixture{ev: ev}
	for i, tg := range targets {
		d := &store.Delivery{
			ID:            ids.New(ids.Delivery, when),
			EventID:       ev.ID,
			Source:        source,
			EventType:     typ,
			Route:         tg.route,
			Destination:   tg.dest,
			Status:        store.Pending,
			CreatedAt:     when,
			UpdatedAt:     when,
			NextAttemptAt: when.Add(tg.due),
			TraceParent:   ev.TraceParent,
		}
		d.Body = fmt.Appendf(nil, `{"kind":%q,"n":%d,"to":%q}`, typ, i, tg.dest)
		f.ds = append(f.ds, d)
		ev.DeliveryIDs = append(ev.DeliveryIDs, d.ID)
	}
	return f
}

// mustAccept accepts f without dedupe.
func mustAccept(tb testing.TB, s store.Store, f fixture) {
	tb.Helper()
	if _, err := s.Accept(context.Background(), f.ev, f.ds, nil); err != nil {
		tb.Fatalf("Accept(%s): %v", f.ev.ID, err)
	}
}

// accept builds and accepts an event with one delivery and returns it.
func accept(tb testing.TB, s store.Store, when time.Time, tg target) *store.Delivery {
	tb.Helper()
	f := newFixture(when, "shop", "order.created", tg)
	mustAccept(tb, s, f)
	return f.ds[0]
}

// claimIDs claims and returns the ids, in the order Claim gave them.
func claimIDs(tb testing.TB, s store.Store, dest string, now time.Time, limit int, lease time.Duration) []string {
	tb.Helper()
	ds, err := s.Claim(context.Background(), dest, now, limit, lease)
	if err != nil {
		tb.Fatalf("Claim(%s, %s): %v", dest, now.Format(time.RFC3339), err)
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		if d.Destination != dest {
			tb.Errorf("Claim(%s) returned %s bound for %s", dest, d.ID, d.Destination)
		}
		out[i] = d.ID
	}
	return out
}

// mustComplete completes delivery id.
func mustComplete(tb testing.TB, s store.Store, id string, o store.Outcome) {
	tb.Helper()
	if err := s.Complete(context.Background(), id, o); err != nil {
		tb.Fatalf("Complete(%s, %s): %v", id, o.Status, err)
	}
}

// kill claims delivery d and completes it as dead at when.
func kill(tb testing.TB, s store.Store, d *store.Delivery, when time.Time) {
	tb.Helper()
	if got := claimIDs(tb, s, d.Destination, when, 1000, time.Minute); !slices.Contains(got, d.ID) {
		tb.Fatalf("Claim(%s) = %v, want it to include %s", d.Destination, got, d.ID)
	}
	mustComplete(tb, s, d.ID, store.Outcome{
		Attempt:    store.Attempt{At: when, StatusCode: 410, Latency: 3 * time.Millisecond, Error: "HTTP 410"},
		Status:     store.Dead,
		DeadReason: "HTTP 410 Gone",
	})
}

// deliver claims delivery d and completes it as delivered at when.
func deliver(tb testing.TB, s store.Store, d *store.Delivery, when time.Time) {
	tb.Helper()
	if got := claimIDs(tb, s, d.Destination, when, 1000, time.Minute); !slices.Contains(got, d.ID) {
		tb.Fatalf("Claim(%s) = %v, want it to include %s", d.Destination, got, d.ID)
	}
	mustComplete(tb, s, d.ID, store.Outcome{
		Attempt: store.Attempt{At: when, StatusCode: 200, Latency: 2 * time.Millisecond},
		Status:  store.Delivered,
	})
}

// mustDelivery reads delivery id.
func mustDelivery(tb testing.TB, s store.Store, id string) (*store.Delivery, []store.Attempt) {
	tb.Helper()
	d, as, err := s.Delivery(context.Background(), id)
	if err != nil {
		tb.Fatalf("Delivery(%s): %v", id, err)
	}
	return d, as
}

// wantStatus checks delivery id's status.
func wantStatus(tb testing.TB, s store.Store, id string, want store.Status) *store.Delivery {
	tb.Helper()
	d, _ := mustDelivery(tb, s, id)
	if d.Status != want {
		tb.Errorf("Delivery(%s).Status = %s, want %s", id, d.Status, want)
	}
	return d
}

// wantErr checks that err is target.
func wantErr(tb testing.TB, what string, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

// wantTime checks a time by Equal.
func wantTime(tb testing.TB, what string, got, want time.Time) {
	tb.Helper()
	if !got.Equal(want) {
		tb.Errorf("%s = %s, want %s", what, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}

// wantIDs checks a list of ids, order included.
func wantIDs(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		tb.Errorf("%s = %v, want %v", what, got, want)
	}
}

// normTime makes times comparable with reflect.DeepEqual whatever their
// location or monotonic reading.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}

func normEvent(e store.Event) store.Event {
	e.ReceivedAt = normTime(e.ReceivedAt)
	if len(e.Headers) == 0 {
		e.Headers = nil
	}
	if len(e.Body) == 0 {
		e.Body = nil
	}
	if len(e.DeliveryIDs) == 0 {
		e.DeliveryIDs = nil
	}
	return e
}

func normDelivery(d store.Delivery) store.Delivery {
	d.CreatedAt = normTime(d.CreatedAt)
	d.UpdatedAt = normTime(d.UpdatedAt)
	d.NextAttemptAt = normTime(d.NextAttemptAt)
	if len(d.Body) == 0 {
		d.Body = nil
	}
	return d
}

func normAttempt(a store.Attempt) store.Attempt {
	a.At = normTime(a.At)
	return a
}

// wantEqual compares two records after normalizing.
func wantEqual[T any](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// listAll follows a listing to its end and returns every id, page by page
// checking the page size.
func listAll(tb testing.TB, s store.Store, q store.Query) []string {
	tb.Helper()
	var out []string
	for range 10_000 {
		p, err := s.Deliveries(context.Background(), q)
		if err != nil {
			tb.Fatalf("Deliveries(%+v): %v", q, err)
		}
		if q.Limit > 0 && len(p.Deliveries) > q.Limit {
			tb.Fatalf("Deliveries(%+v) returned %d, over the limit", q, len(p.Deliveries))
		}
		for _, d := range p.Deliveries {
			out = append(out, d.ID)
		}
		if p.NextCursor == "" {
			return out
		}
		if len(p.Deliveries) == 0 {
			tb.Fatalf("Deliveries(%+v): empty page with a cursor", q)
		}
		q.Cursor = p.NextCursor
	}
	tb.Fatalf("Deliveries(%+v): listing does not end", q)
	return nil
}

// reversed returns ids newest first.
func reversed(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

// sorted returns ids sorted, for comparing sets.
func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
