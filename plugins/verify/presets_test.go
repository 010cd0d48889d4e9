package verify_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
)

// Slack's documented example (api.slack.com, "Verifying requests from
// Slack": the signing secret, X-Slack-Request-Timestamp, slash-command body
// and X-Slack-Signature it walks through).
const (
	slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	slackTS     = 1531420618
	slackBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

// Stripe publishes its scheme (docs.stripe.com, "Check the webhook
// signatures": HMAC-SHA256 of "<t>.<body>" keyed with the whole whsec_
// secret, hex in v1=) but no fixed vector; its SDKs compute one in their
// tests. This one was computed independently with Python's hmac module from
// the documented scheme, with the secret and event of stripe-go's tests.
const (
	stripeSecret = "whsec_test_secret"
	stripeTS     = 1700000000
	stripeBody   = `{"id": "evt_test_webhook", "object": "event"}`
	stripeV1     = "aafb6f8becb4b5db5da0da34d6fb419de5f0866d738651a835f821a8a96cf1f3"
)

// Shopify documents its scheme (shopify.dev, "Verify webhooks": the base64
// HMAC-SHA256 of the body) without a fixed vector; this is GitHub's example
// input with the digest in base64, as computed with Python's hmac module
// (the same digest as ghSHA256).
const shopifyB64 = ghB64256

// presetCase is one request to a preset and what it must get.
type presetCase struct {
	name   string
	secret string // default: the preset's vector secret
	header http.Header
	body   string        // default: the preset's vector body
	now    time.Duration // offset from the vector's timestamp
	want   string        // "" accepts; else a part of the refusal
}

func TestPresetVerify(t *testing.T) {
	stripeHdr := func(v string) http.Header { return headers("Stripe-Signature", v) }
	stripeGood := "t=" + strconv.Itoa(stripeTS) + ",v1=" + stripeV1
	slackHdr := func(ts, sig string) http.Header {
		return headers("X-Slack-Request-Timestamp", ts, "X-Slack-Signature", sig)
	}
	slackTSs := strconv.Itoa(slackTS)
	hub := func(v string) http.Header { return headers("X-Hub-Signature-256", v) }
	tests := []struct {
		plugin, secret, body string
		ts                   int64
		cases                []presetCase
	}{
		{plugin: "stripe", secret: stripeSecret, body: stripeBody, ts: stripeTS, cases: []presetCase{
			{name: "vector", header: stripeHdr(stripeGood)},
			{name: "vector with spaces", header: stripeHdr("t=" + strconv.Itoa(stripeTS) + ", v1=" + stripeV1)},
			{name: "several v1, the second matches", header: stripeHdr("t=" + strconv.Itoa(stripeTS) + ",v1=" + strings.Repeat("ab", 32) + ",v1=" + stripeV1)},
			{name: "v0 ignored beside a v1 match", header: stripeHdr("t=" + strconv.Itoa(stripeTS) + ",v1=" + stripeV1 + ",v0=" + strings.Repeat("0", 64))},
			{name: "the right bytes under v0 only", header: stripeHdr("t=" + strconv.Itoa(stripeTS) + ",v0=" + stripeV1), want: "no v1 signature in Stripe-Signature header"},
			{name: "at the edge of the tolerance", header: stripeHdr(stripeGood), now: 5 * time.Minute},
			{name: "stale", header: stripeHdr(stripeGood), now: 5*time.Minute + time.Second, want: "timestamp outside the tolerance"},
			{name: "future", header: stripeHdr(stripeGood), now: -5*time.Minute - time.Second, want: "timestamp outside the tolerance"},
			{name: "tampered body", header: stripeHdr(stripeGood), body: `{"id": "evt_test_webhook", "object": "evenT"}`, want: "signature does not match"},
			{name: "tampered timestamp", header: stripeHdr("t=" + strconv.Itoa(stripeTS+1) + ",v1=" + stripeV1), want: "signature does not match"},
			{name: "wrong secret", secret: "whsec_other_secret", header: stripeHdr(stripeGood), want: "signature does not match"},
			{name: "missing header", header: http.Header{}, want: "missing Stripe-Signature header"},
			{name: "no timestamp", header: stripeHdr("v1=" + stripeV1), want: "has no timestamp"},
			{name: "two timestamps", header: stripeHdr(stripeGood + ",t=" + strconv.Itoa(stripeTS)), want: "more than one timestamp"},
			{name: "timestamp not a number", header: stripeHdr("t=soon,v1=" + stripeV1), want: "is not a Unix time in seconds"},
			{name: "not key=value", header: stripeHdr(stripeV1), want: "not a list of key=value pairs"},
			{name: "v1 not hex", header: stripeHdr("t=" + strconv.Itoa(stripeTS) + ",v1=zz"), want: "signature does not match"},
		}},
		{plugin: "github", secret: ghSecret, body: ghBody, cases: []presetCase{
			{name: "GitHub's example", header: hub("sha256=" + ghSHA256)},
			{name: "tampered body", header: hub("sha256=" + ghSHA256), body: "Hello, World?", want: "signature does not match"},
			{name: "wrong secret", secret: "It's a Secret to Nobody", header: hub("sha256=" + ghSHA256), want: "signature does not match"},
			{name: "missing header", header: headers("X-Hub-Signature", "sha1="+ghSHA1), want: "missing X-Hub-Signature-256 header"},
			{name: "no prefix", header: hub(ghSHA256), want: `does not start with "sha256="`},
			{name: "not hex", header: hub("sha256=" + ghB64256), want: "X-Hub-Signature-256 header is not hex"},
		}},
		{plugin: "meta", secret: ghSecret, body: ghBody, cases: []presetCase{
			{name: "GitHub's example, which is Meta's scheme", header: hub("sha256=" + ghSHA256)},
			{name: "tampered body", header: hub("sha256=" + ghSHA256), body: "Hello, World?", want: "signature does not match"},
			{name: "wrong secret", secret: "It's a Secret to Nobody", header: hub("sha256=" + ghSHA256), want: "signature does not match"},
			{name: "missing header", header: http.Header{}, want: "missing X-Hub-Signature-256 header"},
			{name: "no prefix", header: hub(ghSHA256), want: `does not start with "sha256="`},
		}},
		{plugin: "shopify", secret: ghSecret, body: ghBody, cases: []presetCase{
			{name: "vector", header: headers("X-Shopify-Hmac-Sha256", shopifyB64)},
			{name: "tampered body", header: headers("X-Shopify-Hmac-Sha256", shopifyB64), body: "Hello, World?", want: "signature does not match"},
			{name: "wrong secret", secret: "It's a Secret to Nobody", header: headers("X-Shopify-Hmac-Sha256", shopifyB64), want: "signature does not match"},
			{name: "missing header", header: http.Header{}, want: "missing X-Shopify-Hmac-Sha256 header"},
			{name: "hex where base64 is expected", header: headers("X-Shopify-Hmac-Sha256", ghSHA256), want: "signature does not match"},
			{name: "not base64", header: headers("X-Shopify-Hmac-Sha256", "not*base64!"), want: "X-Shopify-Hmac-Sha256 header is not base64"},
		}},
		{plugin: "slack", secret: slackSecret, body: slackBody, ts: slackTS, cases: []presetCase{
			{name: "Slack's example", header: slackHdr(slackTSs, slackSig)},
			{name: "at the edge of the tolerance", header: slackHdr(slackTSs, slackSig), now: -5 * time.Minute},
			{name: "stale", header: slackHdr(slackTSs, slackSig), now: 5*time.Minute + time.Second, want: "timestamp outside the tolerance"},
			{name: "future", header: slackHdr(slackTSs, slackSig), now: -5*time.Minute - time.Second, want: "timestamp outside the tolerance"},
			{name: "tampered body", header: slackHdr(slackTSs, slackSig), body: slackBody + "&x=1", want: "signature does not match"},
			{name: "tampered timestamp", header: slackHdr(strconv.Itoa(slackTS+1), slackSig), want: "signature does not match"},
			{name: "wrong secret", secret: "8f742231b10e8888abcd99yyyzzz85a6", header: slackHdr(slackTSs, slackSig), want: "signature does not match"},
			{name: "missing signature", header: headers("X-Slack-Request-Timestamp", slackTSs), want: "missing X-Slack-Signature header"},
			{name: "missing timestamp", header: headers("X-Slack-Signature", slackSig), want: "missing X-Slack-Request-Timestamp header"},
			{name: "timestamp with a sign", header: slackHdr("+"+slackTSs, slackSig), want: "X-Slack-Request-Timestamp header is not a Unix time in seconds"},
			{name: "no v0= prefix", header: slackHdr(slackTSs, strings.TrimPrefix(slackSig, "v0=")), want: `does not start with "v0="`},
			{name: "not hex", header: slackHdr(slackTSs, "v0=zz"), want: "X-Slack-Signature header is not hex"},
		}},
	}
	for _, p := range tests {
		for _, tt := range p.cases {
			t.Run(p.plugin+"/"+tt.name, func(t *testing.T) {
				secret, body := p.secret, p.body
				if tt.secret != "" {
					secret = tt.secret
				}
				if tt.body != "" {
					body = tt.body
				}
				now := time.Now()
				if p.ts != 0 {
					now = time.Unix(p.ts, 0).Add(tt.now)
				}
				v := mustVerifier(t, p.plugin, `secret = "`+secret+`"`)
				err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: tt.header, Body: []byte(body)}, now)
				plugintest.CheckRefusal(t, err, tt.want, secret, p.secret, stripeV1, ghSHA256, slackSig[3:])
			})
		}
	}
}

