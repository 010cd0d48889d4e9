package storetest

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/ids"
	"github.com/hookgate/hookgate/gateway/store"
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
