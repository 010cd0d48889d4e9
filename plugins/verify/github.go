package verify

import (
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindVerify,
		Name: "github",
		Doc: "Checks GitHub's webhook signature: X-Hub-Signature-256 is \"sha256=\" and the hex HMAC-SHA256 " +
			"of the exact body under the webhook's secret (docs.github.com, \"Validating webhook deliveries\"). " +
			"The signature carries no timestamp, so there is no tolerance. Neither X-Hub-Signature-256 nor the older " +
			"SHA-1 X-Hub-Signature is stored with the event.",
		Attrs: []spec.Attr{
			secretAttr("The webhook's Secret, as typed in the repository's or organization's Settings → Webhooks.",
				`env("GITHUB_WEBHOOK_SECRET")`),
			secretsAttr,
		},
		New: func(v spec.Values) (any, error) { return newGitHub(v) },
	})
}

// GitHub is the verify "github" plugin.
type GitHub struct {
	mac *mac.BodyMAC
}

var (
	_ plugins.Verifier          = (*GitHub)(nil)
	_ plugins.RequestSigner     = (*GitHub)(nil)
	_ plugins.CredentialHeaders = (*GitHub)(nil)
	_ plugins.MatchedSecret     = (*GitHub)(nil)
)

func newGitHub(v spec.Values) (*GitHub, error) {
	secrets, _, err := mac.Secrets(v, "secret", "secrets")
	if err != nil {
		return nil, err
	}
	return &GitHub{mac: hubSignature256(secrets)}, nil
}

// hubSignature256 is the X-Hub-Signature-256 scheme GitHub and Meta share.
func hubSignature256(secrets []secret.Secret) *mac.BodyMAC {
	return mac.NewFixedBodyMAC("X-Hub-Signature-256", "sha256=", "hex", sha256.New, mac.RawKeys(secrets))
}

// Verify accepts r when X-Hub-Signature-256 holds the HMAC of its body under
// one of the secrets.
func (p *GitHub) Verify(r *plugins.Request, now time.Time) error {
	_, err := p.VerifyMatched(r, now)
	return err
}

// VerifyMatched is Verify that also returns the index of the secret that
// matched.
func (p *GitHub) VerifyMatched(r *plugins.Request, _ time.Time) (int, error) {
	return p.mac.Match(r.Header, r.Body)
}

// CredentialHeaders names the signature headers, the SHA-256 one checked and
// the SHA-1 one GitHub also sends: neither is stored.
func (p *GitHub) CredentialHeaders() []string {
	return []string{"X-Hub-Signature-256", "X-Hub-Signature"}
}

// SignRequest sets X-Hub-Signature-256 for body, made with the first secret.
func (p *GitHub) SignRequest(h http.Header, body []byte, _ string, _ time.Time) {
	p.mac.Sign(h, body)
}
