package verify_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
)

// The fuzz targets feed each verifier's header parsing arbitrary header
// values and bodies. Whatever comes in, Verify must not panic, must accept
// or refuse with an error wrapping plugins.ErrUnauthorized, and must not
// show the secret; and the fuzzed body, signed by the plugin itself, still
// verifies. The seeds are the published vectors the unit tests use.

// checkVerify runs v on h and body and checks what every verifier owes.
func checkVerify(t *testing.T, v verifier, secret string, h http.Header, body []byte, now time.Time) {
	t.Helper()
	err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: h, Body: body}, now)
	if err == nil {
		return
	}
	if !errors.Is(err, plugins.ErrUnauthorized) {
		t.Fatalf("refusal %q does not wrap ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("refusal %q shows the secret", err)
	}
}

// checkRoundTrip signs body with v and verifies it.
func checkRoundTrip(t *testing.T, v verifier, body []byte, id string, now time.Time) {
	t.Helper()
	h := http.Header{}
	v.SignRequest(h, body, id, now)
	if err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: h, Body: body}, now); err != nil {
		t.Fatalf("a request the plugin signed is refused: %v", err)
	}
}

func FuzzHMAC(f *testing.F) {
	f.Add("sha256="+ghSHA256, []byte(ghBody))
	f.Add("SHA256="+strings.ToUpper(ghSHA256), []byte(ghBody))
	f.Add(" sha256="+ghSHA256+" ", []byte(ghBody))
	f.Add("sha256="+ghB64256, []byte(ghBody))
	f.Add("sha256="+ghSHA256[:63], []byte(ghBody))
	f.Add("sha1="+ghSHA1, []byte("Hello, World?"))
	f.Add("", []byte{})
	hexV := mustVerifier(f, "hmac", `
		header = "X-Hub-Signature-256"
		secret = "`+ghSecret+`"
		prefix = "sha256="`)
	b64V := mustVerifier(f, "hmac", `
		secret    = "`+ghSecret+`"
		algorithm = "sha512"
		encoding  = "base64"`)
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, value string, body []byte) {
		checkVerify(t, hexV, ghSecret, headers("X-Hub-Signature-256", value), body, now)
		checkVerify(t, b64V, ghSecret, headers("X-Signature", strings.TrimPrefix(value, "sha256=")), body, now)
		checkRoundTrip(t, hexV, body, "", now)
		checkRoundTrip(t, b64V, body, "", now)
	})
}

func FuzzStandardWebhooks(f *testing.F) {
	ts := strconv.Itoa(swTimestamp)
	f.Add(swID, ts, swSig, []byte(swBody), false)
	f.Add(swID, ts, "v1,bad v1a,x "+swSig, []byte(swBody), false)
	f.Add(swID, ts, swSig, []byte(swBody), true)
	f.Add(swID, "+"+ts, swSig, []byte(swBody), false)
	f.Add(swID, "-1", "v1,", []byte(swBody), false)
	f.Add(swID, "99999999999999999999", swSig, []byte{}, false)
	f.Add("", "", "", []byte{}, false)
	f.Add(swID, ts, "v2,"+swSigB64, []byte(swBody), false)
	v := mustVerifier(f, "standard_webhooks", `secret = "`+swSecret+`"`)
	key := strings.TrimPrefix(swSecret, "whsec_")
	now := time.Unix(swTimestamp, 0)
	f.Fuzz(func(t *testing.T, id, timestamp, signature string, body []byte, svix bool) {
		prefix := "webhook-"
		if svix {
			prefix = "svix-"
		}
		h := headers(prefix+"id", id, prefix+"timestamp", timestamp, prefix+"signature", signature)
		checkVerify(t, v, key, h, body, now)
		checkRoundTrip(t, v, body, swID, now)
	})
}

func FuzzToken(f *testing.F) {
	const tok = "t0k3n-9f8e7d"
	f.Add("Bearer " + tok)
	f.Add("bearer " + tok)
	f.Add("  Bearer " + tok + "  ")
	f.Add("Bearer")
	f.Add(tok)
	f.Add("")
	v := mustVerifier(f, "token", `
		header = "Authorization"
		token  = "`+tok+`"
		prefix = "Bearer "`)
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, value string) {
		checkVerify(t, v, tok, headers("Authorization", value), nil, now)
		checkRoundTrip(t, v, nil, "", now)
	})
}

func FuzzBasicAuth(f *testing.F) {
	good := "Basic " + base64.StdEncoding.EncodeToString([]byte("hookgate:pa:ss"))
	f.Add(good)
	f.Add("basic " + base64.StdEncoding.EncodeToString([]byte("hookgate:pa:ss")))
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("hookgate")))
	f.Add("Basic !!!")
	f.Add("Bearer x")
	f.Add("")
	v := mustVerifier(f, "basic_auth", `
		username = "hookgate"
		password = "pa:ss"`)
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, value string) {
		checkVerify(t, v, "pa:ss", headers("Authorization", value), nil, now)
		checkRoundTrip(t, v, nil, "", now)
	})
}
