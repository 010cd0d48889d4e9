package verify

import (
	"net/http"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindVerify,
		Name: "token",
		Doc: "Checks a fixed shared token in one header, optionally after a scheme such as \"Bearer \". " +
			"Weaker than a signature (the body is not covered), for senders that offer nothing better.",
		Attrs: []spec.Attr{
			{Name: "header", Kind: spec.String, Default: "X-Webhook-Token",
				Doc: "The request header that carries the token.", Example: `"Authorization"`},
			{Name: "token", Kind: spec.Secret, Required: true,
				Doc: "The token the sender must present.", Example: `env("WEBHOOK_TOKEN")`},
			{Name: "prefix", Kind: spec.String,
				Doc: "Text before the token in the header, matched without regard to case; empty for none.", Example: `"Bearer "`},
		},
		New: func(v spec.Values) (any, error) { return newToken(v) },
	})
}

// Token is the verify "token" plugin: a shared token in one header.
type Token struct {
	header string
	token  secret.Secret
	prefix string
}

var (
	_ plugins.Verifier      = (*Token)(nil)
	_ plugins.RequestSigner = (*Token)(nil)
)

func newToken(v spec.Values) (*Token, error) {
	header, err := mac.HeaderName(v, "header")
	if err != nil {
		return nil, err
	}
	tok, err := mac.Secret(v, "token")
	if err != nil {
		return nil, err
	}
	// The token travels in a header, which strips surrounding blanks and
	// cannot hold line breaks: such a token could never match. Only the kind
	// of problem is told, never the value.
	if t := tok.Reveal(); !mac.ValidHeaderValue(t) || strings.TrimSpace(t) != t {
		return nil, spec.Errorf("token", "cannot be sent in a header; remove line breaks, control characters and surrounding spaces")
	}
	prefix, err := mac.HeaderValue(v, "prefix")
	if err != nil {
		return nil, err
	}
	return &Token{header: header, token: tok, prefix: prefix}, nil
}

// CredentialHeaders names the token's header: it is not stored.
func (p *Token) CredentialHeaders() []string { return []string{p.header} }

// Verify accepts r when its header holds the prefix and the token.
func (p *Token) Verify(r *plugins.Request, _ time.Time) error {
	v := strings.TrimSpace(r.Header.Get(p.header))
	if v == "" {
		return plugins.Refuse("missing %s header", p.header)
	}
	rest, ok := mac.CutPrefixFold(v, p.prefix)
	if !ok {
		return plugins.Refuse("%s header does not start with %q", p.header, p.prefix)
	}
	if !p.token.Equal(rest) {
		return plugins.Refuse("token does not match")
	}
	return nil
}

// SignRequest sets the header to the prefix and the token.
func (p *Token) SignRequest(h http.Header, _ []byte, _ string, _ time.Time) {
	h.Set(p.header, p.prefix+p.token.Reveal())
}
