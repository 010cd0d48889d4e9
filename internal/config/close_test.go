package config_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/plugins"
)

// closingPlugin is a verifier and a signer that records its Close.
type closingPlugin struct {
	closed bool
	err    error
}

func (p *closingPlugin) Verify(*plugins.Request, time.Time) error { return nil }
func (p *closingPlugin) Sign(http.Header, plugins.Message)        {}
func (p *closingPlugin) Close() error                             { p.closed = true; return p.err }

// TestCloseClosesEveryPlugin: a plugin that fails to close does not keep
// the others open, and every failure is returned.
func TestCloseClosesEveryPlugin(t *testing.T) {
	errA, errB := errors.New("verifier a"), errors.New("signer b")
	a, b, c := &closingPlugin{err: errA}, &closingPlugin{err: errB}, &closingPlugin{}
	cfg := &config.Config{
		Sources:      []*config.Source{{Name: "a", Verifier: a}},
		Destinations: []*config.Destination{{Name: "b", Signer: b}, {Name: "c", Signer: c}, {Name: "none"}},
	}
	err := cfg.Close()
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Errorf("Close = %v, want both plugins' errors", err)
	}
	if !a.closed || !b.closed || !c.closed {
		t.Errorf("closed a %v, b %v, c %v; want all", a.closed, b.closed, c.closed)
	}
	if err := (&config.Config{Destinations: []*config.Destination{{Name: "c", Signer: c}}}).Close(); err != nil {
		t.Errorf("Close with no failures = %v", err)
	}
	var nilConfig *config.Config
	if err := nilConfig.Close(); err != nil {
		t.Errorf("nil Config: %v", err)
	}
}