// TestPresetSignsTheVector: what `hookgate send` signs is the provider's
// own example, byte for byte.
func TestPresetSignsTheVector(t *testing.T) {
	tests := []struct {
		plugin, secret, body string
		ts                   int64
		want                 map[string]string
	}{
		{"stripe", stripeSecret, stripeBody, stripeTS, map[string]string{"Stripe-Signature": "t=" + strconv.Itoa(stripeTS) + ",v1=" + stripeV1}},
		{"github", ghSecret, ghBody, 0, map[string]string{"X-Hub-Signature-256": "sha256=" + ghSHA256}},
		{"meta", ghSecret, ghBody, 0, map[string]string{"X-Hub-Signature-256": "sha256=" + ghSHA256}},
		{"shopify", ghSecret, ghBody, 0, map[string]string{"X-Shopify-Hmac-Sha256": shopifyB64}},
		{"slack", slackSecret, slackBody, slackTS, map[string]string{"X-Slack-Request-Timestamp": strconv.Itoa(slackTS), "X-Slack-Signature": slackSig}},
	}
	for _, tt := range tests {
		t.Run(tt.plugin, func(t *testing.T) {
			v := mustVerifier(t, tt.plugin, `secret = "`+tt.secret+`"`)
			h := http.Header{}
			v.SignRequest(h, []byte(tt.body), "msg_1", time.Unix(tt.ts, 0))
			for k, w := range tt.want {
				if got := h.Get(k); got != w {
					t.Errorf("%s = %q, want %q", k, got, w)
				}
			}
		})
	}
}

