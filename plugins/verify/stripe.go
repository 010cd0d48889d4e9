package verify

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/spec"
)

// stripeHeader is the header Stripe signs its webhooks in.
const stripeHeader = "Stripe-Signature"

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindVerify,
		Name: "stripe",
		Doc: "Checks Stripe's webhook signature (docs.stripe.com, \"Check the webhook signatures\"): " +
			"Stripe-Signature is \"t=<Unix time>,v1=<hex HMAC-SHA256 of \\\"<t>.<body>\\\">\", " +
			"keyed with the endpoint's whole signing secret (\"whsec_…\" as printed). " +
			"Any v1 entry may match (Stripe sends several while an endpoint's secret is rolled); " +
			"other schemes such as v0 are ignored. t must lie within the tolerance, in the past or the future.",
		Attrs: []spec.Attr{
			secretAttr("The endpoint's signing secret, \"whsec_…\" (Dashboard → Developers → Webhooks → the endpoint → Signing secret, "+
				"or what `stripe listen` prints).", `env("STRIPE_WEBHOOK_SECRET")`),
			secretsAttr,
			toleranceAttr("the t= timestamp of Stripe-Signature"),
		},
		New: func(v spec.Values) (any, error) { return newStripe(v) },
	})
}

// Stripe is the verify "stripe" plugin.
type Stripe struct {
	keys      [][]byte
	tolerance time.Duration
}

var (
	_ plugins.Verifier          = (*Stripe)(nil)
	_ plugins.RequestSigner     = (*Stripe)(nil)
	_ plugins.CredentialHeaders = (*Stripe)(nil)
	_ plugins.MatchedSecret     = (*Stripe)(nil)
)

func newStripe(v spec.Values) (*Stripe, error) {
	secrets, _, err := mac.Secrets(v, "secret", "secrets")
	if err != nil {
		return nil, err
	}
	tol, err := mac.Tolerance(v, "tolerance")
	if err != nil {
		return nil, err
	}
	return &Stripe{keys: mac.RawKeys(secrets), tolerance: tol}, nil
}

// stripeSum is the v1 signature of body sent at ts, as written in t=.
func stripeSum(key []byte, ts string, body []byte) []byte {
	return mac.Sum256(key, []byte(ts), []byte{'.'}, body)
}

// Verify accepts r when the timestamp of its Stripe-Signature lies within
// the tolerance of now and one of its v1 signatures matches one of the
// secrets.
func (p *Stripe) Verify(r *plugins.Request, now time.Time) error {
	_, err := p.VerifyMatched(r, now)
	return err
}

// VerifyMatched is Verify that also returns the index of the secret that
// matched.
func (p *Stripe) VerifyMatched(r *plugins.Request, now time.Time) (int, error) {
	v := strings.TrimSpace(r.Header.Get(stripeHeader))
	if v == "" {
		return -1, plugins.Refuse("missing %s header", stripeHeader)
	}
	var ts string
	var candidates [][]byte
	found := false
	for _, item := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return -1, plugins.Refuse("%s header is not a list of key=value pairs", stripeHeader)
		}
		switch k {
		case "t":
			if ts != "" {
				return -1, plugins.Refuse("%s header has more than one timestamp", stripeHeader)
			}
			ts = val
		case "v1":
			found = true
			if sig, err := hex.DecodeString(val); err == nil {
				candidates = append(candidates, sig)
			}
		}
	}
	if ts == "" {
		return -1, plugins.Refuse("%s header has no timestamp (t=)", stripeHeader)
	}
	if !found {
		return -1, plugins.Refuse("no v1 signature in %s header", stripeHeader)
	}
	if err := mac.CheckTimestamp("the timestamp (t=) of the "+stripeHeader+" header", ts, now, p.tolerance); err != nil {
		return -1, err
	}
	i := mac.Match(p.keys, candidates, func(key []byte) []byte { return stripeSum(key, ts, r.Body) })
	if i < 0 {
		return -1, plugins.Refuse("signature does not match")
	}
	return i, nil
}

// CredentialHeaders names the signature header: it is not stored.
func (p *Stripe) CredentialHeaders() []string { return []string{stripeHeader} }

// SignRequest sets Stripe-Signature for body sent at now, made with the
// first secret.
func (p *Stripe) SignRequest(h http.Header, body []byte, _ string, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	h.Set(stripeHeader, "t="+ts+",v1="+hex.EncodeToString(stripeSum(p.keys[0], ts, body)))
}
