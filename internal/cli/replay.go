package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/hookgate/hookgate/internal/api"
)

// addBackfill sums a further page into b (the first page's sample and skips stay).
func addBackfill(b *api.Backfill, p api.Backfill) {
	b.Events += p.Events
	b.Replayed += p.Replayed
	b.Deliveries += p.Deliveries
	b.SkippedCount += p.SkippedCount
	for k, v := range p.Destinations {
		b.Destinations[k] += v
	}
	if len(b.Sample) < 5 {
		b.Sample = append(b.Sample, p.Sample[:min(len(p.Sample), 5-len(b.Sample))]...)
	}
	if len(b.Skipped) < 20 {
		b.Skipped = append(b.Skipped, p.Skipped[:min(len(p.Skipped), 20-len(b.Skipped))]...)
	}
}

// replayEventsCmd is `hookgate events replay -filter EXPR -since D
// [-source S] [-route R] [-dry-run]`: the matching events routed again
// through the running config, each new delivery naming the one it
// replays; -dry-run counts per destination and shows a sample.
func replayEventsCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "events replay")
	af := declareAdminFlags(env, fs, 0)
	sf := declareSearchFlags(fs)
	route := fs.String("route", "", "only the deliveries of this route")
	dry := fs.Bool("dry-run", false, "count what would be replayed, per destination, with a sample; store and send nothing")
	asJSON := fs.Bool("json", false, "print the API's answer (summed over its pages) as JSON")
	if code := parseFlagsOnly(fs, args); code >= 0 {
		return code
	}
	if *sf.filter == "" && *sf.since == "" {
		fmt.Fprintln(env.Stderr, "hookgate events replay: give -filter or -since (or both): a replay of every stored event is rarely meant")
		fs.Usage()
		return 2
	}
	if !sf.check(env, "events replay") {
		return 2
	}
	c := newAdminClient(env, "events replay", af)
	sq := sf.query()
	q := query("filter", sq["filter"], "since", sq["since"], "until", sq["until"], "source", sq["source"], "route", *route)
	if *dry {
		q.Set("dry_run", "true")
	}
	// A relative -since is read once: the pages continue from its cursor,
	// not from a later now.
	if d, err := time.ParseDuration(*sf.since); err == nil && d > 0 {
		q.Set("since", time.Now().Add(-d).UTC().Format(time.RFC3339Nano))
	}
	total := api.Backfill{Destinations: map[string]int{}}
	for page := 0; ; page++ {
		raw, err := c.get(ctx, http.MethodPost, "/api/events/replay", q)
		if err != nil {
			if page > 0 {
				fmt.Fprintf(env.Stderr, "hookgate events replay: stopped after %d events replayed\n", total.Replayed)
			}
			return c.fail(err)
		}
		var p api.Backfill
		if err := json.Unmarshal(raw, &p); err != nil {
			return c.fail(fmt.Errorf("unexpected answer: %w", err))
		}
		total.DryRun = p.DryRun
		addBackfill(&total, p)
		if p.NextCursor == "" {
			break
		}
		q = cloneValues(q)
		q.Set("cursor", p.NextCursor)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(total)
		return 0
	}
	printBackfill(env.Stdout, total)
	return 0
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// printBackfill prints a replay's counts per destination, its sample and
// what it skipped.
func printBackfill(w io.Writer, b api.Backfill) {
	verb := "replayed"
	if b.DryRun {
		verb = "dry run: would replay"
	}
	fmt.Fprintf(w, "%s %d of %d matching events as %d deliveries (%d skipped)\n", verb, b.Replayed, b.Events, b.Deliveries, b.SkippedCount)
	names := make([]string, 0, len(b.Destinations))
	for n := range b.Destinations {
		names = append(names, n)
	}
	slices.Sort(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", n, strconv.Itoa(b.Destinations[n]))
	}
	tw.Flush()
	if len(b.Sample) > 0 {
		fmt.Fprintln(w, "sample:")
		for _, s := range b.Sample {
			id := ""
			if s.ID != "" {
				id = s.ID + " "
			}
			fmt.Fprintf(w, "  %s%s route %s -> %s (replays %s)\n", id, s.Event, s.Route, s.Destination, s.ReplayOf)
			fmt.Fprintf(w, "    %s\n", clip(string(s.Body), 200))
		}
	}
	if b.SkippedCount > 0 {
		fmt.Fprintln(w, "skipped:")
		for _, s := range b.Skipped {
			fmt.Fprintf(w, "  %s: %s\n", s.Event, s.Reason)
		}
		if more := b.SkippedCount - len(b.Skipped); more > 0 {
			fmt.Fprintf(w, "  … and %d more\n", more)
		}
	}
}
