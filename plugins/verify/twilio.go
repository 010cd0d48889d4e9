package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindVerify,
		Name: "twilio",
		Doc: "Checks Twilio's request signature (twilio.com/docs/usage/security): X-Twilio-Signature is the base64 " +
			"HMAC-SHA1, under the account's Auth Token, of the public URL Twilio posts to followed by each form field's " +
			"name and value, names sorted. Twilio posts forms: a source with this preset accepts " +
			"application/x-www-form-urlencoded, whose fields become the event (delivered as JSON).",
		Attrs: []spec.Attr{
			secretAttr("The account's Auth Token (Console → Account Info).", `env("TWILIO_AUTH_TOKEN")`),
			secretsAttr,
			{Name: "url", Kind: spec.String, Required: true, Example: `"https://hooks.example.com/in/twilio"`,
				Doc: "The public URL Twilio posts to, exactly as set in the Console (scheme, host, path and query): " +
					"Twilio signs it, and behind a proxy the gateway cannot see it."},
		},
		New: func(v spec.Values) (any, error) { return newTwilio(v) },
	})
}

// Twilio is the verify "twilio" plugin.
type Twilio struct {
	keys [][]byte
	url  string
}

var (
	_ plugins.Verifier          = (*Twilio)(nil)
	_ plugins.RequestSigner     = (*Twilio)(nil)
	_ plugins.CredentialHeaders = (*Twilio)(nil)
	_ plugins.MatchedSecret     = (*Twilio)(nil)
	_ plugins.FormPoster        = (*Twilio)(nil)
)

func newTwilio(v spec.Values) (*Twilio, error) {
	secrets, _, err := mac.Secrets(v, "secret", "secrets")
	if err != nil {
		return nil, err
	}
	u := v.String("url")
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return nil, spec.Errorf("url", "must be the absolute http(s) URL Twilio posts to, as set in its Console")
	}
	return &Twilio{keys: mac.RawKeys(secrets), url: u}, nil
}

// twilioHeader is the header Twilio's signature is in.
const twilioHeader = "X-Twilio-Signature"

// PostsForms reports that Twilio's webhooks are forms.
func (p *Twilio) PostsForms() bool { return true }

// twilioSum is the signature of a form body posted to u under key.
func twilioSum(key []byte, u string, fields url.Values) []byte {
	h := hmac.New(sha1.New, key)
	h.Write([]byte(u))
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		vs := slices.Clone(fields[k])
		slices.Sort(vs)
		for _, v := range vs {
			h.Write([]byte(k))
			h.Write([]byte(v))
		}
	}
	return h.Sum(nil)
}

// formFields reads a form body's fields (none for a body that is not one).
func formFields(body []byte) url.Values {
	fields, err := url.ParseQuery(string(body))
	if err != nil {
		return url.Values{}
	}
	return fields
}

// Verify accepts r when X-Twilio-Signature signs the URL and its form
// fields under one of the Auth Tokens.
func (p *Twilio) Verify(r *plugins.Request, now time.Time) error {
	_, err := p.VerifyMatched(r, now)
	return err
}

// VerifyMatched is Verify that also returns the index of the token that
// matched.
func (p *Twilio) VerifyMatched(r *plugins.Request, _ time.Time) (int, error) {
	v := strings.TrimSpace(r.Header.Get(twilioHeader))
	if v == "" {
		return -1, plugins.Refuse("missing %s header", twilioHeader)
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return -1, plugins.Refuse("%s header is not base64", twilioHeader)
	}
	fields := formFields(r.Body)
	i := mac.Match(p.keys, [][]byte{sig}, func(key []byte) []byte { return twilioSum(key, p.url, fields) })
	if i < 0 {
		return -1, plugins.Refuse("signature does not match")
	}
	return i, nil
}

// CredentialHeaders names the signature header: it is not stored.
func (p *Twilio) CredentialHeaders() []string { return []string{twilioHeader} }

// SignRequest sets X-Twilio-Signature for a form body, with the first token.
func (p *Twilio) SignRequest(h http.Header, body []byte, _ string, _ time.Time) {
	h.Set(twilioHeader, base64.StdEncoding.EncodeToString(twilioSum(p.keys[0], p.url, formFields(body))))
}
