package standard_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/plugins/internal/plugintest"
	_ "github.com/hookgate/hookgate/plugins/standard"
)

func TestEveryBuiltInIsRegistered(t *testing.T) {
	tests := []struct {
		kind plugins.Kind
		want []string
	}{
		{plugins.KindVerify, []string{"basic_auth", "github", "hmac", "meta", "none", "shopify", "slack", "standard_webhooks", "stripe", "token", "twilio"}},
		{plugins.KindSign, []string{"hmac", "standard_webhooks"}},
		{plugins.KindDestination, []string{"kafka", "nats", "rabbitmq", "redis_stream"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			if got := plugins.Default.Names(tt.kind); !slices.Equal(got, tt.want) {
				t.Errorf("Names(%s) = %v, want %v", tt.kind, got, tt.want)
			}
		})
	}
}

// exampleContext evaluates the env() calls that secret examples use, the
// way the config loader would with those variables set.
func exampleContext() *hcl.EvalContext {
	env := function.New(&function.Spec{
		Params:   []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam: &function.Parameter{Name: "default", Type: cty.String},
		Type:     function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal("value-of-" + strings.ToLower(args[0].AsString())), nil
		},
	})
	return &hcl.EvalContext{Functions: map[string]function.Function{"env": env}}
}

// TestEveryPluginIsDocumented checks what the generated reference is made
// of, and that a block written from the documented examples builds a plugin
// with its kind's abilities.
func TestEveryPluginIsDocumented(t *testing.T) {
	for _, p := range plugins.Default.All() {
		t.Run(p.ID(), func(t *testing.T) {
			if p.Doc == "" {
				t.Error("no Doc")
			}
			var src strings.Builder
			for _, a := range p.Attrs {
				if a.Doc == "" || a.Example == "" {
					t.Errorf("attribute %s lacks a Doc or an Example", a.Name)
				}
				if a.Instead != "" {
					continue // tried on its own below
				}
				src.WriteString(a.Name + " = " + a.Example + "\n")
			}
			v, err := p.New(plugintest.Values(t, p, src.String(), exampleContext()))
			if err != nil {
				t.Fatalf("the documented examples do not build:\n%s%v", src.String(), err)
			}
			switch p.Kind {
			case plugins.KindVerify:
				if _, ok := v.(interface {
					plugins.Verifier
					plugins.RequestSigner
				}); !ok {
					t.Errorf("%T is not a Verifier and a RequestSigner", v)
				}
			case plugins.KindSign:
				if _, ok := v.(interface {
					plugins.Signer
					plugins.Checker
				}); !ok {
					t.Errorf("%T is not a Signer and a Checker", v)
				}
			case plugins.KindDestination:
				if _, ok := v.(interface {
					plugins.Destination
					plugins.Targeter
				}); !ok {
					t.Errorf("%T is not a Destination and a Targeter", v)
				}
			default:
				t.Errorf("unknown kind %q", p.Kind)
			}
			if err := plugins.Close(v); err != nil {
				t.Errorf("Close = %v", err)
			}
			for _, a := range p.Attrs {
				if a.Instead == "" {
					continue
				}
				alt := strings.ReplaceAll(src.String(), a.Instead+" = ", "# "+a.Instead+" = ") + a.Name + " = " + a.Example + "\n"
				v, err := p.New(plugintest.Values(t, p, alt, exampleContext()))
				if err != nil {
					t.Fatalf("the documented examples with %s instead of %s do not build:\n%s%v", a.Name, a.Instead, alt, err)
				}
				plugins.Close(v)
			}
		})
	}
}

// TestSignersMatchVerifiers checks that what a destination signs, a source
// with the same settings accepts: a hookgate in front of another hookgate.
func TestSignersMatchVerifiers(t *testing.T) {
	tests := []struct {
		name, signer, verifier string
	}{
		{"standard_webhooks", `secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`, `secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`},
		{"hmac", `
			header    = "X-Signature"
			secret    = "k3y"
			algorithm = "sha512"
			encoding  = "base64"
			prefix    = "sha512="`, `
			secret    = "k3y"
			algorithm = "sha512"
			encoding  = "base64"
			prefix    = "sha512="`},
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"creator":"c_1","platform":"tiktok"}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := plugintest.New(t, plugins.KindSign, tt.name, tt.signer).(plugins.Signer)
			v := plugintest.New(t, plugins.KindVerify, tt.name, tt.verifier).(plugins.Verifier)
			h := http.Header{}
			s.Sign(h, plugins.Message{ID: "d_7f3a", Timestamp: now, Body: body})
			if err := v.Verify(&plugins.Request{Method: http.MethodPost, Header: h, Body: body}, now.Add(time.Second)); err != nil {
				t.Fatalf("verify %s refuses sign %s: %v", tt.name, tt.name, err)
			}
			rs := plugintest.New(t, plugins.KindVerify, tt.name, tt.verifier).(plugins.RequestSigner)
			h2 := http.Header{}
			rs.SignRequest(h2, body, "d_7f3a", now)
			if err := s.(plugins.Checker).Check(h2, body, now.Add(time.Second)); err != nil {
				t.Fatalf("sign %s refuses what verify %s sends: %v", tt.name, tt.name, err)
			}
		})
	}
}