// TestPresetCredentialHeaders: the headers a preset reads its signature
// from are named, so ingest never stores them.
func TestPresetCredentialHeaders(t *testing.T) {
	tests := map[string][]string{
		"stripe":  {"Stripe-Signature"},
		"github":  {"X-Hub-Signature-256", "X-Hub-Signature"},
		"meta":    {"X-Hub-Signature-256", "X-Hub-Signature"},
		"shopify": {"X-Shopify-Hmac-Sha256"},
		"slack":   {"X-Slack-Signature"},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			v, ok := mustVerifier(t, name, `secret = "k"`).(plugins.CredentialHeaders)
			if !ok {
				t.Fatalf("verify.%s is not a plugins.CredentialHeaders", name)
			}
			if got := v.CredentialHeaders(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("CredentialHeaders = %v, want %v", got, want)
			}
		})
	}
}

func TestPresetConstructionErrors(t *testing.T) {
	tests := []struct{ name, plugin, src, attr, secret string }{
		{"stripe zero tolerance", "stripe", "secret = \"k3y\"\ntolerance = \"0s\"", "tolerance", "k3y"},
		{"slack zero tolerance", "slack", "secret = \"k3y\"\ntolerance = \"0s\"", "tolerance", "k3y"},
		{"github empty secret", "github", `secret = ""`, "secret", ""},
		{"meta empty verify_token", "meta", "secret = \"k3y\"\nverify_token = \"\"", "verify_token", "k3y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plugintest.CheckAttrError(t, plugintest.Lookup(t, plugins.KindVerify, tt.plugin), tt.src, nil, tt.attr, tt.secret)
		})
	}
}
