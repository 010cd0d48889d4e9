package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/hookgate/hookgate/internal/api"
)

// discardDelivery is `hookgate deliveries discard ID`: give up on a
// delivery (POST /api/deliveries/{id}/discard). A dead head that blocks
// its ordering key releases it.
func discardDelivery(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "deliveries discard")
	af := declareAdminFlags(env, fs, 30*time.Second)
	code, rest := parseMixed(fs, args)
	if code >= 0 {
		return code
	}
	if len(rest) != 1 || rest[0] == "" {
		fs.Usage()
		return 2
	}
	c := newAdminClient(env, "deliveries discard", af)
	if _, err := c.get(ctx, http.MethodPost, "/api/deliveries/"+url.PathEscape(rest[0])+"/discard", nil); err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(env.Stdout, "discarded %s\n", rest[0])
	return 0
}

// blockedKeys is `hookgate destinations blocked NAME [-json]`: the
// destination's ordering keys held by a dead delivery (on_dead = "block").
func blockedKeys(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "destinations blocked")
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
	c := newAdminClient(env, "destinations blocked", af)
	raw, err := c.get(ctx, http.MethodGet, "/api/destinations/"+url.PathEscape(rest[0])+"/blocked", nil)
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		env.Stdout.Write(raw)
		return 0
	}
	var out api.Blocked
	if err := json.Unmarshal(raw, &out); err != nil {
		return c.fail(fmt.Errorf("unexpected answer: %w", err))
	}
	if len(out.Blocked) == 0 {
		fmt.Fprintf(env.Stdout, "no blocked keys for %s\n", out.Destination)
		return 0
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tDEAD DELIVERY\tROUTE\tSINCE\tWAITING")
	for _, b := range out.Blocked {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", clip(b.Key, 40), b.DeliveryID, b.Route, c.when(b.Since), b.Waiting)
	}
	tw.Flush()
	fmt.Fprintln(env.Stdout, "release a key: hookgate dlq replay or hookgate deliveries discard DEAD_DELIVERY")
	return 0
}
