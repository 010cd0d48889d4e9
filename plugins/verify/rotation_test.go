package verify_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
)

// rotating lists every verify plugin that takes secret, and so secrets, with
// the rest of its block body.
var rotating = []struct{ plugin, rest string }{
	{"hmac", `header = "X-Hub-Signature-256"` + "\n" + `prefix = "sha256="`},
	{"standard_webhooks", ""},
	{"stripe", ""},
	{"github", ""},
	{"shopify", ""},
	{"slack", ""},
	{"meta", `verify_token = "t0ken"`},
}

// TestSecretsRotation: with secrets = [new, old], a request signed with
// either passes and the plugin says which one matched; one signed with
// another secret is refused; the first signs.
func TestSecretsRotation(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"creator_insights","connector":"tiktok"}`)
	const newS, oldS, otherS = "n3w-secret", "0ld-secret", "0ther-secret"
	for _, tt := range rotating {
		t.Run(tt.plugin, func(t *testing.T) {
			rotated := mustVerifier(t, tt.plugin, tt.rest+"\n"+`secrets = ["`+newS+`", "`+oldS+`"]`)
			matcher, ok := rotated.(plugins.MatchedSecret)
			if !ok {
				t.Fatalf("verify.%s is not a plugins.MatchedSecret", tt.plugin)
			}
			signed := func(secret string) http.Header {
				h := http.Header{}
				mustVerifier(t, tt.plugin, tt.rest+"\n"+`secret = "`+secret+`"`).SignRequest(h, body, "msg_2mT0", now)
				return h
			}
			for want, secret := range []string{newS, oldS} {
				r := &plugins.Request{Method: http.MethodPost, Header: signed(secret), Body: body}
				got, err := matcher.VerifyMatched(r, now)
				if err != nil || got != want {
					t.Errorf("signed with secret %d: VerifyMatched = %d, %v; want %d, nil", want, got, err, want)
				}
				plugintest.CheckRefusal(t, rotated.Verify(r, now), "")
			}
			r := &plugins.Request{Method: http.MethodPost, Header: signed(otherS), Body: body}
			got, err := matcher.VerifyMatched(r, now)
			if got != -1 {
				t.Errorf("signed with another secret: VerifyMatched = %d, want -1", got)
			}
			plugintest.CheckRefusal(t, err, "signature does not match", newS, oldS, otherS)

			// send signs with the first: a verifier holding only the new
			// secret accepts it, one holding only the old refuses it.
			h := http.Header{}
			rotated.SignRequest(h, body, "msg_2mT0", now)
			r = &plugins.Request{Method: http.MethodPost, Header: h, Body: body}
			plugintest.CheckRefusal(t, mustVerifier(t, tt.plugin, tt.rest+"\n"+`secret = "`+newS+`"`).Verify(r, now), "")
			plugintest.CheckRefusal(t, mustVerifier(t, tt.plugin, tt.rest+"\n"+`secret = "`+oldS+`"`).Verify(r, now), "signature does not match", newS, oldS)

			// A single secret is index 0.
			single := mustVerifier(t, tt.plugin, tt.rest+"\n"+`secret = "`+oldS+`"`).(plugins.MatchedSecret)
			if got, err := single.VerifyMatched(&plugins.Request{Method: http.MethodPost, Header: signed(oldS), Body: body}, now); got != 0 || err != nil {
				t.Errorf("single secret: VerifyMatched = %d, %v; want 0, nil", got, err)
			}
		})
	}
}

// TestSecretsConstruction: secret and secrets are exclusive, one of them is
// required, and no secret of the list may be empty; no error shows a secret.
func TestSecretsConstruction(t *testing.T) {
	for _, tt := range rotating {
		p := plugintest.Lookup(t, plugins.KindVerify, tt.plugin)
		cases := []struct {
			name, src, attr string
		}{
			{"both", `secret = "k3y-one"` + "\n" + `secrets = ["k3y-one", "k3y-two"]`, "secrets"},
			{"neither", "", "secret"},
			{"empty list", `secrets = []`, "secrets"},
			{"an empty secret in the list", `secrets = ["k3y-one", ""]`, "secrets"},
		}
		for _, c := range cases {
			t.Run(tt.plugin+"/"+c.name, func(t *testing.T) {
				plugintest.CheckAttrError(t, p, tt.rest+"\n"+c.src, nil, c.attr, "k3y-one")
			})
		}
	}
}
