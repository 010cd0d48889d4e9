package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/rules"
)

// TestHeaders are the headers a destination test's event carries: the
// ones its route's filter and transform see (route ""), and the ones it
// is stored with (the route it was made for, when there is one).
func TestHeaders(route string) map[string]string {
	h := map[string]string{"x-hookgate-test": "1", "user-agent": "hookgate-admin"}
	if route != "" {
		h["x-hookgate-test-route"] = route
	}
	return h
}

// TestPlan is where a destination test's event comes from: a route that
// sends to the destination, one of its sources, and the schema of an
// event type the route takes from that source (nil when none has a
// schema).
type TestPlan struct {
	Route     *config.Route
	Source    *config.Source
	EventType string
	Schema    *rules.Schema
}

// PlanTest picks the test event's origin for dest: the first enabled
// route that sends to it (or the route named routeName), its first source
// with a schema for an event type the route takes (or eventType). Without
// a schema anywhere, the first route and source still give the transform
// and the source's name; with no route at all the plan is empty. An error
// is the caller's: a route name that does not fit.
func PlanTest(cfg *config.Config, dest *config.Destination, routeName, eventType string) (TestPlan, error) {
	var routes []*config.Route
	for _, r := range cfg.Routes {
		if !r.Enabled || !slices.Contains(r.Destinations, dest) {
			continue
		}
		if routeName == "" || r.Name == routeName {
			routes = append(routes, r)
		}
	}
	if routeName != "" && len(routes) == 0 {
		return TestPlan{}, fmt.Errorf("no enabled route named %q sends to destination %q", routeName, dest.Name)
	}
	var fallback TestPlan
	for _, r := range routes {
		for _, src := range r.Sources {
			if fallback.Route == nil {
				fallback = TestPlan{Route: r, Source: src, EventType: eventType}
			}
			types := r.Events
			if types == nil {
				for t := range src.Schemas {
					types = append(types, t)
				}
				slices.Sort(types)
			}
			for _, t := range types {
				if eventType != "" && t != eventType {
					continue
				}
				if sch, ok := src.Schemas[t]; ok {
					return TestPlan{Route: r, Source: src, EventType: t, Schema: sch}, nil
				}
			}
		}
	}
	return fallback, nil
}

// Event builds the plan's sample event: payload is the event as stored,
// body what the destination receives. With a schema the payload is its
// Sample, the first combination of enum values the route's filter passes
// (or the first combination when none passes); without one it is a small
// generic event. body is the payload put through the route's transform,
// as ingest would; the error is a transform that fails on the sample.
func (p TestPlan) Event(now time.Time) (payload, body []byte, err error) {
	var obj any
	if p.Schema == nil {
		obj = map[string]any{
			"type":    "hookgate.test",
			"message": "a test event sent by hookgate",
			"sent_at": now.UTC().Format(time.RFC3339),
		}
	} else {
		var accept func(map[string]any) bool
		if p.Route != nil && p.Route.Filter != nil {
			accept = func(m map[string]any) bool {
				ok, _ := passes(p.Route, p.input(m))
				return ok
			}
		}
		obj = p.Schema.Sample(now, accept)
	}
	if payload, err = marshal(obj); err != nil {
		return nil, nil, err
	}
	if p.Route == nil {
		return payload, payload, nil
	}
	if body, err = transform(p.Route, p.input(obj), payload); err != nil {
		return nil, nil, fmt.Errorf("route %q's transform failed on the sample event: %w", p.Route.Name, err)
	}
	return payload, body, nil
}

// input is the rules input of a test event with payload obj.
func (p TestPlan) input(obj any) *rules.Input {
	in := &rules.Input{Body: obj, Headers: TestHeaders(""), Event: p.EventType}
	if p.Source != nil {
		in.Source = p.Source.Name
	}
	return in
}

// marshal encodes v without HTML escaping and without the final newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
