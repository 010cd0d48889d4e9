package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/spec"
)

// Breaker is a destination's circuit breaker (SPEC, Destination health):
// after Failures consecutive failed attempts nothing is attempted for
// Cooldown, then one probe attempt closes it (success) or opens it again.
type Breaker struct {
	// Failures is how many consecutive failed attempts open it.
	Failures int
	// Cooldown is how long it stays open before its probe.
	Cooldown time.Duration
}

// MaxBreakerCooldown bounds a breaker's cooldown: longer than a day is
// a pause, which the admin API does on purpose.
const MaxBreakerCooldown = 24 * time.Hour

var breakerBlock = &spec.Block{
	Type: "breaker",
	Doc:  "A circuit breaker: after `failures` consecutive failed attempts nothing is attempted on the destination for `cooldown`, and waiting deliveries keep the attempts they have left; then one waiting delivery is attempted as a probe: a 2xx closes the breaker, a failure opens it again. A 410 counts as a failure (and still dead-letters its delivery). Absent: no breaker.",
	Attrs: []spec.Attr{
		{Name: "failures", Kind: spec.Int, Default: "20", Example: "20",
			Doc: "Consecutive failed attempts that open the breaker, at least 1."},
		{Name: "cooldown", Kind: spec.Duration, Default: "30s", Example: `"30s"`,
			Doc: "How long the breaker stays open before its probe attempt, at most 24h."},
	},
}

// adaptiveAttr is the destination attribute that turns adaptive
// concurrency on.
var adaptiveAttr = spec.Attr{Name: "adaptive_concurrency", Kind: spec.Bool, Default: "false", Example: "true",
	Doc: "Adapt the attempts in flight to the receiver (AIMD): a 429, a 503 or a timeout halves them (not below 1), each success adds to them, up to max_concurrency. Retry-After is still honoured."}

func init() {
	destinationBlock.Attrs = append(destinationBlock.Attrs, adaptiveAttr)
	destinationBlock.Blocks = append(destinationBlock.Blocks, breakerBlock)
}

// health compiles a destination's health settings: adaptive_concurrency
// (in v) and its breaker block (one of blocks, nil when absent).
func (c *compiler) health(d *Destination, v spec.Values, blocks hcl.Blocks) {
	d.AdaptiveConcurrency = v.Bool("adaptive_concurrency")
	b := c.single(blocks, "breaker")
	if b == nil {
		return
	}
	bv, _ := c.decode(b.Body, breakerBlock, b.DefRange)
	d.Breaker = &Breaker{Failures: max(bv.Int("failures"), 1), Cooldown: bv.Duration("cooldown")}
	if bv.IsSet("failures") && bv.Int("failures") < 1 {
		c.errorf(bv.Range("failures"), "Invalid failures", "A breaker opens after at least 1 failed attempt; %d is too few.", bv.Int("failures"))
	}
	switch cd := d.Breaker.Cooldown; {
	case !bv.IsSet("cooldown"):
	case cd <= 0:
		c.errorf(bv.Range("cooldown"), "Invalid cooldown", "A breaker's cooldown must be longer than zero.")
	case cd > MaxBreakerCooldown:
		c.errorf(bv.Range("cooldown"), "Invalid cooldown", "A breaker's cooldown can be at most 24h; %s is longer (pause the destination instead).", fmtDuration(cd))
	}
}
