package sign

import (
	"net/http"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindSign,
		Name: "hmac",
		Doc: "Signs each delivery with an HMAC of the exact body in one header, " +
			"for receivers that check a plain body signature (the scheme of verify \"hmac\"). " +
			"While a secret is rotated out (previous_secret, until previous_until) the header holds two signatures separated by a comma, " +
			"the new one first, each written as it would be alone: \"sha256=<new>,sha256=<old>\". " +
			"A receiver must accept the header when any comma-separated entry matches, as Stripe's libraries do with several v1 entries; " +
			"verify \"hmac\" and `hookgate sink` do.",
		Attrs: append([]spec.Attr{
			{Name: "header", Kind: spec.String, Default: "X-Hookgate-Signature",
				Doc: "The header that carries the signature.", Example: `"X-Hookgate-Signature"`},
			{Name: "secret", Kind: spec.Secret, Required: true,
				Doc: "The key shared with the receiver.", Example: `env("TEAM_SECRET")`},
			{Name: "algorithm", Kind: spec.String, Default: "sha256", Enum: mac.Algorithms,
				Doc: "The hash function of the HMAC.", Example: `"sha256"`},
			{Name: "encoding", Kind: spec.String, Default: "hex", Enum: mac.Encodings,
				Doc: "How the signature is written: lower-case hex or standard base64.", Example: `"hex"`},
			{Name: "prefix", Kind: spec.String,
				Doc: "Text written before the signature; empty for none.", Example: `"sha256="`},
		}, previousAttrs(`the header holds both, comma-separated, the new one first: "<new>,<old>", each with the prefix`)...),
		New: func(v spec.Values) (any, error) { return newHMAC(v) },
	})
}

// HMAC is the sign "hmac" plugin: an HMAC of the body in one header.
type HMAC struct {
	mac *mac.BodyMAC
	// prev is the secret being rotated out, nil when none; withPrev checks
	// with both while it signs.
	prev     *previous
	withPrev *mac.BodyMAC
}

var (
	_ plugins.Signer  = (*HMAC)(nil)
	_ plugins.Checker = (*HMAC)(nil)
)

func newHMAC(v spec.Values) (*HMAC, error) {
	m, err := mac.NewBodyMAC(v)
	if err != nil {
		return nil, err
	}
	prev, err := newPrevious(v, rawKey)
	if err != nil {
		return nil, err
	}
	if prev != nil && strings.Contains(v.String("prefix"), mac.ListSeparator) {
		return nil, spec.Errorf("prefix", "must not contain %q while previous_secret is set: the header lists the signatures separated by commas", mac.ListSeparator)
	}
	p := &HMAC{mac: m, prev: prev}
	if prev != nil {
		p.withPrev = m.With(prev.key)
	}
	return p, nil
}

// Sign sets the signature header for m's body. Until previous_until (judged
// by m.Timestamp) the header also holds the previous secret's signature,
// after a comma.
func (p *HMAC) Sign(h http.Header, m plugins.Message) {
	p.mac.Sign(h, m.Body)
	if p.prev.active(m.Timestamp) {
		p.mac.SignAlso(h, m.Body, p.prev.key)
	}
}

// Check accepts a delivery whose signature header holds the HMAC of body,
// alone or in a comma-separated list, made with the secret or, until
// previous_until, with the previous secret.
func (p *HMAC) Check(h http.Header, body []byte, now time.Time) error {
	if p.prev.active(now) {
		return p.withPrev.Verify(h, body)
	}
	return p.mac.Verify(h, body)
}
