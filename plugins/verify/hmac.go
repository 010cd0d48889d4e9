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
		Name: "hmac",
		Doc: "Checks an HMAC of the exact request body that the sender puts in one header, " +
			"as GitHub, Shopify and most in-house senders do. " +
			"The comparison takes constant time; hex is read in either case.",
		Attrs: []spec.Attr{
			{Name: "header", Kind: spec.String, Default: "X-Signature",
				Doc: "The request header that carries the signature.", Example: `"X-Hub-Signature-256"`},
			secretAttr("The key shared with the sender.", `env("YLYTIC_SECRET")`),
			secretsAttr,
			{Name: "algorithm", Kind: spec.String, Default: "sha256", Enum: mac.Algorithms,
				Doc: "The hash function of the HMAC.", Example: `"sha256"`},
			{Name: "encoding", Kind: spec.String, Default: "hex", Enum: mac.Encodings,
				Doc: "How the signature is written in the header: hex (either case) or standard base64.", Example: `"hex"`},
			{Name: "prefix", Kind: spec.String,
				Doc: "Text before the signature in the header, matched without regard to case; empty for none.", Example: `"sha256="`},
		},
		New: func(v spec.Values) (any, error) { return newHMAC(v) },
	})
}

// HMAC is the verify "hmac" plugin: an HMAC of the raw body in one header.
type HMAC struct {
	mac *mac.BodyMAC
}

var (
	_ plugins.Verifier      = (*HMAC)(nil)
	_ plugins.RequestSigner = (*HMAC)(nil)
	_ plugins.MatchedSecret = (*HMAC)(nil)
)

func newHMAC(v spec.Values) (*HMAC, error) {
	m, err := mac.NewBodyMAC(v)
	if err != nil {
		return nil, err
	}
	return &HMAC{mac: m}, nil
}

// Verify accepts r when its signature header holds the HMAC of its body
// under one of the secrets.
func (p *HMAC) Verify(r *plugins.Request, now time.Time) error {
	_, err := p.VerifyMatched(r, now)
	return err
}

// VerifyMatched is Verify that also returns the index of the secret that
// matched.
func (p *HMAC) VerifyMatched(r *plugins.Request, _ time.Time) (int, error) {
	return p.mac.Match(r.Header, r.Body)
}

// CredentialHeaders names the signature header: it is not stored.
func (p *HMAC) CredentialHeaders() []string { return []string{p.mac.Header()} }

// SignRequest sets the signature header for body, made with the first
// secret.
func (p *HMAC) SignRequest(h http.Header, body []byte, _ string, _ time.Time) {
	p.mac.Sign(h, body)
}
