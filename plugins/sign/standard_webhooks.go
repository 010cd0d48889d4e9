package sign

import (
	"net/http"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/spec"
)

// checkTolerance is how far a delivery's webhook-timestamp may lie from the
// checker's clock, the Standard Webhooks recommendation.
const checkTolerance = 5 * time.Minute

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindSign,
		Name: "standard_webhooks",
		Doc: "Signs each delivery the Standard Webhooks way (https://www.standardwebhooks.com): " +
			"webhook-id (the delivery's id, the same on every attempt), webhook-timestamp (Unix seconds of the attempt) " +
			"and webhook-signature (\"v1,\" and the base64 HMAC-SHA256 of id.timestamp.body). " +
			"Receivers check it with any Standard Webhooks or Svix library.",
		Attrs: append([]spec.Attr{
			{Name: "secret", Kind: spec.Secret, Required: true,
				Doc:     "The signing secret shared with the receiver: \"whsec_\" and base64, as Standard Webhooks libraries expect, or any other string used as the raw key.",
				Example: `env("TIKTOK_SECRET")`},
		}, previousAttrs(`webhook-signature holds both, space-separated, the new one first: "v1,<new> v1,<old>", as the Standard Webhooks list allows; every Standard Webhooks library accepts a list with one matching entry`)...),
		New: func(v spec.Values) (any, error) { return newStandardWebhooks(v) },
	})
}

// StandardWebhooks is the sign "standard_webhooks" plugin.
type StandardWebhooks struct {
	sw *mac.StandardWebhooks
	// prev is the secret being rotated out, nil when none; withPrev checks
	// with both while it signs.
	prev     *previous
	withPrev *mac.StandardWebhooks
}

var (
	_ plugins.Signer  = (*StandardWebhooks)(nil)
	_ plugins.Checker = (*StandardWebhooks)(nil)
)

func newStandardWebhooks(v spec.Values) (*StandardWebhooks, error) {
	sw, err := mac.NewStandardWebhooks(v, "secret")
	if err != nil {
		return nil, err
	}
	prev, err := newPrevious(v, mac.DecodeSecret)
	if err != nil {
		return nil, err
	}
	p := &StandardWebhooks{sw: sw, prev: prev}
	if prev != nil {
		p.withPrev = sw.With(prev.key)
	}
	return p, nil
}

// Sign sets webhook-id, webhook-timestamp and webhook-signature for m. Until
// previous_until (judged by m.Timestamp) the signature list also holds the
// previous secret's signature, after the new one.
func (p *StandardWebhooks) Sign(h http.Header, m plugins.Message) {
	p.sw.Sign(h, m.ID, m.Timestamp, m.Body)
	if p.prev.active(m.Timestamp) {
		p.sw.SignAlso(h, m.ID, m.Timestamp, m.Body, p.prev.key)
	}
}

// Check accepts a delivery whose timestamp lies within five minutes of now
// and whose signature list holds a matching v1 entry, made with the secret
// or, until previous_until, with the previous secret.
func (p *StandardWebhooks) Check(h http.Header, body []byte, now time.Time) error {
	if p.prev.active(now) {
		return p.withPrev.Verify(h, body, now, checkTolerance)
	}
	return p.sw.Verify(h, body, now, checkTolerance)
}
