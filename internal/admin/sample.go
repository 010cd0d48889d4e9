package admin

import (
	"fmt"
	"slices"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/rules"
)

// maxSampleTries bounds the enum combinations tried to find a sample that
// passes a route's filter.
const maxSampleTries = 256

// testRoute is the marker route name of a test delivery (POST
// /api/destinations/{name}/test). It is not an HCL identifier, so no
// configured route can have it; `-route @test` lists test deliveries.
const testRoute = "@test"

// testHeaders are the headers a test event is stored with.
func testHeaders(route string) map[string]string {
	h := map[string]string{"x-hookgate-test": "1", "user-agent": "hookgate-admin"}
	if route != "" {
		h["x-hookgate-test-route"] = route
	}
	return h
}

// samplePlan is where a destination's sample event comes from: a route
// that sends to it, one of its sources, and the schema of an event type the
// route takes from that source (nil when none has a schema).
type samplePlan struct {
	Route     *config.Route
	Source    *config.Source
	EventType string
	Schema    *rules.Schema
}

// planSample picks the sample's origin for dest: the first enabled route
// that sends to it (or the route named routeName), its first source with a
// schema for an event type the route takes (or eventType). Without a
// schema anywhere, the first route and source still give the transform and
// the source's name. An error is the caller's: a route or event type that
// does not fit.
func planSample(cfg *config.Config, dest *config.Destination, routeName, eventType string) (samplePlan, error) {
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
		return samplePlan{}, fmt.Errorf("no enabled route named %q sends to destination %q", routeName, dest.Name)
	}
	var fallback samplePlan
	for _, r := range routes {
		for _, src := range r.Sources {
			if fallback.Route == nil {
				fallback = samplePlan{Route: r, Source: src, EventType: eventType}
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
					return samplePlan{Route: r, Source: src, EventType: t, Schema: sch}, nil
				}
			}
		}
	}
	return fallback, nil
}

// sampleBody builds the plan's sample payload and the body the destination
// receives: the schema's fields with their first enum value or a
// placeholder of their type, trying other enum values until the route's
// filter passes (at most maxSampleTries combinations); then the route's
// transform. Without a schema the payload is a small generic event.
func sampleBody(p samplePlan, now time.Time) (payload any, body []byte, err error) {
	if p.Schema == nil {
		payload = map[string]any{
			"type":    "hookgate.test",
			"message": "a test event sent by hookgate",
			"sent_at": now.UTC().Format(time.RFC3339),
		}
		return finishSample(p, payload)
	}
	// Every top-level enum field is a dial; the first combination is
	// every first value.
	var dials []*rules.Field
	combos := 1
	for _, f := range p.Schema.Fields {
		if len(f.Enum) > 1 && f.Type != rules.TypeArray && combos*len(f.Enum) <= maxSampleTries {
			dials = append(dials, f)
			combos *= len(f.Enum)
		}
	}
	var first any
	for i := range combos {
		choice := map[string]any{}
		n := i
		for _, f := range dials {
			choice[f.Name] = f.Enum[n%len(f.Enum)]
			n /= len(f.Enum)
		}
		obj := sampleObject(p.Schema.Fields, choice, now)
		if first == nil {
			first = obj
		}
		if p.Route == nil || p.Route.Filter == nil {
			break
		}
		in := &rules.Input{Body: obj, Headers: testHeaders(""), Event: p.EventType}
		if p.Source != nil {
			in.Source = p.Source.Name
		}
		if ok, err := p.Route.Filter.Bool(in); err == nil && ok {
			first = obj
			break
		}
	}
	return finishSample(p, first)
}

// finishSample applies the plan's transform to payload.
func finishSample(p samplePlan, payload any) (any, []byte, error) {
	raw, err := jsonMarshal(payload)
	if err != nil {
		return nil, nil, err
	}
	if p.Route == nil || p.Route.Transform == nil {
		return payload, raw, nil
	}
	in := &rules.Input{Body: payload, Headers: testHeaders(""), Event: p.EventType}
	if p.Source != nil {
		in.Source = p.Source.Name
	}
	out, err := p.Route.Transform.JSON(in)
	if err != nil {
		return nil, nil, fmt.Errorf("route %q's transform failed on the sample event: %w", p.Route.Name, err)
	}
	return payload, out, nil
}

// sampleObject is an object with every field of fields, choice's values
// for the top-level ones it names.
func sampleObject(fields []*rules.Field, choice map[string]any, now time.Time) map[string]any {
	obj := make(map[string]any, len(fields))
	for _, f := range fields {
		if v, ok := choice[f.Name]; ok {
			obj[f.Name] = v
			continue
		}
		obj[f.Name] = sampleValue(f, now)
	}
	return obj
}

// sampleValue is a placeholder for f: its first enum value, else a value
// of its type (objects and arrays with their declared fields).
func sampleValue(f *rules.Field, now time.Time) any {
	if f.Type == rules.TypeArray {
		switch {
		case len(f.Enum) > 0:
			return []any{f.Enum[0]}
		case len(f.Fields) > 0:
			return []any{sampleObject(f.Fields, nil, now)}
		}
		return []any{}
	}
	if len(f.Enum) > 0 {
		return f.Enum[0]
	}
	switch f.Type {
	case rules.TypeString:
		return "sample-" + f.Name
	case rules.TypeNumber:
		return 1.5
	case rules.TypeInteger:
		return float64(1) // numbers decode as float64
	case rules.TypeBoolean:
		return true
	case rules.TypeTimestamp:
		return now.UTC().Format(time.RFC3339)
	case rules.TypeObject:
		return sampleObject(f.Fields, nil, now)
	}
	return "sample"
}
