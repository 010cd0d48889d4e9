// Package routing decides what happens to one verified webhook under a
// compiled config: whether it is a challenge, its event type, its schema
// problems, its dedupe key, and for every route of its source whether it
// matched and the exact body each destination receives.
//
// Ingest and the `hookgate route` dry run both call Evaluate, so the dry run
// shows exactly what the gateway does; `hookgate test`, `hookgate plan` and
// the admin API's backfill call Simulate, which runs ingest's decisions
// around it; a destination test (the admin API's and the dashboard's)
// builds its event with PlanTest and TestPlan.Event, which run a route's
// filter and transform the same way. The package is pure: no I/O, no
// storage, no signing (that is delivery's), no clock but the one it is
// given.
package routing

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/rules"
)

// ErrNotJSON is returned for a body that is not a JSON document.
var ErrNotJSON = errors.New("body is not JSON")

// Result is what the gateway does with one event.
type Result struct {
	// Payload is the decoded body; nil when nothing of the source reads
	// it (no challenge, event type, schema, dedupe key, filter or
	// transform), so the body was only checked to be JSON.
	Payload any
	// Challenge is the answer to a verification handshake, when the source's
	// challenge matched; nothing else is evaluated then.
	Challenge []byte
	// EventType is the event's type ("" when the source has no event_type).
	EventType string
	// Schema is the schema the event was validated against, if any.
	Schema *rules.Schema
	// UnknownEvent reports an event type with no schema on a source that
	// rejects unknown events.
	UnknownEvent bool
	// Problems are the schema violations.
	Problems []rules.Problem
	// DedupeKey is the event's idempotency key ("" when none).
	DedupeKey string
	// Routes holds one entry per enabled route of the source, in order.
	Routes []RouteResult
}

// Rejected reports whether the event must be refused (422): an unknown event
// type or schema problems.
func (r *Result) Rejected() bool { return r.UnknownEvent || len(r.Problems) > 0 }

// UnknownEventError is the reason given to the sender of an event whose type
// has no schema on a source that rejects unknown events.
func (r *Result) UnknownEventError(src *config.Source) string {
	if r.EventType == "" && src.EventType != nil {
		return fmt.Sprintf("the event has no type: event_type (%s) is empty or missing in this payload", src.EventType.Source())
	}
	return fmt.Sprintf("unknown event type %q", r.EventType)
}

// Deliveries returns every (route, destination, body) of the matched routes.
func (r *Result) Deliveries() []Delivery {
	var out []Delivery
	for _, rr := range r.Routes {
		out = append(out, rr.Deliveries...)
	}
	return out
}

// RouteResult is one route's verdict on the event.
type RouteResult struct {
	Route   *config.Route
	Matched bool
	// Reason says why the route did not match, or that its transform failed.
	Reason string
	// Deliveries are one per destination when matched and transformed.
	Deliveries []Delivery
}

// Delivery is one body bound for one destination.
type Delivery struct {
	Route       *config.Route
	Destination *config.Destination
	Body        []byte
	// Key is the ordering key when the route orders its deliveries ("":
	// unordered, also when the key is missing or empty in this event);
	// KeyBlocks is its on_dead = "block".
	Key       string
	KeyBlocks bool
}

// Evaluate decides the fate of body, received by src with headers h. The
// body's signature must already have been verified. It returns ErrNotJSON
// (wrapped) when the body does not parse; every other outcome is in Result.
func Evaluate(src *config.Source, h http.Header, body []byte) (*Result, error) {
	var payload any
	if readsBody(src) || !json.Valid(body) {
		// Decoding a body nothing reads only to check it was a quarter of
		// a pass-through event's ingest CPU; an invalid one is decoded
		// for the error's words.
		if err := json.Unmarshal(body, &payload); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotJSON, err)
		}
	}
	res := &Result{Payload: payload}
	in := &rules.Input{Body: payload, Headers: rules.HeaderMap(h), Source: src.Name}

	if ch := src.Challenge; ch != nil {
		ok, err := ch.When.Bool(in)
		if err == nil && ok {
			answer, err := ch.Respond.JSON(in)
			if err != nil {
				return nil, fmt.Errorf("challenge respond: %w", err)
			}
			res.Challenge = answer
			return res, nil
		}
	}

	if src.EventType != nil {
		et, err := src.EventType.String(in)
		if err != nil {
			res.UnknownEvent = !src.AcceptUnknown
			res.Problems = append(res.Problems, rules.Problem{Path: "", Problem: "cannot tell the event type: " + err.Error()})
			return res, nil
		}
		res.EventType = et
		in.Event = et
	}
	if len(src.Schemas) > 0 {
		if sch, ok := src.Schemas[res.EventType]; ok {
			res.Schema = sch
			res.Problems = sch.Validate(payload)
		} else if !src.AcceptUnknown {
			res.UnknownEvent = true
		}
	}
	if res.Rejected() {
		return res, nil
	}

	if d := src.Dedupe; d != nil {
		if key, err := d.Key.String(in); err == nil {
			res.DedupeKey = key
		}
	}

	for _, r := range src.Routes {
		res.Routes = append(res.Routes, evalRoute(r, res.EventType, in, body))
	}
	return res, nil
}

// readsBody reports whether anything of src evaluates the decoded body.
func readsBody(src *config.Source) bool {
	if src.Challenge != nil || src.EventType != nil || len(src.Schemas) > 0 || src.Dedupe != nil {
		return true
	}
	for _, r := range src.Routes {
		if r.Filter != nil || r.Transform != nil || r.Ordering != nil {
			return true
		}
	}
	return false
}

func evalRoute(r *config.Route, event string, in *rules.Input, body []byte) RouteResult {
	rr := RouteResult{Route: r}
	if !r.TakesEvent(event) {
		rr.Reason = fmt.Sprintf("event type %q is not in the route's events", event)
		return rr
	}
	if ok, reason := passes(r, in); !ok {
		rr.Reason = reason
		return rr
	}
	rr.Matched = true
	out, err := transform(r, in, body)
	if err != nil {
		rr.Reason = "transform failed: " + err.Error()
		return rr
	}
	key, blocks := orderingKey(r, in)
	for _, d := range r.Destinations {
		rr.Deliveries = append(rr.Deliveries, Delivery{Route: r, Destination: d, Body: out, Key: key, KeyBlocks: blocks})
	}
	return rr
}

// passes runs r's filter on in: true when r has none or it is true, else
// false and why.
func passes(r *config.Route, in *rules.Input) (bool, string) {
	if r.Filter == nil {
		return true, ""
	}
	ok, err := r.Filter.Bool(in)
	if err != nil {
		return false, "filter failed: " + err.Error()
	}
	if !ok {
		return false, "filter is false"
	}
	return true, ""
}

// transform is the body r delivers for in: its transform's output, or
// body as is when it has none.
func transform(r *config.Route, in *rules.Input, body []byte) ([]byte, error) {
	if r.Transform == nil {
		return body, nil
	}
	return r.Transform.JSON(in)
}

// FormJSON turns a form body (application/x-www-form-urlencoded) into the
// JSON object of its fields, the event a source that takes forms stores
// and delivers: a name given once is a string, a name given more than
// once a list of strings.
func FormJSON(body []byte) ([]byte, error) {
	fields, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	obj := make(map[string]any, len(fields))
	for k, vs := range fields {
		if len(vs) == 1 {
			obj[k] = vs[0]
		} else {
			obj[k] = vs
		}
	}
	return json.Marshal(obj)
}
