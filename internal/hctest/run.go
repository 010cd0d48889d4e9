package hctest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/jsondiff"
	"github.com/hookgate/hookgate/internal/routing"
)

// Result is one test's verdict.
type Result struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Name string `json:"name"`
	// Passed is true when every expectation held.
	Passed   bool      `json:"passed"`
	Failures []Failure `json:"failures,omitempty"`
	// Status is what the gateway would answer the sender.
	Status int `json:"status"`
}

// Failure is one expectation that did not hold.
type Failure struct {
	// Destination is the expect block's or expect_none's destination, ""
	// for the status.
	Destination string `json:"destination,omitempty"`
	Problem     string `json:"problem"`
	// Diff is the unified diff from the expected body to the one the
	// destination would get, when the bodies differ.
	Diff string `json:"diff,omitempty"`
}

// testDeliveryID is the webhook id the headers of a test's deliveries are
// computed with.
const testDeliveryID = "dlv_test"

// Run runs t against cfg (whose names f.Check has checked) at now, the
// time signatures are judged and made at.
func Run(cfg *config.Config, t *Test, now time.Time) Result {
	res := Result{File: t.Range.Filename, Line: t.Range.Start.Line, Name: t.Name}
	src := cfg.Source(t.Source)
	if src == nil {
		res.Failures = append(res.Failures, Failure{Problem: fmt.Sprintf("no source named %q", t.Source)})
		return res
	}
	out := routing.Simulate(src, routing.Request{Header: t.Header, Body: t.Body, Verify: t.Verify, Now: now})
	res.Status = out.Status
	if want := t.ExpectStatus; want != 0 && out.Status != want || want == 0 && !out.Accepted {
		f := Failure{Problem: fmt.Sprintf("the gateway would answer %d, want %d", out.Status, want)}
		if want == 0 {
			f.Problem = fmt.Sprintf("the gateway would answer %d, want the event accepted", out.Status)
		}
		if out.Error != "" {
			f.Problem += ": " + out.Error
		}
		for _, p := range out.Fields {
			path := p.Path
			if path == "" {
				path = "(the event)"
			}
			f.Problem += fmt.Sprintf("\n%s: %s", path, p.Problem)
		}
		res.Failures = append(res.Failures, f)
	}

	byDest := map[string][]routing.Delivery{}
	for _, d := range out.Deliveries() {
		byDest[d.Destination.Name] = append(byDest[d.Destination.Name], d)
	}
	for _, e := range t.Expect {
		if f, ok := check(e, byDest[e.Destination], out, now); !ok {
			res.Failures = append(res.Failures, f)
		}
	}
	for _, name := range t.ExpectNone {
		if ds := byDest[name]; len(ds) > 0 {
			var routes []string
			for _, d := range ds {
				routes = append(routes, d.Route.Name)
			}
			res.Failures = append(res.Failures, Failure{Destination: name,
				Problem: fmt.Sprintf("gets %d %s (route %s), want none", len(ds), plural(len(ds), "delivery", "deliveries"), strings.Join(routes, ", "))})
		}
	}
	res.Passed = len(res.Failures) == 0
	return res
}

// check reports whether one of ds (the destination's deliveries) meets e;
// when none does, the failure shows the first against it.
func check(e *Expect, ds []routing.Delivery, out routing.Outcome, now time.Time) (Failure, bool) {
	f := Failure{Destination: e.Destination}
	if len(ds) == 0 {
		f.Problem = "gets no delivery" + whyNot(e.Destination, out)
		return f, false
	}
	for _, d := range ds {
		if (e.Body == nil || jsondiff.Equal(e.Body, d.Body)) && headersMissing(e, d, now) == "" {
			return f, true
		}
	}
	d := ds[0]
	if e.Body != nil && !jsondiff.Equal(e.Body, d.Body) {
		f.Problem = "the body differs"
		if len(ds) > 1 {
			f.Problem = fmt.Sprintf("no delivery of %d has the body; the first (route %s) differs", len(ds), d.Route.Name)
		}
		f.Diff = jsondiff.Diff("want", "got (route "+d.Route.Name+")", e.Body, d.Body)
		return f, false
	}
	f.Problem = headersMissing(e, d, now)
	return f, false
}

// headersMissing says which of e's headers the delivery's request lacks or
// carries with another value ("" when it has them all).
func headersMissing(e *Expect, d routing.Delivery, now time.Time) string {
	if len(e.Headers) == 0 {
		return ""
	}
	h := delivery.Headers(d.Destination, testDeliveryID, now, d.Body)
	var bad []string
	names := make([]string, 0, len(e.Headers))
	for k := range e.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		want := e.Headers[k]
		got, ok := h[http.CanonicalHeaderKey(k)]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("header %s is missing, want %q", k, want))
		case strings.Join(got, ", ") != want:
			bad = append(bad, fmt.Sprintf("header %s is %q, want %q", k, strings.Join(got, ", "), want))
		}
	}
	return strings.Join(bad, "; ")
}

// whyNot explains why a destination got nothing: the answer, or each of
// its routes' reasons.
func whyNot(dest string, out routing.Outcome) string {
	if !out.Accepted {
		return fmt.Sprintf(" (the event is not accepted: %d)", out.Status)
	}
	var why []string
	for _, rr := range out.Result.Routes {
		for _, d := range rr.Route.Destinations {
			if d.Name == dest && rr.Reason != "" {
				why = append(why, fmt.Sprintf("route %s: %s", rr.Route.Name, rr.Reason))
			}
		}
	}
	if len(why) == 0 {
		return fmt.Sprintf(" (no route of this source sends %s events to it)", eventName(out.EventType))
	}
	return " (" + strings.Join(why, "; ") + ")"
}

func eventName(t string) string {
	if t == "" {
		return "its"
	}
	b, _ := json.Marshal(t)
	return string(b)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
