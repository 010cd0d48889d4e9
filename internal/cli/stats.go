package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/hookgate/hookgate/internal/api"
)

// statsCmd is `hookgate stats [-since 1h] [-json]`: per destination,
// deliveries by state and attempt figures: the last hour and the last 24
// hours side by side, or the one window -since asks for (admin API).
func statsCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "stats")
	af := declareAdminFlags(env, fs, 30*time.Second)
	since := fs.String("since", "", "show one window of attempts instead of the last hour and 24 h: a duration before now (1h) or an RFC 3339 time")
	asJSON := fs.Bool("json", false, "print the API's JSON answer as is")
	if code := parseFlagsOnly(fs, args); code >= 0 {
		return code
	}
	c := newAdminClient(env, "stats", af)
	q := query("since", *since)
	raw, err := c.get(ctx, http.MethodGet, "/api/stats", q)
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		env.Stdout.Write(raw)
		return 0
	}
	var out api.Stats
	if err := json.Unmarshal(raw, &out); err != nil {
		return c.fail(fmt.Errorf("unexpected answer: %w", err))
	}
	if len(out.Destinations) == 0 {
		fmt.Fprintln(env.Stdout, "no destinations")
		return 0
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	if *since != "" {
		fmt.Fprintln(tw, "DESTINATION\tDELIVERED\tRETRYING\tDEAD\tSUCCESS\tMEAN\tP99\tRETRIES")
		for _, d := range out.Destinations {
			w := api.Window{Attempts: d.Attempts, RetryAttempts: d.RetryAttempts, SuccessRate: d.SuccessRate, MeanMS: d.MeanMS, P99MS: d.P99MS}
			success, mean, p99 := windowCells(w)
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%d\n", d.Destination, d.Delivered, d.Retrying, d.Dead,
				success, mean, p99, d.RetryAttempts)
		}
		tw.Flush()
		fmt.Fprintf(env.Stdout, "attempts since %s\n", c.when(out.Since))
		return 0
	}
	fmt.Fprintln(tw, "\t\t\t\t\tLAST HOUR\t\t\t\tLAST 24 H")
	fmt.Fprintln(tw, "DESTINATION\tPENDING\tRETRYING\tDELIVERED\tDEAD\tATTEMPTS\tSUCCESS\tMEAN\tP99\tATTEMPTS\tSUCCESS\tMEAN\tP99\tRETRIES")
	for _, d := range out.Destinations {
		hs, hm, hp := windowCells(d.LastHour)
		ds, dm, dp := windowCells(d.LastDay)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\n", d.Destination, d.Pending, d.Retrying,
			d.Delivered, d.Dead, d.LastHour.Attempts, hs, hm, hp, d.LastDay.Attempts, ds, dm, dp, d.LastDay.RetryAttempts)
	}
	tw.Flush()
	return 0
}

// windowCells are the success rate, mean and p99 of a window as table cells, "-"
// without attempts.
func windowCells(w api.Window) (success, mean, p99 string) {
	if w.Attempts == 0 {
		return "-", "-", "-"
	}
	return strconv.FormatFloat(w.SuccessRate*100, 'f', 1, 64) + "%", ms(w.MeanMS), ms(w.P99MS)
}

// ms formats milliseconds as a duration rounded for a table.
func ms(v float64) string {
	d := time.Duration(v * float64(time.Millisecond))
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
