package verify_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
	_ "github.com/hookgate/hookgate/plugins/verify"
)

// verifier is what every verify plugin builds.
type verifier interface {
	plugins.Verifier
	plugins.RequestSigner
}

// mustVerifier builds verify.<name> from src and fails tb unless it is both
// a Verifier and a RequestSigner.
func mustVerifier(tb testing.TB, name, src string) verifier {
	tb.Helper()
	v, ok := plugintest.New(tb, plugins.KindVerify, name, src).(verifier)
	if !ok {
		tb.Fatalf("verify.%s is not a Verifier and a RequestSigner", name)
	}
	return v
}

// headers builds an http.Header from name, value pairs.
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"creator_insights","connector":"tiktok"}`)
	tests := []struct {
		name, plugin, src string
		bodyCovered       bool
	}{
		{"hmac defaults", "hmac", `secret = "k"`, true},
		{"hmac github style", "hmac", `
			header = "X-Hub-Signature-256"
			secret = "k"
			prefix = "sha256="`, true},
		{"hmac sha1 base64", "hmac", `
			secret    = "k"
			algorithm = "sha1"
			encoding  = "base64"`, true},
		{"hmac sha512 hex", "hmac", `
			secret    = "k"
			algorithm = "sha512"`, true},
		{"standard_webhooks whsec", "standard_webhooks", `secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`, true},
		{"standard_webhooks raw", "standard_webhooks", `secret = "a raw key"`, true},
		{"token", "token", `token = "t0ken"`, false},
		{"token bearer", "token", `
			header = "Authorization"
			token  = "t0ken"
			prefix = "Bearer "`, false},
		{"basic_auth", "basic_auth", `
			username = "hookgate"
			password = "pa:ss"`, false},
		{"none", "none", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, tt.plugin, tt.src)
			h := http.Header{}
			v.SignRequest(h, body, "msg_2mT0", now)
			if err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: h, Body: body}, now); err != nil {
				t.Fatalf("own signature refused: %v (headers %v)", err, h)
			}
			if !tt.bodyCovered {
				return
			}
			tampered := append([]byte(nil), body...)
			tampered[len(tampered)-2] = 'X'
			err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: h, Body: tampered}, now)
			plugintest.CheckRefusal(t, err, "signature does not match")
		})
	}
}

func TestConstructionErrors(t *testing.T) {
	tests := []struct {
		name, plugin, src string
		// override replaces decoded values, for what the spec's own
		// checks (enums) would refuse before the constructor runs.
		override map[string]any
		attr     string
		secret   string // must not appear in the error
	}{
		{"hmac empty secret", "hmac", `secret = ""`, nil, "secret", ""},
		{"hmac header with a space", "hmac", "secret = \"k3y\"\nheader = \"X Signature\"", nil, "header", "k3y"},
		{"hmac header with a colon", "hmac", "secret = \"k3y\"\nheader = \"X-Signature:\"", nil, "header", "k3y"},
		{"hmac empty header", "hmac", "secret = \"k3y\"\nheader = \"\"", nil, "header", "k3y"},
		{"hmac unknown algorithm", "hmac", `secret = "k3y"`, map[string]any{"algorithm": "md5"}, "algorithm", "k3y"},
		{"hmac unknown encoding", "hmac", `secret = "k3y"`, map[string]any{"encoding": "base32"}, "encoding", "k3y"},
		{"hmac prefix with a line break", "hmac", "secret = \"k3y\"\nprefix = \"sha256=\\n\"", nil, "prefix", "k3y"},
		{"standard_webhooks empty secret", "standard_webhooks", `secret = ""`, nil, "secret", ""},
		{"standard_webhooks whsec not base64", "standard_webhooks", `secret = "whsec_not*base64!"`, nil, "secret", "not*base64!"},
		{"standard_webhooks whsec not base64 in secrets", "standard_webhooks", `secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not*base64!"]`, nil, "secrets", "not*base64!"},
		{"standard_webhooks whsec empty", "standard_webhooks", `secret = "whsec_"`, nil, "secret", ""},
		{"standard_webhooks zero tolerance", "standard_webhooks", "secret = \"k3y\"\ntolerance = \"0s\"", nil, "tolerance", "k3y"},
		{"token empty", "token", `token = ""`, nil, "token", ""},
		{"token with surrounding spaces", "token", `token = " t0ken "`, nil, "token", "t0ken"},
		{"token with a line break", "token", `token = "t0k\nen"`, nil, "token", "t0k"},
		{"token bad header", "token", "token = \"t0ken\"\nheader = \"X(Token)\"", nil, "header", "t0ken"},
		{"token prefix with a line break", "token", "token = \"t0ken\"\nprefix = \"Bearer\\r\\n\"", nil, "prefix", "t0ken"},
		{"basic_auth empty username", "basic_auth", "username = \"\"\npassword = \"pa55\"", nil, "username", "pa55"},
		{"basic_auth username with a colon", "basic_auth", "username = \"a:b\"\npassword = \"pa55\"", nil, "username", "pa55"},
		{"basic_auth empty password", "basic_auth", "username = \"hookgate\"\npassword = \"\"", nil, "password", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plugintest.Lookup(t, plugins.KindVerify, tt.plugin)
			plugintest.CheckAttrError(t, p, tt.src, tt.override, tt.attr, tt.secret)
		})
	}
}
