package verify

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/spec"
)

// The headers Slack signs its requests in.
const (
	slackSignature = "X-Slack-Signature"
	slackTimestamp = "X-Slack-Request-Timestamp"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindVerify,
		Name: "slack",
		Doc: "Checks Slack's request signature (api.slack.com, \"Verifying requests from Slack\"): " +
			"X-Slack-Signature is \"v0=\" and the hex HMAC-SHA256 of \"v0:<X-Slack-Request-Timestamp>:<body>\" " +
			"under the app's signing secret; the timestamp must lie within the tolerance, in the past or the future. " +
			"Slack checks a new Events API Request URL with a signed url_verification request: hookgate answers it " +
			"200 {\"challenge\": …} itself and stores nothing.",
		Attrs: []spec.Attr{
			secretAttr("The app's Signing Secret (api.slack.com/apps → the app → Basic Information → App Credentials).",
				`env("SLACK_SIGNING_SECRET")`),
			secretsAttr,
			toleranceAttr(slackTimestamp),
		},
		New: func(v spec.Values) (any, error) { return newSlack(v) },
	})
}

// Slack is the verify "slack" plugin.
type Slack struct {
	keys      [][]byte
	tolerance time.Duration
}

var (
	_ plugins.Verifier          = (*Slack)(nil)
	_ plugins.RequestSigner     = (*Slack)(nil)
	_ plugins.CredentialHeaders = (*Slack)(nil)
	_ plugins.MatchedSecret     = (*Slack)(nil)
	_ plugins.Challenger        = (*Slack)(nil)
)

// Challenge answers Slack's url_verification request (a verified JSON body
// {"type": "url_verification", "challenge": X}) with {"challenge": X}.
func (p *Slack) Challenge(body []byte) ([]byte, bool) {
	var v struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if !bytes.Contains(body, []byte("url_verification")) || json.Unmarshal(body, &v) != nil || v.Type != "url_verification" {
		return nil, false
	}
	answer, err := json.Marshal(map[string]string{"challenge": v.Challenge})
	if err != nil {
		return nil, false
	}
	return answer, true
}

func newSlack(v spec.Values) (*Slack, error) {
	secrets, _, err := mac.Secrets(v, "secret", "secrets")
	if err != nil {
		return nil, err
	}
	tol, err := mac.Tolerance(v, "tolerance")
	if err != nil {
		return nil, err
	}
	return &Slack{keys: mac.RawKeys(secrets), tolerance: tol}, nil
}

// slackSum is the v0 signature of body sent at ts, as written in the header.
func slackSum(key []byte, ts string, body []byte) []byte {
	return mac.Sum256(key, []byte("v0:"), []byte(ts), []byte{':'}, body)
}

// Verify accepts r when X-Slack-Request-Timestamp lies within the tolerance
// of now and X-Slack-Signature matches one of the secrets.
func (p *Slack) Verify(r *plugins.Request, now time.Time) error {
	_, err := p.VerifyMatched(r, now)
	return err
}

// VerifyMatched is Verify that also returns the index of the secret that
// matched.
func (p *Slack) VerifyMatched(r *plugins.Request, now time.Time) (int, error) {
	sig := strings.TrimSpace(r.Header.Get(slackSignature))
	if sig == "" {
		return -1, plugins.Refuse("missing %s header", slackSignature)
	}
	ts := strings.TrimSpace(r.Header.Get(slackTimestamp))
	if ts == "" {
		return -1, plugins.Refuse("missing %s header", slackTimestamp)
	}
	if err := mac.CheckTimestamp(slackTimestamp+" header", ts, now, p.tolerance); err != nil {
		return -1, err
	}
	rest, ok := mac.CutPrefixFold(sig, "v0=")
	if !ok {
		return -1, plugins.Refuse("%s header does not start with \"v0=\"", slackSignature)
	}
	got, err := hex.DecodeString(rest)
	if err != nil {
		return -1, plugins.Refuse("%s header is not hex", slackSignature)
	}
	i := mac.Match(p.keys, [][]byte{got}, func(key []byte) []byte { return slackSum(key, ts, r.Body) })
	if i < 0 {
		return -1, plugins.Refuse("signature does not match")
	}
	return i, nil
}

// CredentialHeaders names the signature header: it is not stored.
func (p *Slack) CredentialHeaders() []string { return []string{slackSignature} }

// SignRequest sets X-Slack-Request-Timestamp to now and X-Slack-Signature
// for body, made with the first secret.
func (p *Slack) SignRequest(h http.Header, body []byte, _ string, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	h.Set(slackTimestamp, ts)
	h.Set(slackSignature, "v0="+hex.EncodeToString(slackSum(p.keys[0], ts, body)))
}
