package verify

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindVerify,
		Name: "basic_auth",
		Doc: "Checks HTTP Basic credentials in the Authorization header (RFC 7617), " +
			"for senders that can only put a user and password in the URL or their settings.",
		Attrs: []spec.Attr{
			{Name: "username", Kind: spec.String, Required: true,
				Doc: "The user name the sender must present; it cannot contain a colon.", Example: `"hookgate"`},
			{Name: "password", Kind: spec.Secret, Required: true,
				Doc: "The password the sender must present.", Example: `env("WEBHOOK_PASSWORD")`},
		},
		New: func(v spec.Values) (any, error) { return newBasicAuth(v) },
	})
}

// BasicAuth is the verify "basic_auth" plugin: HTTP Basic credentials.
type BasicAuth struct {
	username string
	password secret.Secret
}

var (
	_ plugins.Verifier      = (*BasicAuth)(nil)
	_ plugins.RequestSigner = (*BasicAuth)(nil)
)

func newBasicAuth(v spec.Values) (*BasicAuth, error) {
	user := v.String("username")
	switch {
	case user == "":
		return nil, spec.Errorf("username", "must not be empty")
	case strings.Contains(user, ":"):
		// RFC 7617: the first colon ends the user name.
		return nil, spec.Errorf("username", "must not contain a colon")
	}
	pass, err := mac.Secret(v, "password")
	if err != nil {
		return nil, err
	}
	return &BasicAuth{username: user, password: pass}, nil
}

// CredentialHeaders names Authorization: it is not stored.
func (p *BasicAuth) CredentialHeaders() []string { return []string{"Authorization"} }

// Verify accepts r when its Authorization header holds the user name and
// password. Both are compared in constant time, and both always are, so the
// time taken does not tell which one was wrong.
func (p *BasicAuth) Verify(r *plugins.Request, _ time.Time) error {
	if r.Header.Get("Authorization") == "" {
		return plugins.Refuse("missing Authorization header")
	}
	user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
	if !ok {
		return plugins.Refuse("Authorization header does not hold Basic credentials")
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(p.username))
	passOK := 0
	if p.password.Equal(pass) {
		passOK = 1
	}
	if userOK&passOK != 1 {
		return plugins.Refuse("username or password does not match")
	}
	return nil
}

// SignRequest sets the Authorization header to the credentials.
func (p *BasicAuth) SignRequest(h http.Header, _ []byte, _ string, _ time.Time) {
	cred := base64.StdEncoding.EncodeToString([]byte(p.username + ":" + p.password.Reveal()))
	h.Set("Authorization", "Basic "+cred)
}
