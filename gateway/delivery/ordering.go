package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookgate/hookgate/gateway/config"
	"github.com/hookgate/hookgate/gateway/store"
)

// Unorder takes out of their keys' lines the stored deliveries of routes
// that no longer order what they send to a destination of cfg (a reload
// removed the route's ordering block, the route, or the destination from
// the route): they are due at once, and each line goes on with its next
// delivery (store.Orderer.Unorder). The gateway calls it at start and
// after every reload, so a config changed while it was down counts too.
// A store that does not order (a test double) is left alone.
func Unorder(ctx context.Context, st any, cfg *config.Config, log *slog.Logger) {
	o, ok := st.(store.Orderer)
	if !ok || cfg == nil {
		return
	}
	for _, d := range cfg.Destinations {
		ordered := map[string]bool{}
		for _, r := range cfg.Routes {
			if r.Ordering == nil {
				continue
			}
			for _, rd := range r.Destinations {
				if rd.Name == d.Name {
					ordered[r.Name] = true
				}
			}
		}
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := o.Unorder(cctx, d.Name, func(route string) bool { return ordered[route] })
		cancel()
		switch {
		case err != nil:
			log.Error("releasing the keys of routes no longer ordered failed; they stay ordered until the next reload or start",
				"destination", d.Name, "error", err)
		case n > 0:
			log.Info("route no longer ordered: its waiting deliveries go without ordering", "destination", d.Name, "released", n)
		}
	}
}

// nextOfKey, after an ordered delivery finished (the next one of its key
// became due in the same write), leases that next one (store.Orderer's
// ClaimKey) and hands it to the loop as ingest hands a first attempt, so
// a key's deliveries follow each other without waiting for the loop's
// next claim. Without it (another instance took it, or the store does not
// order) it wakes the loop.
func (l *destLoop) nextOfKey(ctx context.Context, set *destSettings, d *store.Delivery, o store.Outcome) {
	if d.Key == "" || o.Status == store.Retrying {
		return
	}
	if or, ok := l.e.st.(store.Orderer); ok {
		cctx, cancel := context.WithTimeout(ctx, completeTimeout)
		now := l.e.now()
		next, err := or.ClaimKey(cctx, l.name, d.Key, now, set.lease)
		cancel()
		if err == nil && next != nil {
			next.LeaseUntil = now.Add(set.lease)
			if !l.offer(next) {
				l.e.giveBack([]*store.Delivery{next})
			}
			return
		}
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}
