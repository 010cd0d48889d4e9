package verify

import (
	"net/http"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/spec"
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
			secretAttr("The signing secret: \"whsec_\" and base64, as Standard Webhooks and Svix print it, or any other string used as the raw key.",
				`env("SOURCE_SECRET")`),
			secretsAttr,
			toleranceAttr("webhook-timestamp"),
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
	_ plugins.MatchedSecret = (*StandardWebhooks)(nil)
)

func newStandardWebhooks(v spec.Values) (*StandardWebhooks, error) {
	sw, err := mac.NewStandardWebhooks(v, "secret")
	if err != nil {
		return nil, err
	}
	tol, err := mac.Tolerance(v, "tolerance")
	if err != nil {
		return nil, err
	}
	return &StandardWebhooks{sw: sw, tolerance: tol}, nil
}

// CredentialHeaders names the signature headers (Standard Webhooks' and
// Svix's): they are not stored.
func (p *StandardWebhooks) CredentialHeaders() []string {
	return []string{"Webhook-Signature", "Svix-Signature"}
}

// Verify accepts r when its timestamp is within the tolerance of now and
// one of its v1 signatures matches one of the secrets.
func (p *StandardWebhooks) Verify(r *plugins.Request, now time.Time) error {
	_, err := p.VerifyMatched(r, now)
	return err
}

// VerifyMatched is Verify that also returns the index of the secret that
// matched.
func (p *StandardWebhooks) VerifyMatched(r *plugins.Request, now time.Time) (int, error) {
	return p.sw.Match(r.Header, r.Body, now, p.tolerance)
}

// SignRequest sets webhook-id to id, webhook-timestamp to now and
// webhook-signature for body, made with the first secret.
func (p *StandardWebhooks) SignRequest(h http.Header, body []byte, id string, now time.Time) {
	p.sw.Sign(h, id, now, body)
}
