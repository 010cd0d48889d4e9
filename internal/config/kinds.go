package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/internal/rules"
	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

// keyAttr is the attribute of a destination kind's block that, when the
// kind declares it as an expression, is compiled by the loader into the
// destination's Key: the plugin gets the value per message (Kafka's record
// key), never the expression.
const keyAttr = "key"

// destinationSpec is the destination block with one nested block per
// destination kind in the registry (nats, kafka, ...).
func (c *compiler) destinationSpec() *spec.Block {
	if c.destSpec != nil {
		return c.destSpec
	}
	b := *destinationBlock
	b.Blocks = append([]*spec.Block(nil), destinationBlock.Blocks...)
	for _, p := range c.reg.All() {
		if p.Kind == plugins.KindDestination {
			b.Blocks = append(b.Blocks, kindBlock(p))
		}
	}
	c.destSpec = &b
	return c.destSpec
}

// kindBlock is the block of destination kind p: `nats { ... }`.
func kindBlock(p plugins.Plugin) *spec.Block {
	return &spec.Block{Type: p.Name, Doc: p.Doc, Attrs: p.Attrs}
}

// kinds returns the names of the destination kinds in the registry.
func (c *compiler) kinds() []string { return c.reg.Names(plugins.KindDestination) }

// destinationKind checks that d has either url or exactly one kind block
// and builds the kind's plugin.
func (c *compiler) destinationKind(d *Destination, b *hcl.Block, v spec.Values, groups map[string]hcl.Blocks) {
	var kindBlocks hcl.Blocks
	for _, name := range c.kinds() {
		kindBlocks = append(kindBlocks, groups[name]...)
	}
	sort.Slice(kindBlocks, func(i, j int) bool { return kindBlocks[i].DefRange.Start.Byte < kindBlocks[j].DefRange.Start.Byte })
	hasURL := v.IsSet("url")
	switch {
	case len(kindBlocks) == 0 && !hasURL:
		c.errorf(b.DefRange, "Destination without url",
			"Destination %q says nowhere to deliver: set url (HTTP) or add one kind block (%s).", d.Name, strings.Join(c.kinds(), ", "))
		return
	case len(kindBlocks) == 0:
		return
	case hasURL:
		c.errorf(kindBlocks[0].DefRange, "Both url and a kind block",
			"Destination %q has a url and a %s block: a destination is either HTTP (url) or one kind; remove one.", d.Name, kindBlocks[0].Type)
		return
	case len(kindBlocks) > 1:
		c.errorf(kindBlocks[1].DefRange, "More than one kind block",
			"Destination %q already delivers through its %s block (at %s); a destination has exactly one kind.", d.Name, kindBlocks[0].Type, rangeString(kindBlocks[0].DefRange))
		return
	}
	kb := kindBlocks[0]
	p, _ := c.reg.Lookup(plugins.KindDestination, kb.Type)
	d.Kind = p.Name
	if d.AllowPrivate {
		c.warnf(v.Range("allow_private"), "allow_private has no effect",
			"allow_private is about HTTP destinations; a %s destination connects to the broker its block names.", p.Name)
	}
	before := len(c.diags)
	kv, _ := c.decode(kb.Body, kindBlock(p), kb.DefRange)
	if hcl.Diagnostics(c.diags[before:]).HasErrors() {
		return
	}
	if a := kindBlock(p).Attr(keyAttr); a != nil && a.Kind == spec.Expr && kv.IsSet(keyAttr) {
		d.Key = c.program(kv.Expr(keyAttr), keyAttr, rules.DynamicEnv(), rules.StringResult)
		d.keySrc = kv.Expr(keyAttr)
	}
	inst, err := p.New(kv)
	if err != nil {
		subject, msg := kb.DefRange, err.Error()
		var ae *spec.AttrError
		if errors.As(err, &ae) {
			if _, known := kv[ae.Attr]; known {
				subject = kv.Range(ae.Attr)
			}
			msg = ae.Msg
		}
		c.errorf(subject, fmt.Sprintf("Invalid %s destination", p.Name), "%s", capitalize(msg))
		return
	}
	dst, ok := inst.(plugins.Destination)
	if !ok {
		c.errorf(kb.DefRange, "Invalid destination kind", "Plugin destination.%s does not deliver messages.", p.Name)
		return
	}
	d.Deliverer = dst
	if t, ok := inst.(plugins.Targeter); ok {
		d.Target = t.Target()
	}
	d.KindKey = kindKey(p.Name, kv)
}

// kindKey identifies a kind block's settings, secrets included (hashed):
// a reload that leaves them alone keeps the destination's connection.
func kindKey(kind string, v spec.Values) string {
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", kind)
	for _, n := range names {
		val := v[n].V
		switch s := val.(type) {
		case secret.Secret:
			val = s.Reveal()
		case spec.ExprSource:
			val = s.Src
		}
		fmt.Fprintf(h, "%s=%#v\x00", n, val)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkKeys type-checks each destination's key expression like a filter:
// against the schemas of the events of every typed route that sends to it
// the body as received (no transform; a transformed body has no schema).
// One error per destination is reported, at the key.
func (c *compiler) checkKeys() {
	bad := map[*Destination]bool{}
	for _, r := range c.cfg.Routes {
		if !r.Typed || r.Transform != nil {
			continue
		}
		env, _ := c.routeEnv(r)
		for _, d := range r.Destinations {
			if d.Key == nil || bad[d] {
				continue
			}
			before := len(c.diags)
			if c.program(d.keySrc, keyAttr, env, rules.StringResult) == nil {
				bad[d] = true
				what := "its events"
				if len(r.Events) > 0 {
					what = strings.Join(r.Events, ", ") + " events"
				}
				for _, diag := range c.diags[before:] {
					diag.Detail += fmt.Sprintf(" (route %q sends %s here as received)", r.Name, what)
				}
			}
		}
	}
}
