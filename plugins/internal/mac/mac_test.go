package mac

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

func TestDecodeSecret(t *testing.T) {
	tests := []struct {
		name, secret string
		want         []byte
		bad          bool
	}{
		{name: "whsec", secret: "whsec_aGVsbG8=", want: []byte("hello")},
		{name: "raw", secret: "hello", want: []byte("hello")},
		{name: "raw that looks like base64", secret: "aGVsbG8=", want: []byte("aGVsbG8=")},
		{name: "prefix in upper case is raw", secret: "WHSEC_aGVsbG8=", want: []byte("WHSEC_aGVsbG8=")},
		{name: "whsec without padding", secret: "whsec_aGVsbG8", bad: true},
		{name: "whsec not base64", secret: "whsec_h*llo", bad: true},
		{name: "whsec empty", secret: "whsec_", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSecret(tt.secret)
			if tt.bad {
				if err == nil {
					t.Fatalf("DecodeSecret(%q) = %q, want an error", tt.secret, got)
				}
				if strings.Contains(err.Error(), strings.TrimPrefix(tt.secret, SecretPrefix)) && tt.secret != SecretPrefix {
					t.Errorf("error %q leaks the secret", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Errorf("DecodeSecret(%q) = %q, %v; want %q", tt.secret, got, err, tt.want)
			}
		})
	}
}

func TestSignatureVector(t *testing.T) {
	key, err := DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Signature = %s, want %s", got, want)
	}
}

func TestEncodeDecode(t *testing.T) {
	raw := []byte{0x00, 0xfb, 0xff, 0x10}
	tests := []struct{ enc, want string }{
		{"hex", "00fbff10"},
		{"base64", "APv/EA=="},
	}
	for _, tt := range tests {
		t.Run(tt.enc, func(t *testing.T) {
			if got := Encode(tt.enc, raw); got != tt.want {
				t.Errorf("Encode = %q, want %q", got, tt.want)
			}
			for _, in := range []string{tt.want, strings.ToUpper(tt.want)} {
				got, err := Decode(tt.enc, in)
				if tt.enc == "base64" && in != tt.want {
					continue // base64 is case-sensitive
				}
				if err != nil || !bytes.Equal(got, raw) {
					t.Errorf("Decode(%q) = %x, %v", in, got, err)
				}
			}
		})
	}
}

func TestHeaderName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"X-Signature", true},
		{"x-hub-signature-256", true},
		{"Webhook_Sig.v1", true},
		{"", false},
		{"X Signature", false},
		{"X-Signature:", false},
		{"X-Sïgnature", false},
		{"X-Sig\r\nInjected", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := HeaderName(spec.Values{"header": {V: tt.name}}, "header")
			var ae *spec.AttrError
			switch {
			case tt.ok && err != nil:
				t.Errorf("HeaderName(%q) = %v", tt.name, err)
			case !tt.ok && !errors.As(err, &ae):
				t.Errorf("HeaderName(%q) = %v, want a *spec.AttrError", tt.name, err)
			case !tt.ok && ae.Attr != "header":
				t.Errorf("error names %q, want header", ae.Attr)
			}
		})
	}
}

// TestBodyMACList: a BodyMAC built from attributes (verify and sign "hmac")
// accepts a header listing several signatures separated by commas when any
// matches, as a signer rotating its secret out sends; a provider's fixed
// scheme reads the header as one signature.
func TestBodyMACList(t *testing.T) {
	vals := spec.Values{
		"header":    {V: "X-Sig"},
		"secret":    {V: secret.New("k3y"), Set: true},
		"algorithm": {V: "sha256"},
		"encoding":  {V: "hex"},
		"prefix":    {V: "sha256="},
	}
	m, err := NewBodyMAC(vals)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("hello")
	h := http.Header{}
	m.Sign(h, body)
	good := h.Get("X-Sig")
	other := "sha256=" + strings.Repeat("ab", 32)
	fixed := NewFixedBodyMAC("X-Sig", "sha256=", "hex", sha256.New, [][]byte{[]byte("k3y")})
	tests := []struct {
		header      string
		list, fixed string // the refusal wanted; empty to accept
	}{
		{good, "", ""},
		{other + "," + good, "", "not hex"},
		{good + ", " + other, "", "not hex"},
		{other + "," + other, "signature does not match", "not hex"},
		{"md5=00," + good, "", "does not start with"},
		{"md5=00,sha256=zz", "does not start with", "does not start with"},
	}
	for _, tt := range tests {
		h := http.Header{"X-Sig": {tt.header}}
		for _, c := range []struct {
			m    *BodyMAC
			want string
		}{{m, tt.list}, {fixed, tt.fixed}} {
			err := c.m.Verify(h, body)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("list %v, %q: %v", c.m.list, tt.header, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("list %v, %q: %v, want a refusal mentioning %q", c.m.list, tt.header, err, c.want)
			}
		}
	}
}
