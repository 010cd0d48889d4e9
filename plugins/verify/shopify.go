package verify

import (
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindVerify,
		Name: "shopify",
		Doc: "Checks Shopify's webhook signature: X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of the exact body " +
			"under the app's client secret (shopify.dev, \"Verify webhooks\"). The signature carries no timestamp, " +
			"so there is no tolerance.",
		Attrs: []spec.Attr{
			secretAttr("The app's client secret (Partner Dashboard or Dev Dashboard → the app → Settings), "+
				"or for webhooks made in the store admin the key shown under Settings → Notifications → Webhooks.",
				`env("SHOPIFY_SECRET")`),
			secretsAttr,
		},
		New: func(v spec.Values) (any, error) { return newShopify(v) },
	})
}

// Shopify is the verify "shopify" plugin.
type Shopify struct {
	mac *mac.BodyMAC
}

var (
	_ plugins.Verifier          = (*Shopify)(nil)
	_ plugins.RequestSigner     = (*Shopify)(nil)
	_ plugins.CredentialHeaders = (*Shopify)(nil)
	_ plugins.MatchedSecret     = (*Shopify)(nil)
)

func newShopify(v spec.Values) (*Shopify, error) {
	secrets, _, err := mac.Secrets(v, "secret", "secrets")
	if err != nil {
		return nil, err
	}
	return &Shopify{mac: mac.NewFixedBodyMAC("X-Shopify-Hmac-Sha256", "", "base64", sha256.New, mac.RawKeys(secrets))}, nil
}

// Verify accepts r when X-Shopify-Hmac-Sha256 holds the HMAC of its body
// under one of the secrets.
func (p *Shopify) Verify(r *plugins.Request, now time.Time) error {
	_, err := p.VerifyMatched(r, now)
	return err
}

// VerifyMatched is Verify that also returns the index of the secret that
// matched.
func (p *Shopify) VerifyMatched(r *plugins.Request, _ time.Time) (int, error) {
	return p.mac.Match(r.Header, r.Body)
}

// CredentialHeaders names the signature header: it is not stored.
func (p *Shopify) CredentialHeaders() []string { return []string{"X-Shopify-Hmac-Sha256"} }

// SignRequest sets X-Shopify-Hmac-Sha256 for body, made with the first
// secret.
func (p *Shopify) SignRequest(h http.Header, body []byte, _ string, _ time.Time) {
	p.mac.Sign(h, body)
}
