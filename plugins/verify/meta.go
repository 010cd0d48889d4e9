package verify

import (
	"net/http"
	"net/url"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindVerify,
		Name: "meta",
		Doc: "Checks the signature of Meta's webhooks (Facebook, Instagram, WhatsApp, Messenger): " +
			"X-Hub-Signature-256 is \"sha256=\" and the hex HMAC-SHA256 of the exact body under the app secret, " +
			"as GitHub's (developers.facebook.com, \"Webhooks: Validating payloads\"). " +
			"With verify_token set, Meta's subscription handshake (GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=X) " +
			"is answered 200 with X; a wrong token gets 403.",
		Attrs: []spec.Attr{
			secretAttr("The App Secret (App Dashboard → App settings → Basic).", `env("META_APP_SECRET")`),
			secretsAttr,
			{Name: "verify_token", Kind: spec.Secret, Example: `env("META_VERIFY_TOKEN")`,
				Doc: "The Verify Token typed in the App Dashboard's Webhooks settings: the GET hub.challenge handshake " +
					"is answered only when it carries this token. Absent: the handshake gets 403."},
		},
		New: func(v spec.Values) (any, error) { return newMeta(v) },
	})
}

// Meta is the verify "meta" plugin: the signature of Meta's POSTs and the
// GET subscription handshake.
type Meta struct {
	mac         *mac.BodyMAC
	verifyToken secret.Secret // empty: no handshake is answered
}

var (
	_ plugins.Verifier          = (*Meta)(nil)
	_ plugins.RequestSigner     = (*Meta)(nil)
	_ plugins.CredentialHeaders = (*Meta)(nil)
	_ plugins.MatchedSecret     = (*Meta)(nil)
	_ plugins.Handshaker        = (*Meta)(nil)
	_ plugins.HandshakeSender   = (*Meta)(nil)
)

// HandshakeQuery is the query of Meta's subscription handshake carrying
// challenge and the source's verify_token, for `hookgate send -get`.
func (p *Meta) HandshakeQuery(challenge string) url.Values {
	return url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {p.verifyToken.Reveal()}, "hub.challenge": {challenge}}
}

func newMeta(v spec.Values) (*Meta, error) {
	secrets, _, err := mac.Secrets(v, "secret", "secrets")
	if err != nil {
		return nil, err
	}
	m := &Meta{mac: hubSignature256(secrets)}
	if v.IsSet("verify_token") {
		if m.verifyToken, err = mac.Secret(v, "verify_token"); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Handshake answers Meta's subscription handshake, GET
// ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=X: 200 with X as
// plain text when T is the verify_token, 403 otherwise. A GET without
// hub.mode=subscribe and hub.challenge is not a handshake.
func (p *Meta) Handshake(q url.Values) (int, string, []byte, bool) {
	if q.Get("hub.mode") != "subscribe" || !q.Has("hub.challenge") {
		return 0, "", nil, false
	}
	if p.verifyToken.Empty() || !p.verifyToken.Equal(q.Get("hub.verify_token")) {
		return http.StatusForbidden, "application/json", []byte(`{"error":"hub.verify_token does not match the source's verify_token"}` + "\n"), true
	}
	return http.StatusOK, "text/plain; charset=utf-8", []byte(q.Get("hub.challenge")), true
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
