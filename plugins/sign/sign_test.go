package sign_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
	_ "github.com/hookgate/hookgate/plugins/sign"
)

// signer is what every sign plugin builds.
type signer interface {
	plugins.Signer
	plugins.Checker
}

// mustSigner builds sign.<name> from src and fails tb unless it is both a
// Signer and a Checker.
func mustSigner(tb testing.TB, name, src string) signer {
	tb.Helper()
	s, ok := plugintest.New(tb, plugins.KindSign, name, src).(signer)
	if !ok {
		tb.Fatalf("sign.%s is not a Signer and a Checker", name)
	}
	return s
}

// The published Standard Webhooks test vector (standard-webhooks and svix
// libraries' tests).
const (
	swSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTimestamp = 1614265330
	swBody      = `{"test": 2432232314}`
	swSig       = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestStandardWebhooksSignsTheVector(t *testing.T) {
	s := mustSigner(t, "standard_webhooks", `secret = "`+swSecret+`"`)
	h := http.Header{}
	s.Sign(h, plugins.Message{ID: swID, Timestamp: time.Unix(swTimestamp, 0), Body: []byte(swBody)})
	want := http.Header{}
	want.Set("webhook-id", swID)
	want.Set("webhook-timestamp", strconv.Itoa(swTimestamp))
	want.Set("webhook-signature", swSig)
	if len(h) != len(want) {
		t.Errorf("headers = %v, want %v", h, want)
	}
	for k := range want {
		if got := h.Get(k); got != want.Get(k) {
			t.Errorf("%s = %q, want %q", k, got, want.Get(k))
		}
	}
}

func TestStandardWebhooksCheck(t *testing.T) {
	ts := time.Unix(swTimestamp, 0)
	signed := func(secret, id string) http.Header {
		h := http.Header{}
		mustSigner(t, "standard_webhooks", `secret = "`+secret+`"`).
			Sign(h, plugins.Message{ID: id, Timestamp: ts, Body: []byte(swBody)})
		return h
	}
	tests := []struct {
		name   string
		header http.Header
		body   string        // default swBody
		now    time.Duration // offset from the vector's timestamp
		want   string
	}{
		{name: "as signed", header: signed(swSecret, swID)},
		{name: "four minutes later", header: signed(swSecret, swID), now: 4 * time.Minute},
		{name: "six minutes later", header: signed(swSecret, swID), now: 6 * time.Minute, want: "timestamp outside the tolerance"},
		{name: "six minutes earlier", header: signed(swSecret, swID), now: -6 * time.Minute, want: "timestamp outside the tolerance"},
		{name: "another secret", header: signed("whsec_c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1vbmU=", swID), want: "signature does not match"},
		{name: "tampered body", header: signed(swSecret, swID), body: `{"test": 1}`, want: "signature does not match"},
		{name: "svix header names", header: func() http.Header {
			h := http.Header{}
			for _, n := range []string{"id", "timestamp", "signature"} {
				h.Set("svix-"+n, signed(swSecret, swID).Get("webhook-"+n))
			}
			return h
		}()},
		{name: "missing signature", header: func() http.Header {
			h := signed(swSecret, swID)
			h.Del("webhook-signature")
			return h
		}(), want: "missing webhook-signature header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == "" {
				body = swBody
			}
			s := mustSigner(t, "standard_webhooks", `secret = "`+swSecret+`"`)
			plugintest.CheckRefusal(t, s.Check(tt.header, []byte(body), ts.Add(tt.now)), tt.want, swSecret, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
		})
	}
}

// GitHub's documented example (docs.github.com, "Validating webhook
// deliveries").
const (
	ghSecret = "It's a Secret to Everybody"
	ghBody   = "Hello, World!"
	ghSHA256 = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

func TestHMACSignsTheGitHubExample(t *testing.T) {
	tests := []struct {
		name, src, header, want string
	}{
		{"defaults", `secret = "` + ghSecret + `"`, "X-Hookgate-Signature", ghSHA256},
		{"github style", `
			header = "X-Hub-Signature-256"
			secret = "` + ghSecret + `"
			prefix = "sha256="`, "X-Hub-Signature-256", "sha256=" + ghSHA256},
		{"base64", `
			secret   = "` + ghSecret + `"
			encoding = "base64"`, "X-Hookgate-Signature", "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSigner(t, "hmac", tt.src)
			h := http.Header{}
			s.Sign(h, plugins.Message{ID: "ignored", Timestamp: time.Now(), Body: []byte(ghBody)})
			if got := h.Get(tt.header); got != tt.want || len(h) != 1 {
				t.Errorf("headers = %v, want only %s: %s", h, tt.header, tt.want)
			}
		})
	}
}

func TestHMACCheck(t *testing.T) {
	for _, alg := range []string{"sha1", "sha256", "sha512"} {
		for _, enc := range []string{"hex", "base64"} {
			for _, prefix := range []string{"", alg + "="} {
				t.Run(alg+"/"+enc+"/prefix="+prefix, func(t *testing.T) {
					s := mustSigner(t, "hmac", `
						secret    = "`+ghSecret+`"
						algorithm = "`+alg+`"
						encoding  = "`+enc+`"
						prefix    = "`+prefix+`"`)
					h := http.Header{}
					s.Sign(h, plugins.Message{ID: "d_1", Timestamp: time.Now(), Body: []byte(ghBody)})
					sig := h.Get("X-Hookgate-Signature")
					plugintest.CheckRefusal(t, s.Check(h, []byte(ghBody), time.Now()), "")
					plugintest.CheckRefusal(t, s.Check(h, []byte(ghBody+" "), time.Now()), "signature does not match", ghSecret, sig)
					plugintest.CheckRefusal(t, s.Check(http.Header{}, []byte(ghBody), time.Now()), "missing X-Hookgate-Signature header", ghSecret)
				})
			}
		}
	}
}

func TestConstructionErrors(t *testing.T) {
	tests := []struct {
		name, plugin, src string
		override          map[string]any
		attr              string
		secret            string // must not appear in the error
	}{
		{"standard_webhooks empty secret", "standard_webhooks", `secret = ""`, nil, "secret", ""},
		{"standard_webhooks whsec not base64", "standard_webhooks", `secret = "whsec_not*base64!"`, nil, "secret", "not*base64!"},
		{"hmac empty secret", "hmac", `secret = ""`, nil, "secret", ""},
		{"hmac bad header", "hmac", "secret = \"k3y\"\nheader = \"X-Hookgate Signature\"", nil, "header", "k3y"},
		{"hmac unknown algorithm", "hmac", `secret = "k3y"`, map[string]any{"algorithm": "sha3"}, "algorithm", "k3y"},
		{"hmac unknown encoding", "hmac", `secret = "k3y"`, map[string]any{"encoding": "base32"}, "encoding", "k3y"},
		{"hmac prefix with a line break", "hmac", "secret = \"k3y\"\nprefix = \"v1\\n\"", nil, "prefix", "k3y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plugintest.Lookup(t, plugins.KindSign, tt.plugin)
			plugintest.CheckAttrError(t, p, tt.src, tt.override, tt.attr, tt.secret)
		})
	}
}
