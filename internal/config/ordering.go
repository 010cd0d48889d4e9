package config

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/internal/rules"
	"github.com/hookgate/hookgate/spec"
)

// Ordering makes a route's deliveries to each of its destinations go one
// at a time per key, in the order their events were accepted (SPEC,
// "Ordered delivery").
type Ordering struct {
	// Key computes the ordering key from the payload, like a filter.
	Key *rules.Program
	// Block holds a key whose delivery died until it is replayed and
	// delivered, or discarded (on_dead = "block"); otherwise the next one
	// goes (on_dead = "skip").
	Block bool
}

// On-dead policies of an ordering block.
const (
	OnDeadSkip  = "skip"
	OnDeadBlock = "block"
)

var orderingBlock = &spec.Block{
	Type: "ordering",
	Doc: "Deliver this route's events to each destination one at a time per key, in the order they were accepted. " +
		"A delivery that is retrying holds back only its own key; other keys go on at full concurrency.",
	Attrs: []spec.Attr{
		{Name: "key", Kind: spec.Expr, Required: true, Example: `"data.creator_id"`,
			Doc: "Expression over the payload whose value, as a string, is the ordering key; type-checked like a filter. An event whose key is missing or empty is delivered without ordering."},
		{Name: "on_dead", Kind: spec.String, Default: OnDeadSkip, Enum: []string{OnDeadSkip, OnDeadBlock}, Example: `"block"`,
			Doc: `When a delivery dies: "skip" lets the key's next delivery go; "block" holds the key until the dead one is replayed and delivered, or discarded.`},
	},
}

func init() { routeBlock.Blocks = append(routeBlock.Blocks, orderingBlock) }

// ordering compiles a route's ordering block (nil when it has none).
func (c *compiler) ordering(blocks hcl.Blocks, env *rules.Env) *Ordering {
	ob := c.single(byType(blocks)["ordering"], "ordering")
	if ob == nil {
		return nil
	}
	v, _ := c.decode(ob.Body, orderingBlock, ob.DefRange)
	if !v.IsSet("key") {
		return nil // reported by decode
	}
	o := &Ordering{Block: v.String("on_dead") == OnDeadBlock}
	if o.Key = c.program(v.Expr("key"), "key", env, rules.StringResult); o.Key == nil {
		return nil
	}
	return o
}
