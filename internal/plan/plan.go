// Package plan compares what two configs do with the same recorded events:
// `hookgate plan` runs each event through the current config and a new
// one, as ingest would (routing.Simulate, without the signature check:
// recorded events carry no credentials), and reports per destination the
// deliveries the new config adds and removes, the bodies it changes, and
// the events it would reject. Nothing is stored or sent.
//
// Deliveries are matched by route and destination. Only bodies are
// compared: the headers of a delivery hold its signature, id and
// timestamp, which differ on every attempt.
package plan

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/jsondiff"
	"github.com/hookgate/hookgate/internal/routing"
	"github.com/hookgate/hookgate/internal/rules"
)

// Event is a recorded event as `hookgate events export` writes it.
type Event struct {
	ID         string            `json:"id"`
	Source     string            `json:"source"`
	EventType  string            `json:"event_type,omitempty"`
	ReceivedAt time.Time         `json:"received_at"`
	Headers    map[string]string `json:"headers"`
	Body       json.RawMessage   `json:"body"`
}

// Report is the difference between two configs over a set of events.
type Report struct {
	Events    int `json:"events"`
	Unchanged int `json:"unchanged"`
	Changed   int `json:"changed"`
	// Added, Removed and Bodies count deliveries over every destination.
	Added    int `json:"added"`
	Removed  int `json:"removed"`
	Bodies   int `json:"bodies"`
	Rejected int `json:"rejected"`
	// Destinations lists, by name, those whose deliveries change.
	Destinations []*Destination `json:"destinations"`
	// Rejections are the events the new config would refuse.
	Rejections []Rejection `json:"rejections"`
}

// Destination is what changes for one destination.
type Destination struct {
	Name    string       `json:"destination"`
	Added   []Ref        `json:"added"`
	Removed []Ref        `json:"removed"`
	Changed []BodyChange `json:"changed"`
}

// Ref names one delivery: the event and the route.
type Ref struct {
	Event     string `json:"event"`
	Source    string `json:"source"`
	EventType string `json:"event_type,omitempty"`
	Route     string `json:"route"`
}

// BodyChange is a delivery both configs make with different bodies.
type BodyChange struct {
	Ref
	// Diff is the unified diff from the current body to the new one
	// (indented JSON).
	Diff string `json:"diff"`
}

// Rejection is an event the new config would refuse, with the answer the
// sender would get.
type Rejection struct {
	Event     string          `json:"event"`
	Source    string          `json:"source"`
	EventType string          `json:"event_type,omitempty"`
	Status    int             `json:"status"`
	Error     string          `json:"error"`
	Fields    []rules.Problem `json:"fields,omitempty"`
	// Current says what the current config does with the event.
	Current string `json:"current"`
}

// Changes reports whether the new config does anything differently.
func (r *Report) Changes() bool { return r.Changed > 0 || r.Rejected > 0 }

// Summary is the report's last line.
func (r *Report) Summary() string {
	return fmt.Sprintf("plan: %d events, %d unchanged, %d changed (+%d deliveries, -%d, %d bodies), %d rejected",
		r.Events, r.Unchanged, r.Changed, r.Added, r.Removed, r.Bodies, r.Rejected)
}

// Compare runs every event through cur and next and reports the
// difference.
func Compare(cur, next *config.Config, events []Event) *Report {
	r := &Report{Destinations: []*Destination{}, Rejections: []Rejection{}}
	dests := map[string]*Destination{}
	dest := func(name string) *Destination {
		d := dests[name]
		if d == nil {
			d = &Destination{Name: name, Added: []Ref{}, Removed: []Ref{}, Changed: []BodyChange{}}
			dests[name] = d
		}
		return d
	}
	for _, ev := range events {
		r.Events++
		before, after := simulate(cur, ev), simulate(next, ev)
		if !after.Accepted {
			if !before.Accepted && before.Status == after.Status && before.Error == after.Error && slices.Equal(before.Fields, after.Fields) {
				r.Unchanged++ // refused alike
				continue
			}
			r.Rejected++
			r.Rejections = append(r.Rejections, Rejection{Event: ev.ID, Source: ev.Source, EventType: eventType(before, ev),
				Status: after.Status, Error: after.Error, Fields: after.Fields, Current: describe(before)})
			continue
		}
		ref := func(d routing.Delivery) Ref {
			return Ref{Event: ev.ID, Source: ev.Source, EventType: after.EventType, Route: d.Route.Name}
		}
		was := byKey(before.Deliveries())
		is := byKey(after.Deliveries())
		changed := false
		for _, k := range slices.Sorted(maps.Keys(is)) {
			d := is[k]
			old, ok := was[k]
			switch {
			case !ok:
				dest(d.Destination.Name).Added = append(dest(d.Destination.Name).Added, ref(d))
				r.Added++
				changed = true
			case !jsondiff.Equal(old.Body, d.Body):
				dd := dest(d.Destination.Name)
				dd.Changed = append(dd.Changed, BodyChange{Ref: ref(d), Diff: jsondiff.Diff("current", "new", old.Body, d.Body)})
				r.Bodies++
				changed = true
			}
		}
		for _, k := range slices.Sorted(maps.Keys(was)) {
			if _, ok := is[k]; !ok {
				d := was[k]
				rf := ref(d)
				rf.EventType = before.EventType
				dest(d.Destination.Name).Removed = append(dest(d.Destination.Name).Removed, rf)
				r.Removed++
				changed = true
			}
		}
		if changed {
			r.Changed++
		} else {
			r.Unchanged++
		}
	}
	for _, name := range slices.Sorted(maps.Keys(dests)) {
		r.Destinations = append(r.Destinations, dests[name])
	}
	return r
}

// simulate is what cfg does with ev; a source cfg does not have answers
// 404, as ingest does for its path.
func simulate(cfg *config.Config, ev Event) routing.Outcome {
	src := cfg.Source(ev.Source)
	if src == nil {
		return routing.Outcome{Status: http.StatusNotFound, Error: fmt.Sprintf("no source named %q", ev.Source)}
	}
	h := http.Header{}
	for k, v := range ev.Headers {
		h.Set(k, v)
	}
	return routing.Simulate(src, routing.Request{Header: h, Body: ev.Body})
}

// key is a delivery's identity across configs.
type key struct{ dest, route string }

func (k key) String() string { return k.dest + "\x00" + k.route }

func byKey(ds []routing.Delivery) map[string]routing.Delivery {
	m := make(map[string]routing.Delivery, len(ds))
	for _, d := range ds {
		m[key{d.Destination.Name, d.Route.Name}.String()] = d
	}
	return m
}

func eventType(o routing.Outcome, ev Event) string {
	if o.EventType != "" {
		return o.EventType
	}
	return ev.EventType
}

// describe says what a config does with an event, for a rejection.
func describe(o routing.Outcome) string {
	if !o.Accepted {
		return fmt.Sprintf("refused too, otherwise: %d %s", o.Status, o.Error)
	}
	ds := o.Deliveries()
	if len(ds) == 0 {
		return "accepted, no deliveries"
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Destination.Name)
	}
	return "accepted, delivered to " + strings.Join(names, ", ")
}
