package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
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

// nextOfKey wakes the loop after an ordered delivery finished: the next
// one of its key became due in the same write.
func (l *destLoop) nextOfKey(d *store.Delivery, o store.Outcome) {
	if d.Key == "" || o.Status == store.Retrying {
		return
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}
