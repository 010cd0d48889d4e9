package verify

import (
	"net/http"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindVerify,
		Name: "none",
		Doc: "Accepts every request. For local testing, or for a source behind something that " +
			"already authenticates it; anyone who can reach the path can send events.",
		New: func(spec.Values) (any, error) { return None{}, nil },
	})
}

// None is the verify "none" plugin: it accepts everything.
type None struct{}

var (
	_ plugins.Verifier      = None{}
	_ plugins.RequestSigner = None{}
)

// Verify accepts every request.
func (None) Verify(*plugins.Request, time.Time) error { return nil }

// SignRequest adds nothing.
func (None) SignRequest(http.Header, []byte, string, time.Time) {}
