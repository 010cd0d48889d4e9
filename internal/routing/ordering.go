package routing

import (
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/rules"
)

// orderingKey computes route r's ordering key for the event in: "" when
// the route does not order, or when the key is missing, null or empty in
// this event (it is then delivered without ordering, not refused: the
// sender did nothing wrong).
func orderingKey(r *config.Route, in *rules.Input) (key string, blocks bool) {
	if r.Ordering == nil {
		return "", false
	}
	k, err := r.Ordering.Key.String(in)
	if err != nil || k == "" {
		return "", false
	}
	return k, r.Ordering.Block
}
