package mac

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/gateway/config/spec"
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
