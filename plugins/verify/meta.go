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
		Name: "meta",
		Doc: "Checks the signature of Meta's webhooks (Facebook, Instagram, WhatsApp, Messenger): " +
			"X-Hub-Signature-256 is \"sha256=\" and the hex HMAC-SHA256 of the exact body under the app secret, " +
			"as GitHub's (developers.facebook.com, \"Webhooks: Validating payloads\"). " +
			"Meta's GET hub.challenge handshake is not answered yet: verify the endpoint in the App Dashboard " +
			"once hookgate answers it.",
		Attrs: []spec.Attr{
			secretAttr("The App Secret (App Dashboard → App settings → Basic).", `env("META_APP_SECRET")`),
			secretsAttr,
			{Name: "verify_token", Kind: spec.Secret, Example: `env("META_VERIFY_TOKEN")`,
				Doc: "The Verify Token typed in the App Dashboard's Webhooks settings, for the GET hub.challenge handshake. " +
					"Accepted now so a config need not change, but not used yet: hookgate does not answer the handshake."},
		},
		New: func(v spec.Values) (any, error) { return newMeta(v) },
	})
}

// Meta is the verify "meta" plugin: the POST part of Meta's webhooks.
type Meta struct {
	mac *mac.BodyMAC
}

var (
	_ plugins.Verifier          = (*Meta)(nil)
	_ plugins.RequestSigner     = (*Meta)(nil)
	_ plugins.CredentialHeaders = (*Meta)(nil)
	_ plugins.MatchedSecret     = (*Meta)(nil)
)

func newMeta(v spec.Values) (*Meta, error) {
	secrets, _, err := mac.Secrets(v, "secret", "secrets")
	if err != nil {
		return nil, err
	}
	if v.IsSet("verify_token") {
		if _, err := mac.Secret(v, "verify_token"); err != nil {
			return nil, err
		}
	}
	return &Meta{mac: hubSignature256(secrets)}, nil
}

// Verify accepts r when X-Hub-Signature-256 holds the HMAC of its body under
// one of the secrets.
func (p *Meta) Verify(r *plugins.Request, now time.Time) error {
	_, err := p.VerifyMatched(r, now)
	return err
}

// VerifyMatched is Verify that also returns the index of the secret that
// matched.
func (p *Meta) VerifyMatched(r *plugins.Request, _ time.Time) (int, error) {
	return p.mac.Match(r.Header, r.Body)
}

// CredentialHeaders names the signature headers, the SHA-256 one checked and
// the SHA-1 one Meta also sends: neither is stored.
func (p *Meta) CredentialHeaders() []string {
	return []string{"X-Hub-Signature-256", "X-Hub-Signature"}
}

// SignRequest sets X-Hub-Signature-256 for body, made with the first secret.
func (p *Meta) SignRequest(h http.Header, body []byte, _ string, _ time.Time) {
	p.mac.Sign(h, body)
}
