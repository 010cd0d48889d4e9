package verify_test

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
)

// GitHub's documented example (docs.github.com, "Validating webhook
// deliveries"); the other digests were computed independently with Python's
// hmac module.
const (
	ghSecret = "It's a Secret to Everybody"
	ghBody   = "Hello, World!"
	ghSHA256 = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	ghSHA1   = "01dc10d0c83e72ed246219cdd91669667fe2ca59"
	ghSHA512 = "11ed355a617e98134e842012a7944ccf59c10256cb182357bd7e3a42013ff07c376f8c14cf5cc1923da20b51d64256b2fb8ebbf100aa67a61326f61fea8111bc"
	ghB64256 = "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc="
	ghB64512 = "Ee01WmF+mBNOhCASp5RMz1nBAlbLGCNXvX46QgE/8Hw3b4wUz1zBkj2iC1HWQlay+4678QCqZ6YTJvYf6oERvA=="
)

func TestHMACVerify(t *testing.T) {
	github := `
		header = "X-Hub-Signature-256"
		secret = "` + ghSecret + `"
		prefix = "sha256="`
	tests := []struct {
		name, src string
		header    http.Header
		body      string // default ghBody
		want      string
	}{
		{name: "github example", src: github, header: headers("X-Hub-Signature-256", "sha256="+ghSHA256)},
		{name: "github example, header name in lower case", src: github, header: headers("x-hub-signature-256", "sha256="+ghSHA256)},
		{name: "upper-case hex", src: github, header: headers("X-Hub-Signature-256", "sha256="+strings.ToUpper(ghSHA256))},
		{name: "upper-case prefix", src: github, header: headers("X-Hub-Signature-256", "SHA256="+ghSHA256)},
		{name: "surrounding spaces", src: github, header: headers("X-Hub-Signature-256", " sha256="+ghSHA256+" ")},
		{name: "default header, no prefix", src: `secret = "` + ghSecret + `"`, header: headers("X-Signature", ghSHA256)},
		{name: "sha1 hex", src: `
			header    = "X-Hub-Signature"
			secret    = "` + ghSecret + `"
			algorithm = "sha1"
			prefix    = "sha1="`, header: headers("X-Hub-Signature", "sha1="+ghSHA1)},
		{name: "sha512 hex", src: `
			secret    = "` + ghSecret + `"
			algorithm = "sha512"`, header: headers("X-Signature", ghSHA512)},
		{name: "sha256 base64", src: `
			secret   = "` + ghSecret + `"
			encoding = "base64"`, header: headers("X-Signature", ghB64256)},
		{name: "sha512 base64", src: `
			secret    = "` + ghSecret + `"
			algorithm = "sha512"
			encoding  = "base64"`, header: headers("X-Signature", ghB64512)},
		{name: "missing header", src: github, header: headers("X-Signature", "sha256="+ghSHA256), want: "missing X-Hub-Signature-256 header"},
		{name: "empty header", src: github, header: headers("X-Hub-Signature-256", ""), want: "missing X-Hub-Signature-256 header"},
		{name: "wrong signature", src: github, header: headers("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64)), want: "signature does not match"},
		{name: "truncated signature", src: github, header: headers("X-Hub-Signature-256", "sha256="+ghSHA256[:62]), want: "signature does not match"},
		{name: "tampered body", src: github, header: headers("X-Hub-Signature-256", "sha256="+ghSHA256), body: "Hello, World?", want: "signature does not match"},
		{name: "wrong secret", src: strings.Replace(github, ghSecret, "It's a Secret to Nobody", 1), header: headers("X-Hub-Signature-256", "sha256="+ghSHA256), want: "signature does not match"},
		{name: "prefix missing", src: github, header: headers("X-Hub-Signature-256", ghSHA256), want: `X-Hub-Signature-256 header does not start with "sha256="`},
		{name: "other algorithm's prefix", src: github, header: headers("X-Hub-Signature-256", "sha1="+ghSHA1), want: `does not start with "sha256="`},
		{name: "not hex", src: github, header: headers("X-Hub-Signature-256", "sha256="+ghB64256), want: "X-Hub-Signature-256 header is not hex"},
		{name: "hex where base64 is expected", src: `
			secret   = "` + ghSecret + `"
			encoding = "base64"`, header: headers("X-Signature", ghSHA256+"!"), want: "X-Signature header is not base64"},
		{name: "sha256 digest where sha512 is expected", src: `
			secret    = "` + ghSecret + `"
			algorithm = "sha512"`, header: headers("X-Signature", ghSHA256), want: "signature does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == "" {
				body = ghBody
			}
			v := mustVerifier(t, "hmac", tt.src)
			err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: tt.header, Body: []byte(body)}, time.Now())
			plugintest.CheckRefusal(t, err, tt.want, ghSecret, ghSHA256, ghSHA1, ghSHA512, ghB64256)
		})
	}
}

func TestHMACSignRequest(t *testing.T) {
	tests := []struct {
		alg, enc string
		size     int // digest bytes
	}{
		{"sha1", "hex", 20}, {"sha1", "base64", 20},
		{"sha256", "hex", 32}, {"sha256", "base64", 32},
		{"sha512", "hex", 64}, {"sha512", "base64", 64},
	}
	for _, tt := range tests {
		for _, prefix := range []string{"", tt.alg + "="} {
			t.Run(tt.alg+"/"+tt.enc+"/prefix="+prefix, func(t *testing.T) {
				v := mustVerifier(t, "hmac", `
					secret    = "`+ghSecret+`"
					algorithm = "`+tt.alg+`"
					encoding  = "`+tt.enc+`"
					prefix    = "`+prefix+`"`)
				h := http.Header{}
				v.SignRequest(h, []byte(ghBody), "", time.Now())
				got, ok := strings.CutPrefix(h.Get("X-Signature"), prefix)
				if !ok {
					t.Fatalf("X-Signature = %q, want the prefix %q", h.Get("X-Signature"), prefix)
				}
				var raw []byte
				var err error
				if tt.enc == "hex" {
					raw, err = hex.DecodeString(got)
				} else {
					raw, err = base64.StdEncoding.DecodeString(got)
				}
				if err != nil || len(raw) != tt.size {
					t.Fatalf("X-Signature = %q: %d bytes of %s (%v), want %d", got, len(raw), tt.enc, err, tt.size)
				}
				if tt.alg == "sha256" && tt.enc == "hex" && got != ghSHA256 {
					t.Errorf("signature = %s, want GitHub's %s", got, ghSHA256)
				}
				err = v.Verify(&plugins.Request{Method: http.MethodPost, Header: h, Body: []byte(ghBody)}, time.Now())
				plugintest.CheckRefusal(t, err, "")
			})
		}
	}
}
