package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/routing"
	"github.com/hookgate/hookgate/internal/rules"
	"github.com/hookgate/hookgate/plugins"
)

// routeReport is the JSON `hookgate route` prints.
type routeReport struct {
	Source    string          `json:"source"`
	Verify    verifyReport    `json:"verify"`
	Challenge json.RawMessage `json:"challenge,omitempty"`
	EventType string          `json:"event_type"`
	Schema    string          `json:"schema,omitempty"`
	// Status is what the gateway would answer the sender.
	Status    int             `json:"status"`
	Error     string          `json:"error,omitempty"`
	Problems  []rules.Problem `json:"problems"`
	DedupeKey string          `json:"dedupe_key,omitempty"`
	Routes    []routeEntry    `json:"routes"`
}

type verifyReport struct {
	Plugin string `json:"plugin"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

type routeEntry struct {
	Route        string        `json:"route"`
	Matched      bool          `json:"matched"`
	Reason       string        `json:"reason,omitempty"`
	Destinations []destination `json:"destinations,omitempty"`
}

type destination struct {
	Destination string `json:"destination"`
	URL         string `json:"url,omitempty"`
	// A destination that is not HTTP: its kind, its broker (without
	// credentials), the subject, topic, exchange or stream, RabbitMQ's
	// routing key and the message key.
	Kind       string            `json:"kind,omitempty"`
	Broker     string            `json:"broker,omitempty"`
	Target     string            `json:"target,omitempty"`
	RoutingKey string            `json:"routing_key,omitempty"`
	Key        *string           `json:"key,omitempty"`
	KeyError   string            `json:"key_error,omitempty"`
	Headers    map[string]string `json:"headers"`
	Body       json.RawMessage   `json:"body"`
	// RawBody is the exact bytes sent, which the signature covers.
	RawBody string `json:"raw_body"`
	// OrderingKey is the ordering key, when the route orders its
	// deliveries (Key is a Kafka destination's message key).
	OrderingKey string `json:"ordering_key,omitempty"`
}

// routeCmd is `hookgate route [-config F] -source NAME [-H 'K: V']... EVENT.json`:
// a dry run printing, as JSON, the event's type and schema problems, every
// route of the source with matched true or false, and for each matched
// destination the URL, headers (signature computed) and exact body. Nothing
// is stored or sent. The signature check is reported, not enforced, so
// unsigned sample events can be routed.
func routeCmd(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "route")
	path := configFlag(env, fs)
	source := fs.String("source", "", "the source the event arrives at (required)")
	var headers headerFlags
	fs.Var(&headers, "H", "a request header 'Key: Value' (repeatable)")
	id := fs.String("id", "", "webhook id to sign deliveries with (default: a new id per delivery)")
	stamp := fs.String("timestamp", "", "unix time to sign deliveries at (default: now)")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *source == "" || fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	now := time.Now()
	if *stamp != "" {
		sec, err := strconv.ParseInt(*stamp, 10, 64)
		if err != nil {
			fmt.Fprintf(env.Stderr, "hookgate route: -timestamp %q is not a unix time in seconds\n", *stamp)
			return 2
		}
		now = time.Unix(sec, 0)
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(env.Stderr, "hookgate route: %v\n", err)
		return 1
	}
	cfg := load(env, *path)
	if cfg == nil {
		return 1
	}
	src := cfg.Source(*source)
	if src == nil {
		var names []string
		for _, s := range cfg.Sources {
			names = append(names, s.Name)
		}
		fmt.Fprintf(env.Stderr, "hookgate route: no source named %q in %s (sources: %s)\n", *source, *path, strings.Join(names, ", "))
		return 1
	}
	h := http.Header{}
	for _, kv := range headers {
		k, v, _ := strings.Cut(kv, ":")
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}

	rep := routeReport{Source: src.Name, Verify: verifyReport{Plugin: src.VerifyPlugin, OK: true}, Problems: []rules.Problem{}, Routes: []routeEntry{}}
	// A source that takes forms: the file is the form as sent or, for a
	// provider that posts forms (Twilio), its fields as a JSON object, as
	// `hookgate send` takes them. It is verified as sent and evaluated as
	// the JSON event ingest makes of it.
	signed, event := body, body
	if src.Accepts(config.ContentForm) && !json.Valid(body) {
		if event, err = routing.FormJSON(body); err != nil {
			fmt.Fprintf(env.Stderr, "hookgate route: %s is neither JSON nor a form: %v\n", fs.Arg(0), err)
			return 1
		}
	} else if fp, ok := src.Verifier.(plugins.FormPoster); ok && fp.PostsForms() {
		if signed, err = jsonToForm(body); err != nil {
			fmt.Fprintf(env.Stderr, "hookgate route: %s: %v\n", fs.Arg(0), err)
			return 1
		}
		if event, err = routing.FormJSON(signed); err != nil {
			fmt.Fprintf(env.Stderr, "hookgate route: %s: %v\n", fs.Arg(0), err)
			return 1
		}
	}
	if src.Verifier != nil {
		if err := src.Verifier.Verify(&plugins.Request{Method: http.MethodPost, Header: h, Body: signed}, now); err != nil {
			rep.Verify = verifyReport{Plugin: src.VerifyPlugin, OK: false, Reason: err.Error()}
		}
	}
	body = event
	if c, ok := src.Verifier.(plugins.Challenger); ok && rep.Verify.OK {
		// The provider's URL check (Slack's), answered by its verifier.
		if answer, ok := c.Challenge(body); ok {
			rep.Status, rep.Challenge = http.StatusOK, answer
			return printRoute(env, rep)
		}
	}
	res, err := routing.Evaluate(src, h, body)
	switch {
	case err != nil:
		rep.Status, rep.Error = http.StatusBadRequest, err.Error()
	case res.Challenge != nil:
		rep.Status, rep.Challenge = http.StatusOK, res.Challenge
	case res.Rejected():
		rep.Status, rep.EventType, rep.Problems = http.StatusUnprocessableEntity, res.EventType, append(rep.Problems, res.Problems...)
		if res.UnknownEvent {
			rep.Error = res.UnknownEventError(src)
		}
	default:
		rep.Status, rep.EventType, rep.DedupeKey = http.StatusAccepted, res.EventType, res.DedupeKey
		if res.Schema != nil {
			rep.Schema = res.Schema.Name
		}
		for _, rr := range res.Routes {
			e := routeEntry{Route: rr.Route.Name, Matched: rr.Matched, Reason: rr.Reason}
			for _, d := range rr.Deliveries {
				did := *id
				if did == "" {
					did = ids.New(ids.Delivery, now)
				}
				if d.Destination.Kind != "" {
					kd := kindPreview(d.Destination, did, src.Name, res.EventType, now, d.Body)
					kd.OrderingKey = d.Key
					e.Destinations = append(e.Destinations, kd)
					continue
				}
				hdr := map[string]string{}
				for k, v := range delivery.Headers(d.Destination, did, now, d.Body) {
					hdr[k] = strings.Join(v, ", ")
				}
				e.Destinations = append(e.Destinations, destination{
					Destination: d.Destination.Name, URL: d.Destination.URL, Headers: hdr,
					Body: json.RawMessage(d.Body), RawBody: string(d.Body), OrderingKey: d.Key,
				})
			}
			rep.Routes = append(rep.Routes, e)
		}
	}
	if !rep.Verify.OK {
		// The signature is checked first: this is what the sender would see.
		rep.Status = http.StatusUnauthorized
	}
	return printRoute(env, rep)
}

// printRoute prints a route report as indented JSON.
func printRoute(env *Env, rep routeReport) int {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintf(env.Stderr, "hookgate route: %v\n", err)
		return 1
	}
	return 0
}

// kindPreview is the dry run's view of a message to a destination that is
// not HTTP: where it goes, its key, headers and body.
func kindPreview(dest *config.Destination, id, source, eventType string, now time.Time, body []byte) destination {
	hdr, key, err := delivery.Preview(dest, id, source, eventType, now, body)
	out := destination{
		Destination: dest.Name, Kind: dest.Kind, Broker: dest.Target.Shown, Target: dest.Target.Name,
		RoutingKey: dest.Target.RoutingKey, Headers: hdr, Body: json.RawMessage(body), RawBody: string(body),
	}
	switch {
	case err != nil:
		out.KeyError = err.Error()
	case dest.Key != nil:
		out.Key = &key
	}
	return out
}
