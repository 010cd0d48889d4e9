package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/hookgate/hookgate/internal/api"
)

// testDestination posts to /api/destinations/{name}/test and prints the
// delivery with its first attempt. It exits 0 when the receiver answered
// 2xx, 1 when the attempt failed or was not made in time.
func testDestination(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "destinations test")
	af := declareAdminFlags(env, fs, 60*time.Second)
	route := fs.String("route", "", "build the sample from this route's schema and transform (default the first route to NAME)")
	eventType := fs.String("event-type", "", "build the sample from this event type's schema")
	bodyPath := fs.String("body", "", "send this JSON file as is instead of a sample (- for stdin)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer as is")
	code, rest := parseMixed(fs, args)
	if code >= 0 {
		return code
	}
	if len(rest) != 1 || rest[0] == "" {
		fs.Usage()
		return 2
	}
	c := newAdminClient(env, "destinations test", af)
	var body []byte
	var err error
	switch *bodyPath {
	case "":
	case "-":
		body, err = io.ReadAll(env.Stdin)
	default:
		body, err = os.ReadFile(*bodyPath)
	}
	if err != nil {
		return c.fail(err)
	}
	q := query("route", *route, "event_type", *eventType)
	resp, cancel, err := c.doBody(ctx, http.MethodPost, "/api/destinations/"+url.PathEscape(rest[0])+"/test", q, body)
	if err != nil {
		return c.fail(err)
	}
	defer cancel()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return c.fail(fmt.Errorf("read the answer: %w", err))
	}
	if *asJSON {
		env.Stdout.Write(raw)
	}
	var d api.Delivery
	if err := json.Unmarshal(raw, &d); err != nil {
		return c.fail(fmt.Errorf("unexpected answer: %w", err))
	}
	if resp.StatusCode == http.StatusAccepted {
		if !*asJSON {
			fmt.Fprintf(env.Stdout, "test delivery %s is queued; no attempt was recorded yet\n", d.ID)
		}
		fmt.Fprintf(env.Stderr, "see it with: hookgate deliveries show %s\n", d.ID)
		return 1
	}
	if !*asJSON {
		c.printDelivery(d)
	}
	if d.Status != "delivered" {
		return 1
	}
	return 0
}
