// Package plugintest builds plugins from HCL text for tests, through the
// same strict spec decoding the config loader uses, so that a test exercises
// defaults, enums and duration parsing exactly as a user's config would.
//
// It is for tests only and must not be imported by production code.
package plugintest

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

// Lookup finds kind.name in plugins.Default and fails tb when it is absent.
func Lookup(tb testing.TB, kind plugins.Kind, name string) plugins.Plugin {
	tb.Helper()
	p, ok := plugins.Default.Lookup(kind, name)
	if !ok {
		tb.Fatalf("plugin %s.%s is not registered", kind, name)
	}
	return p
}

// Values decodes src, the body of a plugin block, against p's attributes
// with ctx (nil for literals only), failing tb on any diagnostic.
func Values(tb testing.TB, p plugins.Plugin, src string, ctx *hcl.EvalContext) spec.Values {
	tb.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		tb.Fatalf("%s: parse %q: %v", p.ID(), src, diags)
	}
	vals, blocks, diags := spec.DecodeBody(f.Body, p.Block(), ctx, f.Body.MissingItemRange())
	if diags.HasErrors() {
		tb.Fatalf("%s: decode %q: %v", p.ID(), src, diags)
	}
	if len(blocks) > 0 {
		tb.Fatalf("%s: decode %q: unexpected nested blocks", p.ID(), src)
	}
	return vals
}

// New builds kind.name from src, the body of its block, and fails tb if it
// does not build.
func New(tb testing.TB, kind plugins.Kind, name, src string) any {
	tb.Helper()
	v, err := build(tb, kind, name, src)
	if err != nil {
		tb.Fatalf("%s.%s from %q: %v", kind, name, src, err)
	}
	return v
}

// NewErr builds kind.name from src and returns the constructor's error. It
// fails tb when src does not decode, so the error is the constructor's own.
func NewErr(tb testing.TB, kind plugins.Kind, name, src string) error {
	tb.Helper()
	_, err := build(tb, kind, name, src)
	return err
}

func build(tb testing.TB, kind plugins.Kind, name, src string) (any, error) {
	tb.Helper()
	p := Lookup(tb, kind, name)
	return p.New(Values(tb, p, src, nil))
}

// CheckRefusal fails t unless err is nil when want is empty, or otherwise a
// refusal wrapping plugins.ErrUnauthorized that mentions want and none of
// the secrets.
func CheckRefusal(t testing.TB, err error, want string, secrets ...string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted, want a refusal mentioning %q", want)
	}
	if !errors.Is(err, plugins.ErrUnauthorized) {
		t.Errorf("error %v does not wrap plugins.ErrUnauthorized", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not mention %q", err, want)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q leaks %q", err, s)
		}
	}
}

// CheckAttrError builds p from src (with override replacing decoded values)
// and fails t unless construction fails with a *spec.AttrError naming attr
// whose message does not contain secret.
func CheckAttrError(t testing.TB, p plugins.Plugin, src string, override map[string]any, attr, secret string) {
	t.Helper()
	vals := Values(t, p, src, nil)
	for k, v := range override {
		vals[k] = spec.Value{V: v, Set: true}
	}
	built, err := p.New(vals)
	if err == nil {
		t.Fatalf("built %T, want an error about %s", built, attr)
	}
	var ae *spec.AttrError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not a *spec.AttrError", err, err)
	}
	if ae.Attr != attr {
		t.Errorf("error names %q, want %q: %v", ae.Attr, attr, err)
	}
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("error %q leaks the secret", err)
	}
}
