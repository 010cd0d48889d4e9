package verify_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
)

func TestTokenVerify(t *testing.T) {
	const tok = "t0k3n-9f8e7d"
	plain := `token = "` + tok + `"`
	bearer := `
		header = "Authorization"
		token  = "` + tok + `"
		prefix = "Bearer "`
	tests := []struct {
		name, src string
		header    http.Header
		want      string
	}{
		{"good", plain, headers("X-Webhook-Token", tok), ""},
		{"good with a scheme", bearer, headers("Authorization", "Bearer "+tok), ""},
		{"scheme in lower case", bearer, headers("Authorization", "bearer "+tok), ""},
		{"wrong", plain, headers("X-Webhook-Token", "t0k3n-9f8e7e"), "token does not match"},
		{"longer", plain, headers("X-Webhook-Token", tok+"x"), "token does not match"},
		{"shorter", plain, headers("X-Webhook-Token", tok[:5]), "token does not match"},
		{"missing", plain, headers("Authorization", tok), "missing X-Webhook-Token header"},
		{"missing scheme", bearer, headers("Authorization", tok), `Authorization header does not start with "Bearer "`},
		{"other scheme", bearer, headers("Authorization", "Basic "+tok), `does not start with "Bearer "`},
		{"scheme alone", bearer, headers("Authorization", "Bearer"), `does not start with "Bearer "`},
		{"scheme where none is expected", plain, headers("X-Webhook-Token", "Bearer "+tok), "token does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, "token", tt.src)
			err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: tt.header}, time.Now())
			plugintest.CheckRefusal(t, err, tt.want, tok)
		})
	}
}
