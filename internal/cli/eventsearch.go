package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/api"
)

// searchFlags are the flags that select events: the API's search.
type searchFlags struct {
	filter, since, until, source *string
}

func declareSearchFlags(fs *flag.FlagSet) searchFlags {
	return searchFlags{
		filter: fs.String("filter", "", "only events this expression is true of (a route filter's language: payload fields, $source, $event, $headers)"),
		since:  fs.String("since", "", "only events received since: a duration before now (24h) or an RFC 3339 time"),
		until:  fs.String("until", "", "only events received before: a duration before now (1h) or an RFC 3339 time"),
		source: fs.String("source", "", "only events from this source"),
	}
}

// check compiles the filter here first, so a mistake is shown with a caret
// under its column without a round trip; the gateway checks it again.
func (sf searchFlags) check(env *Env, name string) bool {
	_, err := admin.CompileEventFilter(*sf.filter)
	return filterOK(env, name, *sf.filter, err)
}

// filterOK prints a filter's compile error with a caret under its column
// and reports whether there was none.
func filterOK(env *Env, name, expr string, err error) bool {
	var fe *admin.FilterError
	if errors.As(err, &fe) {
		fmt.Fprintf(env.Stderr, "hookgate %s: -filter %d:%d: %s\n", name, fe.Line, fe.Column, fe.Msg)
		lines := strings.Split(expr, "\n")
		if fe.Line >= 1 && fe.Line <= len(lines) {
			fmt.Fprintf(env.Stderr, "    %s\n    %s^\n", lines[fe.Line-1], strings.Repeat(" ", max(fe.Column-1, 0)))
		}
		return false
	}
	return err == nil
}

func (sf searchFlags) query() map[string]string {
	return map[string]string{"filter": *sf.filter, "since": *sf.since, "until": *sf.until, "source": *sf.source}
}

// listEvents is `hookgate events [-filter EXPR] [-since D] [-source S]`:
// one page of accepted events, newest first, as a table (the API's JSON
// with -json).
func listEvents(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "events")
	af := declareAdminFlags(env, fs, 60*time.Second)
	sf := declareSearchFlags(fs)
	limit := fs.Int("limit", 0, "page size, 1 to 1000 (default the API's, 50)")
	cursor := fs.String("cursor", "", "continue from a previous page's next-page cursor")
	asJSON := fs.Bool("json", false, "print the API's JSON answer as is")
	if code := parseFlagsOnly(fs, args); code >= 0 {
		return code
	}
	if !sf.check(env, "events") {
		return 2
	}
	c := newAdminClient(env, "events", af)
	sq := sf.query()
	q := query("filter", sq["filter"], "since", sq["since"], "until", sq["until"], "source", sq["source"], "cursor", *cursor)
	if *limit != 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	raw, err := c.get(ctx, http.MethodGet, "/api/events", q)
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		env.Stdout.Write(raw)
		return 0
	}
	var page api.Events
	if err := json.Unmarshal(raw, &page); err != nil {
		return c.fail(fmt.Errorf("unexpected answer: %w", err))
	}
	if len(page.Events) == 0 {
		fmt.Fprintln(env.Stdout, "no events")
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRECEIVED\tSOURCE\tEVENT TYPE\tDELIVERIES")
		for _, ev := range page.Events {
			typ := ev.EventType
			if typ == "" {
				typ = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", ev.ID, c.when(ev.ReceivedAt), ev.Source, typ, len(ev.Deliveries))
		}
		tw.Flush()
	}
	if page.NextCursor != "" {
		fmt.Fprintf(env.Stdout, "next page: -cursor %s\n", page.NextCursor)
	}
	return 0
}

// exportEvents is `hookgate events export [-since D] [-source S] [-filter
// EXPR] [-o F]`: every matching event as received (source, headers without
// credentials, body, time), newest first, as NDJSON: what `hookgate plan
// -events F` reads.
func exportEvents(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "events export")
	af := declareAdminFlags(env, fs, 0)
	sf := declareSearchFlags(fs)
	outPath := fs.String("o", "", "write to FILE instead of stdout")
	if code := parseFlagsOnly(fs, args); code >= 0 {
		return code
	}
	if !sf.check(env, "events export") {
		return 2
	}
	c := newAdminClient(env, "events export", af)
	sq := sf.query()
	q := query("filter", sq["filter"], "since", sq["since"], "until", sq["until"], "source", sq["source"])
	return c.export(ctx, env, "/api/events/export", q, *outPath, "events")
}
