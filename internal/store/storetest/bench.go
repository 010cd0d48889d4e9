package storetest

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// Bench measures Accept of one event with two deliveries of about 300
// bytes each, the common shape of ingest's writes, each in a fresh store
// from open: "sequential" is one caller at a time (every Accept pays a
// whole commit), "parallel" is b.RunParallel's GOMAXPROCS callers (set it
// with -cpu), and "parallel64" is 64 callers, as many as a busy ingest has
// requests in flight. The difference is what group commit buys. Each
// reports events/s.
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	b.Run("sequential", func(b *testing.B) {
		s := open(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			benchAccept(b, s)
		}
		reportRate(b)
	})
	parallel := func(callers int) func(b *testing.B) {
		return func(b *testing.B) {
			s := open(b)
			if callers > 0 {
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((callers + procs - 1) / procs)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchAccept(b, s)
				}
			})
			reportRate(b)
		}
	}
	b.Run("parallel", parallel(0))
	b.Run("parallel64", parallel(64))
}

// benchBody is a ~300-byte JSON body.
var benchBody = func() []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"type":"creator_insights","status":"success","connector":"tiktok","identifier":"@creator","data":{"followers":123456,"engagement":0.0421,"tags":[`)
	for buf.Len() < 290 {
		buf.WriteString(`"tag",`)
	}
	buf.WriteString(`"end"]}}`)
	return buf.Bytes()
}()

// benchAccept accepts one event with two deliveries.
func benchAccept(b *testing.B, s store.Store) {
	now := time.Now()
	ev := &store.Event{
		ID:         ids.New(ids.Event, now),
		Source:     "ylytic",
		EventType:  "creator_insights",
		ReceivedAt: now,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       benchBody,
	}
	ds := make([]*store.Delivery, 2)
	for i, dest := range []string{"tiktok_team", "analytics"} {
		ds[i] = &store.Delivery{
			ID:            ids.New(ids.Delivery, now),
			EventID:       ev.ID,
			Source:        ev.Source,
			EventType:     ev.EventType,
			Route:         "route_" + dest,
			Destination:   dest,
			Body:          benchBody,
			Status:        store.Pending,
			CreatedAt:     now,
			UpdatedAt:     now,
			NextAttemptAt: now,
		}
		ev.DeliveryIDs = append(ev.DeliveryIDs, ds[i].ID)
	}
	if _, err := s.Accept(context.Background(), ev, ds, nil); err != nil {
		b.Errorf("Accept: %v", err)
	}
}

// reportRate reports events accepted per second.
func reportRate(b *testing.B) {
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(float64(b.N)/sec, "events/s")
	}
}

// BenchStats measures Stats and StatsWindows on s, which the caller has
// filled (with a million deliveries, say: the calls must cost the same
// at any size), their attempts made in the 24 hours before now: "Stats"
// is the last 24 hours, "StatsWindows" the three windows of GET
// /api/stats (the requested one, the last hour, the last 24 hours). The
// target (#13) is under 50 ms a call at a million deliveries.
func BenchStats(b *testing.B, s store.Store, now time.Time) {
	ctx := context.Background()
	b.Run("Stats", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Stats(ctx, now.Add(-24*time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("StatsWindows", func(b *testing.B) {
		sinces := []time.Time{now.Add(-6 * time.Hour), now.Add(-time.Hour), now.Add(-24 * time.Hour)}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.StatsWindows(ctx, sinces); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// statsDests are the destinations StatsDelivery spreads deliveries over.
var statsDests = []string{"analytics", "billing", "crm", "email", "fulfilment", "inventory", "ledger", "search", "slack", "tiktok_team"}

// StatsOutcomes are the outcomes of the attempts of the i-th delivery a
// store's BenchStats filler writes: 3% stay pending, 4% retrying after one
// attempt, 3% dead after two, the rest delivered (one in ten of them after
// a failed attempt). Fillers write into the store directly, in big
// batches: a million deliveries through Accept and Complete take minutes.
func StatsOutcomes(i int) []store.Status {
	switch k := i % 100; {
	case k < 3:
		return nil
	case k < 7:
		return []store.Status{store.Retrying}
	case k < 10:
		return []store.Status{store.Retrying, store.Dead}
	case k%10 == 0:
		return []store.Status{store.Retrying, store.Delivered}
	}
	return []store.Status{store.Delivered}
}

// StatsDelivery is a filler's i-th delivery of n (pending, with no
// attempts yet), created in the 24 hours before now, bound for one of ten
// destinations in turn.
func StatsDelivery(i, n int, now time.Time) *store.Delivery {
	t := now.Add(-24 * time.Hour).Add(time.Duration(i) * (24 * time.Hour / time.Duration(n)))
	return &store.Delivery{
		ID: ids.New(ids.Delivery, t), Source: "shop", EventType: "order.created", Route: "r",
		Destination: statsDests[i%len(statsDests)], Body: []byte(`{}`),
		Status: store.Pending, CreatedAt: t, UpdatedAt: t, NextAttemptAt: t,
	}
}

// StatsAttempt is the attempt of outcome st, the j-th of delivery i,
// created at created.
func StatsAttempt(i, j int, st store.Status, created time.Time) store.Attempt {
	a := store.Attempt{N: j + 1, At: created.Add(time.Duration(j) * time.Second), StatusCode: 200,
		Latency: time.Duration(1+(i*7919+j)%400) * time.Millisecond}
	switch st {
	case store.Retrying:
		a.StatusCode, a.Error = 503, "HTTP 503"
	case store.Dead:
		a.StatusCode, a.Error = 410, "HTTP 410"
	}
	return a
}
