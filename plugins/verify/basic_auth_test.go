package verify_test

import (
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
)

func TestBasicAuthVerify(t *testing.T) {
	const src = `
		username = "hookgate"
		password = "pa:ss"`
	basic := func(cred string) http.Header {
		return headers("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	}
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"good", headers("Authorization", "Basic aG9va2dhdGU6cGE6c3M="), ""},
		{"scheme in lower case", headers("Authorization", "basic aG9va2dhdGU6cGE6c3M="), ""},
		{"wrong password", basic("hookgate:pa:sS"), "username or password does not match"},
		{"wrong username", basic("Hookgate:pa:ss"), "username or password does not match"},
		{"both wrong", basic("x:y"), "username or password does not match"},
		{"password only", basic(":pa:ss"), "username or password does not match"},
		{"missing", http.Header{}, "missing Authorization header"},
		{"bearer", headers("Authorization", "Bearer pa:ss"), "Authorization header does not hold Basic credentials"},
		{"not base64", headers("Authorization", "Basic ***"), "does not hold Basic credentials"},
		{"no colon", basic("hookgatepa"), "does not hold Basic credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, "basic_auth", src)
			err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: tt.header}, time.Now())
			plugintest.CheckRefusal(t, err, tt.want, "pa:ss")
		})
	}
}

func TestBasicAuthSignRequest(t *testing.T) {
	v := mustVerifier(t, "basic_auth", `
		username = "hookgate"
		password = "pa:ss"`)
	h := http.Header{}
	v.SignRequest(h, nil, "", time.Now())
	if got, want := h.Get("Authorization"), "Basic aG9va2dhdGU6cGE6c3M="; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
}

func TestNoneAcceptsAnything(t *testing.T) {
	v := mustVerifier(t, "none", "")
	h := http.Header{}
	v.SignRequest(h, []byte("{}"), "msg_1", time.Now())
	if len(h) != 0 {
		t.Errorf("SignRequest set %v, want nothing", h)
	}
	if err := v.Verify(&plugins.Request{Header: h}, time.Time{}); err != nil {
		t.Errorf("Verify = %v", err)
	}
}
