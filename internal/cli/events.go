package cli

import (
	"context"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/hookgate/hookgate/internal/api"
)

// eventsUsage is the events command's overview in the command table:
// its -h, and what an unknown subcommand of it prints.
const eventsUsage = `Usage:
  hookgate events [-filter EXPR] [-since D] [-source S] [-json]   search accepted events
  hookgate events show ID [-json]                                one event, its headers and deliveries
  hookgate events export [-since D] [-source S] [-filter EXPR] [-o FILE]
                                                                 NDJSON of events as received (for plan)
  hookgate events replay (-filter EXPR | -since D) [-route R] [-dry-run]
                                                                 route matching events again through the running config
Each takes -admin URL and -token T; add -h after a subcommand for its flags.`

// showEvent is `hookgate events show ID [-json]`: one accepted event, its
// headers without credentials, its deliveries and its body.
func showEvent(ctx context.Context, env *Env, args []string) int {
	var ev api.Event
	c, code := showOne(ctx, env, args, "events", "/api/events/", &ev)
	if c == nil {
		return code
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	field("id", ev.ID)
	field("source", ev.Source)
	field("event type", ev.EventType)
	field("received", c.when(ev.ReceivedAt))
	field("dedupe key", ev.DedupeKey)
	field("trace id", ev.TraceID)
	field("config", ev.ConfigHash)
	tw.Flush()

	fmt.Fprintln(env.Stdout, "\ndeliveries:")
	if len(ev.Deliveries) == 0 {
		fmt.Fprintln(env.Stdout, "  none (no route matched, or they were cleaned up)")
	} else {
		c.deliveryTable(env.Stdout, "  ", ev.Deliveries)
	}

	fmt.Fprintln(env.Stdout, "\nheaders:")
	if len(ev.Headers) == 0 {
		fmt.Fprintln(env.Stdout, "  none")
	} else {
		names := make([]string, 0, len(ev.Headers))
		for k := range ev.Headers {
			names = append(names, k)
		}
		slices.Sort(names)
		tw = tabwriter.NewWriter(env.Stdout, 0, 0, 1, ' ', 0)
		for _, k := range names {
			fmt.Fprintf(tw, "  %s:\t%s\n", k, ev.Headers[k])
		}
		tw.Flush()
	}

	fmt.Fprintln(env.Stdout, "\nbody:")
	fmt.Fprintln(env.Stdout, bodyText(ev.Body))
	return 0
}
