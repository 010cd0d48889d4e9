package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/hookgate/hookgate/internal/api"
)

// listDestinations is `hookgate destinations list`: each destination of
// the running gateway with its state and concurrency.
func listDestinations(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "destinations list")
	af := declareAdminFlags(env, fs, 30*time.Second)
	asJSON := fs.Bool("json", false, "print the API's JSON answer as is")
	code, rest := parseMixed(fs, args)
	if code >= 0 {
		return code
	}
	if len(rest) != 0 {
		fs.Usage()
		return 2
	}
	c := newAdminClient(env, "destinations list", af)
	raw, err := c.get(ctx, http.MethodGet, "/api/destinations", nil)
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		env.Stdout.Write(raw)
		return 0
	}
	var ans api.Destinations
	if err := json.Unmarshal(raw, &ans); err != nil {
		return c.fail(fmt.Errorf("unexpected answer: %w", err))
	}
	printDestinations(env.Stdout, c, ans.Destinations)
	return 0
}

// printDestinations prints destinations as a table.
func printDestinations(w io.Writer, c *adminClient, ds []api.Destination) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tSTATE\tCONCURRENCY\tIN FLIGHT\tPAUSED")
	for _, d := range ds {
		conc := strconv.Itoa(d.Concurrency) + "/" + strconv.Itoa(d.MaxConcurrency)
		if d.Adaptive {
			conc += " adaptive"
		}
		paused := "-"
		if d.PausedAt != nil {
			paused = c.when(*d.PausedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", d.Name, d.State, conc, d.InFlight, paused)
	}
	tw.Flush()
}

// pauseDestination is `hookgate destinations pause|resume NAME`.
func pauseDestination(ctx context.Context, env *Env, action string, args []string) int {
	fs := newFlags(env, "destinations "+action)
	af := declareAdminFlags(env, fs, 30*time.Second)
	asJSON := fs.Bool("json", false, "print the API's JSON answer as is")
	code, rest := parseMixed(fs, args)
	if code >= 0 {
		return code
	}
	if len(rest) != 1 || rest[0] == "" {
		fs.Usage()
		return 2
	}
	c := newAdminClient(env, "destinations "+action, af)
	raw, err := c.get(ctx, http.MethodPost, "/api/destinations/"+url.PathEscape(rest[0])+"/"+action, nil)
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		env.Stdout.Write(raw)
		return 0
	}
	var d api.Destination
	if err := json.Unmarshal(raw, &d); err != nil {
		return c.fail(fmt.Errorf("unexpected answer: %w", err))
	}
	if action == "pause" {
		fmt.Fprintf(env.Stdout, "destination %s is paused: nothing is attempted, deliveries wait (resume: hookgate destinations resume %s)\n", d.Name, d.Name)
	} else {
		fmt.Fprintf(env.Stdout, "destination %s is %s: waiting deliveries are attempted within its rate_limit\n", d.Name, d.State)
	}
	return 0
}
