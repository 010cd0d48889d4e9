package sign_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
)

// The new secrets the rotation tests move to; the old ones are the
// published vectors' secrets, so the old signature is the published one.
const (
	swNewSecret = "whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbg=="
	ghNewSecret = "the new secret, after rotation"
)

// swUntil is one second after the Standard Webhooks vector's timestamp,
// 2021-02-25T15:02:10Z.
const swUntil = "2021-02-25T15:02:11Z"

// TestRotationOut: until previous_until each delivery carries the new
// signature and the old one (the published vector's, made with the old
// secret), and a receiver holding only the old secret, as `hookgate sink
// -secret OLD` does, accepts it; from previous_until on, only the new one,
// which that receiver refuses. The receiver holding the new secret accepts
// both.
func TestRotationOut(t *testing.T) {
	tests := []struct {
		name, plugin   string
		src            string // the rotating signer
		oldSrc, newSrc string // the receivers' checkers
		header         string
		oldSig         string // the old secret's signature, as published
		sep            string
		old, new       string // secrets, never in a refusal
	}{
		{
			name: "standard_webhooks", plugin: "standard_webhooks",
			src: `
				secret          = "` + swNewSecret + `"
				previous_secret = "` + swSecret + `"
				previous_until  = "` + swUntil + `"`,
			oldSrc: `secret = "` + swSecret + `"`, newSrc: `secret = "` + swNewSecret + `"`,
			header: "webhook-signature", oldSig: swSig, sep: " ",
			old: swSecret, new: swNewSecret,
		},
		{
			name: "hmac", plugin: "hmac",
			src: `
				header          = "X-Hub-Signature-256"
				prefix          = "sha256="
				secret          = "` + ghNewSecret + `"
				previous_secret = "` + ghSecret + `"
				previous_until  = "` + swUntil + `"`,
			oldSrc: "header = \"X-Hub-Signature-256\"\nprefix = \"sha256=\"\nsecret = \"" + ghSecret + "\"",
			newSrc: "header = \"X-Hub-Signature-256\"\nprefix = \"sha256=\"\nsecret = \"" + ghNewSecret + "\"",
			header: "X-Hub-Signature-256", oldSig: "sha256=" + ghSHA256, sep: ",",
			old: ghSecret, new: ghNewSecret,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(swBody)
			if tt.plugin == "hmac" {
				body = []byte(ghBody)
			}
			s := mustSigner(t, tt.plugin, tt.src)
			fresh := mustSigner(t, tt.plugin, tt.newSrc)
			oldReceiver := mustSigner(t, tt.plugin, tt.oldSrc)
			newReceiver := mustSigner(t, tt.plugin, tt.newSrc)
			sign := func(at time.Time) http.Header {
				h := http.Header{}
				s.Sign(h, plugins.Message{ID: swID, Timestamp: at, Body: body})
				return h
			}
			newSig := func(at time.Time) string {
				h := http.Header{}
				fresh.Sign(h, plugins.Message{ID: swID, Timestamp: at, Body: body})
				return h.Get(tt.header)
			}

			during := time.Unix(swTimestamp, 0)
			h := sign(during)
			if got, want := h.Get(tt.header), newSig(during)+tt.sep+tt.oldSig; got != want {
				t.Errorf("during the window %s = %q, want %q", tt.header, got, want)
			}
			plugintest.CheckRefusal(t, oldReceiver.Check(h, body, during), "")
			plugintest.CheckRefusal(t, newReceiver.Check(h, body, during), "")
			plugintest.CheckRefusal(t, s.Check(h, body, during), "")

			after := time.Unix(swTimestamp+1, 0) // previous_until itself
			h = sign(after)
			if got, want := h.Get(tt.header), newSig(after); got != want {
				t.Errorf("from previous_until on %s = %q, want only the new %q", tt.header, got, want)
			}
			plugintest.CheckRefusal(t, oldReceiver.Check(h, body, after), "signature does not match", tt.old, tt.new)
			plugintest.CheckRefusal(t, newReceiver.Check(h, body, after), "")
			plugintest.CheckRefusal(t, s.Check(h, body, after), "")
		})
	}
}

