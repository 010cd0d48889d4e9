package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const value = "whsec_supersecretvalue"
	s := New(value)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "secret", s)
	js, err := json.Marshal(struct{ S Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", s),
		"%s":   fmt.Sprintf("%s", s),
		"%+v":  fmt.Sprintf("%+v", struct{ S Secret }{s}),
		"%#v":  fmt.Sprintf("%#v", s),
		"json": string(js),
		"slog": logged.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, value) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("%s = %q, want it to say %s", name, out, Redacted)
		}
	}
	if s.Reveal() != value {
		t.Fatalf("Reveal = %q", s.Reveal())
	}
	if !s.Equal(value) || s.Equal(value+"x") || s.Equal("") {
		t.Fatal("Equal compares wrongly")
	}
}

// TestRedactURL: user info, query values and the fragment never show.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@example.com/hook?token=abc&x=1#frag": "https://redacted@example.com/hook?token=redacted&x=redacted",
		"https://example.com/hooks":                           "https://example.com/hooks",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRedactURLPath: a secret URL shows its scheme and host only (and its
// query's names), never its path.
func TestRedactURLPath(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/XXXXSECRET":  "https://hooks.slack.com/[redacted]",
		"https://discord.com/api/webhooks/1/tok3n?wait=true": "https://discord.com/[redacted]?wait=redacted",
		"https://user:pw@example.com/a/b#frag":               "https://redacted@example.com/[redacted]",
		"https://example.com":                                "https://example.com",
		"https://example.com/":                               "https://example.com/",
		"not a url":                                          "[invalid url]",
	} {
		if got := RedactURLPath(in); got != want {
			t.Errorf("RedactURLPath(%q) = %q, want %q", in, got, want)
		}
	}
}
