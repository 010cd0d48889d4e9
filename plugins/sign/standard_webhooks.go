package sign

import (
	"net/http"
	"time"

	"github.com/hookgate/hookgate/gateway/config/spec"
	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
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
		Attrs: []spec.Attr{
			{Name: "secret", Kind: spec.Secret, Required: true,
				Doc:     "The signing secret shared with the receiver: \"whsec_\" and base64, as Standard Webhooks libraries expect, or any other string used as the raw key.",
				Example: `env("TIKTOK_SECRET")`},
		},
		New: func(v spec.Values) (any, error) { return newStandardWebhooks(v) },
	})
}

// StandardWebhooks is the sign "standard_webhooks" plugin.
type StandardWebhooks struct {
	sw *mac.StandardWebhooks
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
	return &StandardWebhooks{sw: sw}, nil
}

// Sign sets webhook-id, webhook-timestamp and webhook-signature for m.
func (p *StandardWebhooks) Sign(h http.Header, m plugins.Message) {
	p.sw.Sign(h, m.ID, m.Timestamp, m.Body)
}

// Check accepts a delivery whose timestamp lies within five minutes of now
// and whose signature list holds a matching v1 entry.
func (p *StandardWebhooks) Check(h http.Header, body []byte, now time.Time) error {
	return p.sw.Verify(h, body, now, checkTolerance)
}