// TestRotationCheck: a signer's own Checker accepts a delivery signed with
// only the previous secret until previous_until, and refuses it after.
func TestRotationCheck(t *testing.T) {
	s := mustSigner(t, "standard_webhooks", `
		secret          = "`+swNewSecret+`"
		previous_secret = "`+swSecret+`"
		previous_until  = "2021-02-25T15:03:00Z"`)
	h := http.Header{}
	mustSigner(t, "standard_webhooks", `secret = "`+swSecret+`"`).
		Sign(h, plugins.Message{ID: swID, Timestamp: time.Unix(swTimestamp, 0), Body: []byte(swBody)})
	plugintest.CheckRefusal(t, s.Check(h, []byte(swBody), time.Unix(swTimestamp+49, 0)), "")
	plugintest.CheckRefusal(t, s.Check(h, []byte(swBody), time.Unix(swTimestamp+50, 0)), "signature does not match", swSecret, swNewSecret)
}

// TestRotationErrors: previous_secret and previous_until go together, the
// time is RFC 3339, and no error shows either secret.
func TestRotationErrors(t *testing.T) {
	tests := []struct {
		name, plugin, src string
		attr              string
	}{
		{"standard_webhooks previous_secret alone", "standard_webhooks",
			`secret = "new-s3cret"
			 previous_secret = "old-s3cret"`, "previous_secret"},
		{"standard_webhooks previous_until alone", "standard_webhooks",
			`secret = "new-s3cret"
			 previous_until = "2030-07-01T00:00:00Z"`, "previous_until"},
		{"standard_webhooks date without a time", "standard_webhooks",
			`secret = "new-s3cret"
			 previous_secret = "old-s3cret"
			 previous_until = "2030-07-01"`, "previous_until"},
		{"standard_webhooks empty previous_secret", "standard_webhooks",
			`secret = "new-s3cret"
			 previous_secret = ""
			 previous_until = "2030-07-01T00:00:00Z"`, "previous_secret"},
		{"standard_webhooks previous whsec not base64", "standard_webhooks",
			`secret = "new-s3cret"
			 previous_secret = "whsec_old-s3cret*"
			 previous_until = "2030-07-01T00:00:00Z"`, "previous_secret"},
		{"hmac previous_secret alone", "hmac",
			`secret = "new-s3cret"
			 previous_secret = "old-s3cret"`, "previous_secret"},
		{"hmac previous_until alone", "hmac",
			`secret = "new-s3cret"
			 previous_until = "2030-07-01T00:00:00+02:00"`, "previous_until"},
		{"hmac time without a zone", "hmac",
			`secret = "new-s3cret"
			 previous_secret = "old-s3cret"
			 previous_until = "2030-07-01T00:00:00"`, "previous_until"},
		{"hmac prefix with a comma", "hmac",
			`secret = "new-s3cret"
			 prefix = "v1,"
			 previous_secret = "old-s3cret"
			 previous_until = "2030-07-01T00:00:00Z"`, "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plugintest.Lookup(t, plugins.KindSign, tt.plugin)
			plugintest.CheckAttrError(t, p, tt.src, nil, tt.attr, "s3cret")
		})
	}
}

// TestRotationUntilInTheZone: previous_until may carry any zone offset.
func TestRotationUntilInTheZone(t *testing.T) {
	s := mustSigner(t, "hmac", `
		secret          = "new"
		previous_secret = "old"
		previous_until  = "2021-02-25T16:02:11+01:00"`)
	h := http.Header{}
	s.Sign(h, plugins.Message{Timestamp: time.Unix(swTimestamp, 0), Body: []byte(ghBody)})
	if n := len(strings.Split(h.Get("X-Hookgate-Signature"), ",")); n != 2 {
		t.Errorf("header %q holds %d signatures one second before previous_until, want 2", h.Get("X-Hookgate-Signature"), n)
	}
}
