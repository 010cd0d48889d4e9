package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/hookgate/hookgate/internal/plan"
)

// maxPlanLine bounds one line of an events file: an event as exported,
// whose body the gateway took within max_body.
const maxPlanLine = 64 << 20

// planCmd is `hookgate plan -config NEW [-against CUR] (-events F | -since
// D) [-source S] [-json]`: recorded events through the current and the new
// config, without storing or sending; per destination the deliveries
// added, removed and changed, and the events NEW would reject; exit 0 when
// nothing changes, 2 when something does, 1 on an error.
func planCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "plan")
	newPath := fs.String("config", "", "the new config file (required)")
	against := fs.String("against", "", "the current config file (default $HOOKGATE_CONFIG, else config.hcl: the file the gateway runs)")
	eventsPath := fs.String("events", "", "recorded events, NDJSON as hookgate events export writes them (- for stdin)")
	since := fs.String("since", "", "instead of -events: the running gateway's events received since (a duration such as 24h, or an RFC 3339 time), over the admin API")
	source := fs.String("source", "", "with -since: only events from this source")
	filter := fs.String("filter", "", "with -since: only events this expression is true of")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	af := adminFlags{
		url:     fs.String("admin", "", "with -since: the admin API's base URL (default $HOOKGATE_ADMIN_URL, else the current config's admin_listen)"),
		token:   fs.String("token", "", "with -since: the admin token (default $HOOKGATE_ADMIN_TOKEN, else the current config's admin_token)"),
		timeout: fs.Duration("timeout", 0, "with -since: give up on reading the events after this long (0: never)"),
	}
	if code := parseFlagsOnly(fs, args); code >= 0 {
		return code
	}
	if *newPath == "" || (*eventsPath == "") == (*since == "") {
		fmt.Fprintln(env.Stderr, "hookgate plan: give -config NEW and one of -events FILE or -since D")
		fs.Usage()
		return 2
	}
	if *against == "" {
		*against = "config.hcl"
		if v, ok := env.LookupEnv("HOOKGATE_CONFIG"); ok && v != "" {
			*against = v
		}
	}
	af.config = against

	cur := load(env, *against)
	if cur == nil {
		fmt.Fprintf(env.Stderr, "hookgate plan: the current config %s has errors\n", *against)
		return 1
	}
	defer cur.Close()
	next := load(env, *newPath)
	if next == nil {
		fmt.Fprintf(env.Stderr, "hookgate plan: the new config %s has errors\n", *newPath)
		return 1
	}
	defer next.Close()

	var events []plan.Event
	var err error
	if *eventsPath != "" {
		events, err = readPlanEventsFile(env, *eventsPath)
	} else {
		c := newAdminClient(env, "plan", af)
		events, err = fetchPlanEvents(ctx, c, query("since", *since, "source", *source, "filter", *filter))
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "hookgate plan: %v\n", err)
		return 1
	}

	rep := plan.Compare(cur, next, events)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(rep)
	} else {
		printPlan(env.Stdout, rep)
	}
	if rep.Changes() {
		return 2
	}
	return 0
}

func readPlanEventsFile(env *Env, path string) ([]plan.Event, error) {
	var r io.Reader = env.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	return readPlanEvents(r, path)
}

// readPlanEvents decodes NDJSON events; name is for errors.
func readPlanEvents(r io.Reader, name string) ([]plan.Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxPlanLine)
	var out []plan.Event
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var ev plan.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			return nil, fmt.Errorf("%s:%d: not an exported event: %v", name, n, err)
		}
		if ev.Source == "" || len(ev.Body) == 0 {
			return nil, fmt.Errorf("%s:%d: an event needs a source and a body", name, n)
		}
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// Oldest first, as they arrived (an export is newest first).
	sortOldestFirst(out)
	return out, nil
}

func sortOldestFirst(evs []plan.Event) {
	if len(evs) < 2 || !evs[0].ReceivedAt.After(evs[len(evs)-1].ReceivedAt) {
		return
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
}

// fetchPlanEvents reads the running gateway's events over the admin API's
// export.
func fetchPlanEvents(ctx context.Context, c *adminClient, q map[string][]string) ([]plan.Event, error) {
	resp, cancel, err := c.do(ctx, http.MethodGet, "/api/events/export", q)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return nil, fmt.Errorf("reading the gateway's events: %w", err)
		}
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	return readPlanEvents(resp.Body, c.base+"/api/events/export")
}

// printPlan prints the plan for a person: per destination, then the
// rejections, then the summary line.
func printPlan(w io.Writer, r *plan.Report) {
	ref := func(x plan.Ref) string {
		typ := x.Source
		if x.EventType != "" {
			typ += " " + x.EventType
		}
		return fmt.Sprintf("%s (%s) route %s", x.Event, typ, x.Route)
	}
	for _, d := range r.Destinations {
		fmt.Fprintf(w, "destination %s: +%d, -%d, %d bodies changed\n", d.Name, len(d.Added), len(d.Removed), len(d.Changed))
		for _, x := range d.Added {
			fmt.Fprintf(w, "  + %s\n", ref(x))
		}
		for _, x := range d.Removed {
			fmt.Fprintf(w, "  - %s\n", ref(x))
		}
		for _, x := range d.Changed {
			fmt.Fprintf(w, "  ~ %s\n", ref(x.Ref))
			fmt.Fprint(w, indent(x.Diff, "      "))
		}
		fmt.Fprintln(w)
	}
	if len(r.Rejections) > 0 {
		fmt.Fprintf(w, "rejected by the new config: %d\n", len(r.Rejections))
		for _, x := range r.Rejections {
			typ := x.Source
			if x.EventType != "" {
				typ += " " + x.EventType
			}
			fmt.Fprintf(w, "  ! %s (%s): %d %s\n", x.Event, typ, x.Status, x.Error)
			for _, f := range x.Fields {
				path := f.Path
				if path == "" {
					path = "(the event)"
				}
				fmt.Fprintf(w, "      %s: %s\n", path, f.Problem)
			}
			fmt.Fprintf(w, "      now: %s\n", x.Current)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, r.Summary())
}
