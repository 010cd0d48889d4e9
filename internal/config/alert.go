package config

import (
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/spec"
)

// Alert kinds (SPEC, Destination health).
const (
	// AlertDead: a delivery reached the dead-letter set; subject the
	// destination; cleared by its next delivered attempt.
	AlertDead = "dead"
	// AlertBreakerOpen: a destination's breaker opened; cleared when it
	// closes.
	AlertBreakerOpen = "breaker_open"
	// AlertVerifyFailures: more than threshold 401s on a source within
	// AlertWindow; cleared when the window holds threshold or fewer.
	AlertVerifyFailures = "verify_failures"
	// AlertSchemaRejects: more than threshold 422s on a source within
	// AlertWindow.
	AlertSchemaRejects = "schema_rejects"
)

// AlertKinds are the kinds an alert's on list may hold.
var AlertKinds = []string{AlertDead, AlertBreakerOpen, AlertVerifyFailures, AlertSchemaRejects}

// AlertWindow is the window verify_failures and schema_rejects count in.
const AlertWindow = 5 * time.Minute

// Alert is an alert block: conditions that, when they arise and when they
// clear, are delivered as JSON to an ordinary destination.
type Alert struct {
	Name string
	// On are the kinds it is raised for (AlertKinds).
	On []string
	// Destination receives the alerts (signed, retried, traced like any
	// delivery).
	Destination *Destination
	// Every is the least time between two alerts of one kind and subject.
	Every time.Duration
	// Threshold: verify_failures and schema_rejects fire above this many
	// in AlertWindow.
	Threshold int
	Range     hcl.Range
}

// Watches reports whether the alert is raised for kind.
func (a *Alert) Watches(kind string) bool { return slices.Contains(a.On, kind) }

var alertBlock = &spec.Block{
	Type:       "alert",
	Labels:     []string{"name"},
	Repeatable: true,
	Doc:        "Tells a person when something needs one: each condition, when it arises and when it clears (`resolved: true`), is delivered as a JSON body {alert, subject, count, first_at, last_at, last_error, resolved} to an ordinary destination (signed, retried, traced). An alert destination's own failures never raise alerts about it.",
	Attrs: []spec.Attr{
		{Name: "on", Kind: spec.StringList, Required: true, Example: `["dead", "breaker_open", "verify_failures", "schema_rejects"]`,
			Doc: "The conditions: `dead` (a delivery reached the dead-letter set; subject the destination), `breaker_open` (a destination's breaker opened), `verify_failures` (more than `threshold` 401s on a source within 5 minutes: a sender rotated its secret, or something probes you), `schema_rejects` (more than `threshold` 422s on a source within 5 minutes: a sender changed its payload)."},
		{Name: "destination", Kind: spec.String, Required: true, Example: `"oncall_chat"`,
			Doc: "The destination alerts are delivered to."},
		{Name: "every", Kind: spec.Duration, Default: "15m", Example: `"15m"`,
			Doc: "At most one alert per kind and subject in this period (a resolving alert is always sent)."},
		{Name: "threshold", Kind: spec.Int, Default: "10", Example: "10",
			Doc: "verify_failures and schema_rejects fire when a source has more than this many within 5 minutes."},
	},
}

func init() {
	rootSchema.Blocks = append(rootSchema.Blocks, hcl.BlockHeaderSchema{Type: "alert", LabelNames: []string{"name"}})
	rootBlocks = append(rootBlocks, alertBlock)
}

// alert compiles an alert block; used collects the destinations that
// receive something.
func (c *compiler) alert(b *hcl.Block, used map[string]bool) {
	if !c.checkName(b, "alert", c.declared("alert")) {
		return
	}
	v, _ := c.decode(b.Body, alertBlock, b.DefRange)
	a := &Alert{Name: b.Labels[0], Every: v.Duration("every"), Threshold: v.Int("threshold"), Range: b.DefRange}
	c.cfg.Alerts = append(c.cfg.Alerts, a)
	on := v.StringList("on")
	ranges := listItemRanges(b.Body, "on", len(on))
	for i, k := range on {
		switch {
		case !slices.Contains(AlertKinds, k):
			c.errorf(ranges[i], "Unknown alert kind", "There is no alert kind %q; the kinds are %s.%s", k, strings.Join(AlertKinds, ", "), c.didYouMean(k, AlertKinds))
		case slices.Contains(a.On, k):
			c.errorf(ranges[i], "Duplicate alert kind", "%q is listed twice.", k)
		default:
			a.On = append(a.On, k)
		}
	}
	if v.IsSet("on") && len(on) == 0 {
		c.errorf(v.Range("on"), "Alert without kinds", "Alert %q needs at least one kind in on: %s.", a.Name, strings.Join(AlertKinds, ", "))
	}
	if n := v.String("destination"); v.IsSet("destination") {
		a.Destination = c.cfg.destByName[n]
		if a.Destination == nil {
			c.errorf(v.Range("destination"), "Unknown destination", "There is no destination named %q.%s", n, c.didYouMean(n, namesOf(c, "destination", c.cfg.destByName)))
		} else {
			used[n] = true
		}
	}
	if v.IsSet("every") && a.Every <= 0 {
		c.errorf(v.Range("every"), "Invalid every", "An alert's every must be longer than zero.")
	}
	if v.IsSet("threshold") && a.Threshold < 0 {
		c.errorf(v.Range("threshold"), "Invalid threshold", "threshold cannot be negative.")
	}
}
