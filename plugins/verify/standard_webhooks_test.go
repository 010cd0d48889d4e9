package verify_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
)

// The published Standard Webhooks test vector (standard-webhooks and svix
// libraries' tests).
const (
	swSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTimestamp = 1614265330
	swBody      = `{"test": 2432232314}`
	swSig       = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	swSigB64    = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestStandardWebhooksSignsTheVector(t *testing.T) {
	v := mustVerifier(t, "standard_webhooks", `secret = "`+swSecret+`"`)
	h := http.Header{}
	v.SignRequest(h, []byte(swBody), swID, time.Unix(swTimestamp, 0))
	want := map[string]string{
		"webhook-id":        swID,
		"webhook-timestamp": strconv.Itoa(swTimestamp),
		"webhook-signature": swSig,
	}
	for k, w := range want {
		if got := h.Get(k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
}

func TestStandardWebhooksVerify(t *testing.T) {
	vector := func() http.Header {
		return headers("webhook-id", swID, "webhook-timestamp", strconv.Itoa(swTimestamp), "webhook-signature", swSig)
	}
	ts := time.Unix(swTimestamp, 0)
	tests := []struct {
		name   string
		secret string // default swSecret
		tol    string // default 5m
		header http.Header
		body   string        // default swBody
		now    time.Duration // offset from the vector's timestamp
		want   string        // "" accepts; else a part of the refusal
	}{
		{name: "published vector", header: vector()},
		{name: "published vector two minutes later", header: vector(), now: 2 * time.Minute},
		{name: "at the edge of the tolerance", header: vector(), now: 5 * time.Minute},
		{name: "at the edge of the tolerance before", header: vector(), now: -5 * time.Minute},
		{name: "several signatures, the last matches", header: func() http.Header {
			h := vector()
			h.Set("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "+swSig)
			return h
		}()},
		{name: "several signatures, the first matches", header: func() http.Header {
			h := vector()
			h.Set("webhook-signature", swSig+" v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
			return h
		}()},
		{name: "v2 entry ignored beside a v1 match", header: func() http.Header {
			h := vector()
			h.Set("webhook-signature", "v2,bm90IGEgc2lnbmF0dXJl "+swSig)
			return h
		}()},
		{name: "right bytes under another version are not a v1 signature", header: func() http.Header {
			h := vector()
			h.Set("webhook-signature", "v1a,"+swSigB64)
			return h
		}(), want: "no v1 signature in webhook-signature header"},
		{name: "svix header names", header: headers("svix-id", swID, "svix-timestamp", strconv.Itoa(swTimestamp), "svix-signature", swSig)},
		{name: "stale timestamp", header: vector(), now: 5*time.Minute + time.Second, want: "timestamp outside the tolerance"},
		{name: "future timestamp", header: vector(), now: -5*time.Minute - time.Second, want: "timestamp outside the tolerance"},
		{name: "stale within a wider tolerance", header: vector(), tol: "1h", now: 30 * time.Minute},
		{name: "wrong secret", secret: "whsec_" + "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1vbmU=", header: vector(), want: "signature does not match"},
		{name: "same characters as a raw key", secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", header: vector(), want: "signature does not match"},
		{name: "tampered body", header: vector(), body: `{"test": 2432232315}`, want: "signature does not match"},
		{name: "tampered id", header: func() http.Header {
			h := vector()
			h.Set("webhook-id", swID+"x")
			return h
		}(), want: "signature does not match"},
		{name: "signature not base64", header: func() http.Header {
			h := vector()
			h.Set("webhook-signature", "v1,***")
			return h
		}(), want: "signature does not match"},
		{name: "missing webhook-id", header: func() http.Header {
			h := vector()
			h.Del("webhook-id")
			return h
		}(), want: "missing webhook-id header"},
		{name: "missing webhook-timestamp", header: func() http.Header {
			h := vector()
			h.Del("webhook-timestamp")
			return h
		}(), want: "missing webhook-timestamp header"},
		{name: "missing webhook-signature", header: func() http.Header {
			h := vector()
			h.Del("webhook-signature")
			return h
		}(), want: "missing webhook-signature header"},
		{name: "missing every header", header: http.Header{}, want: "missing webhook-id header"},
		{name: "missing svix-signature", header: headers("svix-id", swID, "svix-timestamp", strconv.Itoa(swTimestamp)), want: "missing svix-signature header"},
		{name: "timestamp not a number", header: func() http.Header {
			h := vector()
			h.Set("webhook-timestamp", "2021-02-26T14:22:10Z")
			return h
		}(), want: "webhook-timestamp header is not a Unix time in seconds"},
		{name: "timestamp with a sign", header: func() http.Header {
			h := vector()
			h.Set("webhook-timestamp", "+"+strconv.Itoa(swTimestamp))
			return h
		}(), want: "webhook-timestamp header is not a Unix time in seconds"},
		{name: "timestamp beyond any clock", header: func() http.Header {
			h := vector()
			h.Set("webhook-timestamp", "9223372036854775807")
			return h
		}(), want: "timestamp outside the tolerance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := tt.secret
			if secret == "" {
				secret = swSecret
			}
			src := `secret = "` + secret + `"`
			if tt.tol != "" {
				src += "\ntolerance = \"" + tt.tol + "\""
			}
			body := tt.body
			if body == "" {
				body = swBody
			}
			v := mustVerifier(t, "standard_webhooks", src)
			err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: tt.header, Body: []byte(body)}, ts.Add(tt.now))
			plugintest.CheckRefusal(t, err, tt.want, secret, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", swSigB64)
		})
	}
}
