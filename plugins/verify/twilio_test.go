package verify_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
)

// Twilio's documented example (twilio.com/docs/usage/security, "Validating
// signatures from Twilio"): Auth Token 12345, the URL and the call's POST
// parameters it walks through, and the X-Twilio-Signature it computes.
const (
	twilioToken = "12345"
	twilioURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	twilioSig   = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
)

var twilioForm = url.Values{
	"CallSid": {"CA1234567890ABCDE"},
	"Caller":  {"+12349013030"},
	"Digits":  {"1234"},
	"From":    {"+12349013030"},
	"To":      {"+18005551212"},
}

func TestTwilio(t *testing.T) {
	cfg := `secret = "` + twilioToken + `"` + "\nurl = \"" + twilioURL + `"`
	v := mustVerifier(t, "twilio", cfg)
	body := []byte(twilioForm.Encode())
	sig := func(s string) http.Header { return headers("X-Twilio-Signature", s) }
	tampered := url.Values{}
	for k, vs := range twilioForm {
		tampered[k] = vs
	}
	tampered.Set("Digits", "9999")
	for _, c := range []struct {
		name   string
		header http.Header
		body   []byte
		want   string
	}{
		{"the documented example", sig(twilioSig), body, ""},
		{"fields in another order", sig(twilioSig), []byte("To=%2B18005551212&From=%2B12349013030&Digits=1234&Caller=%2B12349013030&CallSid=CA1234567890ABCDE"), ""},
		{"tampered field", sig(twilioSig), []byte(tampered.Encode()), "does not match"},
		{"missing header", http.Header{}, body, "missing X-Twilio-Signature"},
		{"not base64", sig("!!!"), body, "not base64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: c.header, Body: c.body}, time.Now())
			plugintest.CheckRefusal(t, err, c.want, twilioToken)
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		w := mustVerifier(t, "twilio", `secret = "54321"`+"\nurl = \""+twilioURL+`"`)
		err := w.Verify(&plugins.Request{Method: http.MethodPost, Header: sig(twilioSig), Body: body}, time.Now())
		plugintest.CheckRefusal(t, err, "does not match", "54321")
	})
	t.Run("another URL", func(t *testing.T) {
		w := mustVerifier(t, "twilio", `secret = "`+twilioToken+`"`+"\nurl = \"https://mycompany.com/other\"")
		err := w.Verify(&plugins.Request{Method: http.MethodPost, Header: sig(twilioSig), Body: body}, time.Now())
		plugintest.CheckRefusal(t, err, "does not match", twilioToken)
	})
	t.Run("signs the example", func(t *testing.T) {
		h := http.Header{}
		v.SignRequest(h, body, "", time.Now())
		if got := h.Get("X-Twilio-Signature"); got != twilioSig {
			t.Errorf("X-Twilio-Signature = %q, want %q", got, twilioSig)
		}
	})
	t.Run("rotation", func(t *testing.T) {
		w := mustVerifier(t, "twilio", `secrets = ["new-token", "`+twilioToken+`"]`+"\nurl = \""+twilioURL+`"`)
		n, err := w.(plugins.MatchedSecret).VerifyMatched(&plugins.Request{Method: http.MethodPost, Header: sig(twilioSig), Body: body}, time.Now())
		if err != nil || n != 1 {
			t.Errorf("signed with the old token: %d, %v; want it to match secret 1", n, err)
		}
	})
	if fp, ok := v.(plugins.FormPoster); !ok || !fp.PostsForms() {
		t.Error("the twilio preset does not say Twilio posts forms")
	}
	if err := plugintest.NewErr(t, plugins.KindVerify, "twilio", `secret = "k"`+"\nurl = \"/in/twilio\""); err == nil {
		t.Error("a relative url was accepted")
	}
}
