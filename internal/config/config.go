// Package config turns config.hcl into a compiled, immutable *Config: the
// snapshot that ingest, delivery and the admin API serve from.
//
// Loading is parse (hcl/v2, ranges kept) → decode (strict, against the block
// specs in blocks.go and each plugin's spec) → compile (names resolved,
// expr-lang programs compiled and type-checked against the schemas, plugins
// built). Every problem is an hcl.Diagnostic with the range of the text at
// fault; all are collected and reported together. A reload builds a new
// Config beside the running one; nothing here starts servers or does I/O
// beyond reading the config and the files it names.
package config

import (
	"errors"
	"net/http"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/internal/rules"
	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

// Config is a compiled configuration. It is immutable once loaded and safe
// for concurrent use.
type Config struct {
	// File is the path the config was loaded from.
	File string
	// Hash is the hex SHA-256 of the config file's bytes.
	Hash string
	// LoadedAt is when it was compiled.
	LoadedAt time.Time

	Gateway   Gateway
	Storage   Storage
	Telemetry Telemetry

	// Schemas, Sources, Destinations and Routes are in declaration order.
	Schemas      []*rules.Schema
	Sources      []*Source
	Destinations []*Destination
	Routes       []*Route
	// Alerts are the alert blocks, in declaration order.
	Alerts []*Alert

	sourceByName map[string]*Source
	sourceByPath map[string]*Source
	destByName   map[string]*Destination
	routeByName  map[string]*Route

	// files are the files file() read, by path, with the hex SHA-256 of
	// what they held; see ChangedFiles.
	files map[string]string
	// blocks maps each top-level block, "type label...", to the hex SHA-256
	// of its text; see Diff. Nil for a config not loaded from a file.
	blocks map[string]string
	// gatewayRange is the gateway block's header; nil without one.
	gatewayRange *hcl.Range
}

// GatewayRange returns the range of the gateway block's header, for a
// diagnostic about the block as a whole raised outside the loader (a
// reload's); nil when the file has no gateway block.
func (c *Config) GatewayRange() *hcl.Range { return c.gatewayRange }

// Source returns the source named name, or nil.
func (c *Config) Source(name string) *Source { return c.sourceByName[name] }

// SourceByPath returns the source listening on path, or nil.
func (c *Config) SourceByPath(path string) *Source { return c.sourceByPath[path] }

// Destination returns the destination named name, or nil.
func (c *Config) Destination(name string) *Destination { return c.destByName[name] }

// Route returns the route named name, or nil.
func (c *Config) Route(name string) *Route { return c.routeByName[name] }

// Close releases what the config's plugins hold, closing every one and
// returning all their errors joined. It is safe after a partial build and
// on a nil Config.
func (c *Config) Close() error {
	if c == nil {
		return nil
	}
	var errs []error
	for _, s := range c.Sources {
		errs = append(errs, plugins.Close(s.Verifier))
	}
	for _, d := range c.Destinations {
		errs = append(errs, plugins.Close(d.Signer))
	}
	return errors.Join(errs...)
}

// Gateway is the gateway block.
type Gateway struct {
	Listen      string
	AdminListen string
	AdminToken  secret.Secret
	MaxBody     int64
	Workers     int
	// MaxInFlight bounds the ingest requests served at once.
	MaxInFlight     int
	ShutdownTimeout time.Duration
}

// Storage is the storage block.
type Storage struct {
	// Kind is "embedded" or "redis".
	Kind string
	// Path is the embedded store's file, made absolute against the config's
	// folder.
	Path string
	// URL is the Redis URL.
	URL secret.Secret
	// Prefix is the Redis key prefix.
	Prefix string
	// Retention is how long finished records are kept.
	Retention time.Duration
}

// Telemetry is the telemetry block.
type Telemetry struct {
	ServiceName  string
	OTLPEndpoint string
	SampleRatio  float64
}

// Source is an inbound endpoint.
type Source struct {
	Name string
	Path string
	// EventType yields the event's type; nil when the source has none.
	EventType *rules.Program
	// Schemas maps event types to their schemas.
	Schemas map[string]*rules.Schema
	// AcceptUnknown reports whether events without a schema are accepted
	// (always true when Schemas is empty).
	AcceptUnknown bool
	// VerifyPlugin is the verify plugin's name ("none" when absent).
	VerifyPlugin string
	Verifier     plugins.Verifier
	Challenge    *Challenge
	Dedupe       *Dedupe
	// ContentTypes are the media types accepted (ContentJSON, ContentForm);
	// nil accepts any body that parses as JSON.
	ContentTypes []string
	// Respond replaces the 202 answer once an event is stored; nil keeps it.
	Respond *Respond
	// Routes are the enabled routes that take this source's events, in
	// declaration order.
	Routes []*Route
	// Range is where the source block is declared.
	Range hcl.Range
}

// The media types a source can accept (Source.ContentTypes).
const (
	ContentJSON = "application/json"
	ContentForm = "application/x-www-form-urlencoded"
)

// Accepts reports whether the source takes a body of media type mt ("" for
// a request without Content-Type, which counts as JSON).
func (s *Source) Accepts(mt string) bool {
	if mt == "" {
		mt = ContentJSON
	}
	if s.ContentTypes == nil {
		return true
	}
	for _, t := range s.ContentTypes {
		if t == mt {
			return true
		}
	}
	return false
}

// Respond is a source's answer to a stored event.
type Respond struct {
	Status      int
	Body        []byte
	ContentType string
}

// Challenge is a source's verification handshake.
type Challenge struct {
	When    *rules.Program
	Respond *rules.Program
}

// Dedupe is a source's duplicate detection.
type Dedupe struct {
	Key    *rules.Program
	Window time.Duration
}

// Destination is a receiver.
type Destination struct {
	Name string
	URL  string
	// URLSecret reports that URL was given through env() or file(), the
	// way secrets are: its path may be the credential (Slack- and
	// Discord-style webhook URLs), so it is shown and traced without its
	// path (ShownURL).
	URLSecret      bool
	Timeout        time.Duration
	Headers        http.Header
	MaxConcurrency int
	// RatePerSecond is the most attempts per second; 0 is unlimited.
	RatePerSecond float64
	// RateBurst is the burst the rate limit allows.
	RateBurst    int
	AllowPrivate bool
	// SignPlugin is the sign plugin's name ("" when unsigned).
	SignPlugin string
	Signer     plugins.Signer
	Retry      Retry
	// Breaker is the destination's circuit breaker; nil: none.
	Breaker *Breaker
	// AdaptiveConcurrency adapts the attempts in flight to the receiver.
	AdaptiveConcurrency bool
	Range               hcl.Range

	// Kind is the destination's kind block ("nats", "kafka", "rabbitmq",
	// "redis_stream"); "" for HTTP (URL).
	Kind string
	// Deliverer sends the messages of a Kind destination (nil for HTTP).
	// It is built without side effects; the delivery engine, which alone
	// uses it, connects it on its first attempt and closes it (Config.Close
	// does not: a reload with the same KindKey keeps the engine's).
	Deliverer plugins.Destination
	// Target says where a Kind destination's messages go, without secrets.
	Target plugins.Target
	// KindKey identifies the kind block's settings (a hash, secrets
	// included): equal keys deliver alike.
	KindKey string
	// Key is the kind's key expression (Kafka's record key), evaluated over
	// the delivered body; nil when none.
	Key *rules.Program
	// keySrc is Key's source, type-checked against the routes' schemas
	// once they are compiled (checkKeys).
	keySrc spec.ExprSource
}

// Shown is where the destination delivers as a person may see it: the URL
// (ShownURL) or, for a kind, its system, broker and subject, topic, exchange
// or stream, without credentials.
func (d *Destination) Shown() string {
	if d.Kind == "" {
		return d.ShownURL()
	}
	s := d.Kind + " " + d.Target.Shown + " " + d.Target.Name
	if d.Target.RoutingKey != "" {
		s += " " + d.Target.RoutingKey
	}
	return s
}

// ShownURL is the destination's URL as the dashboard, traces and
// diagnostics show it: without the query's values and the fragment, and,
// when URLSecret, without its path.
func (d *Destination) ShownURL() string {
	if d.URLSecret {
		return secret.RedactURLPath(d.URL)
	}
	return secret.RedactURL(d.URL)
}

// Retry is a destination's retry policy.
type Retry struct {
	// Schedule is the delay before each attempt after the first.
	Schedule []time.Duration
	// Jitter is the random spread of each delay, from 0 to 1.
	Jitter float64
}

// Route sends some events of some sources to some destinations.
type Route struct {
	Name    string
	Sources []*Source
	// Events are the event types taken; nil means all.
	Events []string
	// Filter selects events; nil matches all.
	Filter *rules.Program
	// Transform reshapes the body; nil sends it as received.
	Transform *rules.Program
	// Ordering, when set, orders the route's deliveries per key.
	Ordering     *Ordering
	Destinations []*Destination
	Enabled      bool
	// Typed reports whether the filter and transform were type-checked
	// against schemas.
	Typed bool
	Range hcl.Range
}

// TakesEvent reports whether the route takes events of type event.
func (r *Route) TakesEvent(event string) bool {
	if r.Events == nil {
		return true
	}
	for _, e := range r.Events {
		if e == event {
			return true
		}
	}
	return false
}
