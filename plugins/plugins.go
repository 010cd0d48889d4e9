// Package plugins is hookgate's plugin registry and the contracts of each
// plugin kind: verifiers check inbound webhooks (`verify "hmac" {...}` in a
// source), signers sign outbound deliveries (`sign "standard_webhooks" {...}`
// in a destination), destination kinds deliver them to a broker instead of
// an HTTP URL (`nats {...}` in a destination; destination.go).
//
// Each plugin is one file in a kind's package (plugins/verify,
// plugins/sign, plugins/deliver) that registers itself in init() with a namespaced name
// ("verify.hmac"), a spec of its block body and a constructor. The spec drives
// strict decoding, validation and the generated reference docs. Import
// plugins/standard to register every built-in plugin.
//
// This package must not know any particular plugin, nor the config file.
package plugins

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/hookgate/hookgate/spec"
)

// Kind is a plugin kind: the block type the plugin is used in.
type Kind string

// The plugin kinds.
const (
	KindVerify Kind = "verify" // checks inbound requests; New returns a Verifier
	KindSign   Kind = "sign"   // signs outbound deliveries; New returns a Signer
)

// Plugin is a registered plugin.
type Plugin struct {
	Kind Kind
	Name string
	// Doc says what the plugin does, for the reference docs.
	Doc string
	// Attrs describe the plugin's block body.
	Attrs []spec.Attr
	// New builds the plugin from its decoded, defaulted attributes. It has
	// no side effects. A problem with one attribute is returned as a
	// *spec.AttrError so it is reported at that attribute's range.
	New func(spec.Values) (any, error)
}

// ID is the plugin's namespaced name, such as "verify.hmac".
func (p Plugin) ID() string { return string(p.Kind) + "." + p.Name }

// Block is the plugin's block description, labelled with its name.
func (p Plugin) Block() *spec.Block {
	return &spec.Block{Type: string(p.Kind), Labels: []string{"plugin"}, Doc: p.Doc, Attrs: p.Attrs}
}

// Registry holds plugins by kind and name. The zero value is not usable; use
// NewRegistry or Default.
type Registry struct {
	mu      sync.RWMutex
	plugins map[string]Plugin
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{plugins: map[string]Plugin{}} }

// Default is the registry the built-in plugins register in.
var Default = NewRegistry()

// Register adds p. A duplicate name or a plugin without a constructor is a
// programmer error and panics.
func (r *Registry) Register(p Plugin) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.Kind == "" || p.Name == "" || p.New == nil {
		panic(fmt.Sprintf("plugins: incomplete plugin %q", p.ID()))
	}
	if _, dup := r.plugins[p.ID()]; dup {
		panic(fmt.Sprintf("plugins: %s registered twice", p.ID()))
	}
	r.plugins[p.ID()] = p
}

// Register adds p to the Default registry.
func Register(p Plugin) { Default.Register(p) }

// Lookup finds the plugin of kind named name.
func (r *Registry) Lookup(kind Kind, name string) (Plugin, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.plugins[string(kind)+"."+name]
	return p, ok
}

// Names lists the names of the plugins of kind, sorted.
func (r *Registry) Names(kind Kind) []string {
	var names []string
	for _, p := range r.All() {
		if p.Kind == kind {
			names = append(names, p.Name)
		}
	}
	return names
}

// All lists every plugin, sorted by ID.
func (r *Registry) All() []Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Plugin, 0, len(r.plugins))
	for _, p := range r.plugins {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// Request is an inbound webhook as a verifier sees it: the headers and the
// exact body bytes.
type Request struct {
	Method string
	Header http.Header
	Body   []byte
}

// Verifier checks that an inbound webhook comes from its sender. now is the
// time to judge timestamps against. A refusal wraps ErrUnauthorized, with a
// message safe to show the sender.
type Verifier interface {
	Verify(r *Request, now time.Time) error
}

// CredentialHeaders is the optional ability of a verifier to name the
// request headers it reads a secret, token, password or signature from.
// Ingest never stores those headers with the event, whatever their name.
type CredentialHeaders interface {
	CredentialHeaders() []string
}

// MatchedSecret is the optional ability of a verifier that takes several
// secrets (`secrets = [new, old]`, while a secret is rotated) to say which
// one a request was signed with. VerifyMatched is Verify that, on success,
// also returns the index of the matching secret in the list (0 for a single
// `secret`), so an operator can see when an old secret stops being used.
type MatchedSecret interface {
	VerifyMatched(r *Request, now time.Time) (int, error)
}

// Handshaker is the optional ability of a verifier to answer its
// provider's subscription handshake, a GET that proves the endpoint is
// hookgate's (Meta's hub.challenge). Handshake reports ok false when query
// is not one; otherwise it returns the answer's status, content type and
// body. Ingest stores nothing for a handshake.
type Handshaker interface {
	Handshake(query url.Values) (status int, contentType string, body []byte, ok bool)
}

// HandshakeSender is the optional ability of a Handshaker to make the
// handshake it answers, for `hookgate send -get`: the query of a GET that
// carries challenge.
type HandshakeSender interface {
	HandshakeQuery(challenge string) url.Values
}

// Challenger is the optional ability of a verifier to answer its
// provider's URL check, a verified request that asks the endpoint to echo
// a value (Slack's url_verification). Challenge reports ok false when body
// is not one; otherwise it returns the JSON answer. Ingest answers it with
// 200 and stores nothing, as a source's own challenge block does.
type Challenger interface {
	Challenge(body []byte) (answer []byte, ok bool)
}

// FormPoster is the optional ability of a verifier to say its provider
// posts forms (application/x-www-form-urlencoded, Twilio): a source with
// such a verifier and no content_types of its own accepts JSON and forms.
type FormPoster interface {
	PostsForms() bool
}

// ErrUnauthorized is wrapped by every verifier refusal: a missing or wrong
// signature, token or password, or a stale timestamp.
var ErrUnauthorized = errors.New("unauthorized")

// Refuse returns an error wrapping ErrUnauthorized with a reason safe to show
// the sender (never a secret or an expected signature).
func Refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnauthorized, fmt.Sprintf(format, args...))
}

// RequestSigner is the optional ability of a verifier to make a request it
// would accept: `hookgate send` uses it to sign test events the way a source
// verifies them. id is a unique message id for schemes that carry one.
type RequestSigner interface {
	SignRequest(h http.Header, body []byte, id string, now time.Time)
}

// Message is an outbound delivery as a signer sees it.
type Message struct {
	// ID is the delivery's id, the same on every attempt.
	ID string
	// Timestamp is when this attempt is signed.
	Timestamp time.Time
	// Body is the exact bytes sent.
	Body []byte
}

// Signer adds signature headers to an outbound delivery.
type Signer interface {
	Sign(h http.Header, m Message)
}

// Checker is the optional ability of a signer to check a delivery it would
// have signed: `hookgate sink -secret` uses it. A refusal wraps
// ErrUnauthorized.
type Checker interface {
	Check(h http.Header, body []byte, now time.Time) error
}

// Close releases what a plugin holds, if it holds anything (io.Closer).
// It is safe on any plugin value.
func Close(p any) error {
	if c, ok := p.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
