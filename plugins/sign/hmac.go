package sign

import (
	"net/http"
	"time"

	"github.com/hookgate/hookgate/gateway/config/spec"
	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindSign,
		Name: "hmac",
		Doc: "Signs each delivery with an HMAC of the exact body in one header, " +
			"for receivers that check a plain body signature (the scheme of verify \"hmac\").",
		Attrs: []spec.Attr{
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
		},
		New: func(v spec.Values) (any, error) { return newHMAC(v) },
	})
}

// HMAC is the sign "hmac" plugin: an HMAC of the body in one header.
type HMAC struct {
	mac *mac.BodyMAC
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
	return &HMAC{mac: m}, nil
}

// Sign sets the signature header for m's body.
func (p *HMAC) Sign(h http.Header, m plugins.Message) {
	p.mac.Sign(h, m.Body)
}

// Check accepts a delivery whose signature header holds the HMAC of body.
func (p *HMAC) Check(h http.Header, body []byte, _ time.Time) error {
	return p.mac.Verify(h, body)
}
