package verify

import (
	"net/http"
	"time"

	"github.com/hookgate/hookgate/gateway/config/spec"
	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindVerify,
		Name: "standard_webhooks",
		Doc: "Checks the Standard Webhooks signature (https://www.standardwebhooks.com): " +
			"the webhook-id, webhook-timestamp and webhook-signature headers, " +
			"with an HMAC-SHA256 of id.timestamp.body. Any v1 entry of the signature list may match; " +
			"other versions are ignored. Svix's svix-id, svix-timestamp and svix-signature headers are read " +
			"when no webhook-* header is present.",
		Attrs: []spec.Attr{
			{Name: "secret", Kind: spec.Secret, Required: true,
				Doc:     "The signing secret: \"whsec_\" and base64, as Standard Webhooks and Svix print it, or any other string used as the raw key.",
				Example: `env("SOURCE_SECRET")`},
			{Name: "tolerance", Kind: spec.Duration, Default: "5m",
				Doc:     "How far webhook-timestamp may lie from the gateway's clock, in the past or the future; older or newer requests are refused as replays.",
				Example: `"5m"`},
		},
		New: func(v spec.Values) (any, error) { return newStandardWebhooks(v) },
	})
}

// StandardWebhooks is the verify "standard_webhooks" plugin.
type StandardWebhooks struct {
	sw        *mac.StandardWebhooks
	tolerance time.Duration
}

var (
	_ plugins.Verifier      = (*StandardWebhooks)(nil)
	_ plugins.RequestSigner = (*StandardWebhooks)(nil)
)

func newStandardWebhooks(v spec.Values) (*StandardWebhooks, error) {
	sw, err := mac.NewStandardWebhooks(v, "secret")
	if err != nil {
		return nil, err
	}
	tol := v.Duration("tolerance")
	if tol <= 0 {
		return nil, spec.Errorf("tolerance", "must be more than 0s; a zero tolerance refuses every request. The usual value is \"5m\"")
	}
	return &StandardWebhooks{sw: sw, tolerance: tol}, nil
}

// CredentialHeaders names the signature headers (Standard Webhooks' and
// Svix's): they are not stored.
func (p *StandardWebhooks) CredentialHeaders() []string {
	return []string{"Webhook-Signature", "Svix-Signature"}
}

// Verify accepts r when its timestamp is within the tolerance of now and
// one of its v1 signatures matches.
func (p *StandardWebhooks) Verify(r *plugins.Request, now time.Time) error {
	return p.sw.Verify(r.Header, r.Body, now, p.tolerance)
}

// SignRequest sets webhook-id to id, webhook-timestamp to now and
// webhook-signature for body.
func (p *StandardWebhooks) SignRequest(h http.Header, body []byte, id string, now time.Time) {
	p.sw.Sign(h, id, now, body)
}
