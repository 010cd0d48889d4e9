package telemetry

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ObserveBlockedKeys adds the gauge hookgate_ordering_blocked_keys{destination}:
// how many ordering keys of each destination dests names are held by a
// dead delivery (on_dead = "block"), at most 1000 each. Like the queue
// depth, a scrape reads src at most every DepthMaxAge; a failed read keeps
// the last figures. blocked counts one destination's blocked keys; nil
// (a store that does not order) adds nothing. Call it once.
func (m *Metrics) ObserveBlockedKeys(blocked BlockedSource, dests func() []string, now func() time.Time) error {
	if m == nil || blocked == nil {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	c := &blockedCache{src: blocked, dests: dests, now: now, counts: map[string]int{}}
	_, err := m.meter.Int64ObservableGauge("hookgate.ordering.blocked_keys",
		metric.WithDescription("Ordering keys per destination held by a dead delivery (on_dead = \"block\") until it is replayed or discarded; read at most every 15s."),
		metric.WithInt64Callback(c.observe))
	return err
}

// BlockedSource counts destination's ordering keys held by a dead
// delivery, at most 1000. The gateway reads it from the store.
type BlockedSource func(ctx context.Context, destination string) (int, error)

// blockedCache is the blocked-keys gauge's last read.
type blockedCache struct {
	src   BlockedSource
	dests func() []string
	now   func() time.Time

	mu     sync.Mutex
	readAt time.Time
	counts map[string]int
}

func (c *blockedCache) observe(ctx context.Context, o metric.Int64Observer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.now(); c.readAt.IsZero() || t.Sub(c.readAt) >= DepthMaxAge || t.Before(c.readAt) {
		c.readAt = t
		counts := map[string]int{}
		for _, d := range c.dests() {
			rctx, cancel := context.WithTimeout(ctx, depthTimeout)
			n, err := c.src(rctx, d)
			cancel()
			if err != nil {
				counts[d] = c.counts[d]
				continue
			}
			counts[d] = n
		}
		c.counts = counts
	}
	for d, n := range c.counts {
		o.Observe(int64(n), metric.WithAttributes(attribute.String("destination", d)))
	}
	return nil
}
