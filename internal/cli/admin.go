package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/config"
)

// defaultAdminURL is where the admin API is looked for when neither a flag,
// the environment nor the config says.
const defaultAdminURL = "http://127.0.0.1:8081"

// adminFlags are the flags every admin command shares: where the admin API
// is and how to authenticate.
type adminFlags struct {
	url, token, config *string
	timeout            *time.Duration
}

// declareAdminFlags declares -admin, -token, -config and -timeout on fs.
func declareAdminFlags(env *Env, fs *flag.FlagSet, timeout time.Duration) adminFlags {
	return adminFlags{
		url:     fs.String("admin", "", "the admin API's base URL (default $HOOKGATE_ADMIN_URL, else the config's admin_listen)"),
		token:   fs.String("token", "", "the admin token; prefer setting $HOOKGATE_ADMIN_TOKEN, since a flag's value shows in ps to every user of the machine (default $HOOKGATE_ADMIN_TOKEN, else the config's admin_token)"),
		config:  configFlag(env, fs),
		timeout: fs.Duration("timeout", timeout, "give up on the request after this long (0: never)"),
	}
}

// adminClient calls the admin API. Its token is only ever sent, never
// printed.
type adminClient struct {
	name    string // the command, for messages: "deliveries", "dlq replay"
	base    string
	token   string
	timeout time.Duration
	env     *Env
	// loc is the time zone times are shown in: $TZ as the Env has it,
	// else the machine's.
	loc *time.Location
}

// newAdminClient resolves the admin URL and token: flags first, then
// $HOOKGATE_ADMIN_URL and $HOOKGATE_ADMIN_TOKEN, then the config file, which
// is only loaded when something is still missing. A config that cannot be
// loaded means the default URL and no token.
func newAdminClient(env *Env, name string, f adminFlags) *adminClient {
	c := &adminClient{name: name, base: *f.url, token: *f.token, timeout: *f.timeout, env: env, loc: time.Local}
	if tz, ok := env.LookupEnv("TZ"); ok {
		if loc, err := time.LoadLocation(tz); err == nil {
			c.loc = loc
		}
	}
	if c.base == "" {
		if v, ok := env.LookupEnv("HOOKGATE_ADMIN_URL"); ok && v != "" {
			c.base = v
		}
	}
	if c.token == "" {
		if v, ok := env.LookupEnv("HOOKGATE_ADMIN_TOKEN"); ok && v != "" {
			c.token = v
		}
	}
	if c.base == "" || c.token == "" {
		u, tok := adminFromConfig(env, *f.config)
		if c.base == "" {
			c.base = u
		}
		if c.token == "" {
			c.token = tok
		}
	}
	if !strings.Contains(c.base, "://") {
		c.base = "http://" + c.base
	}
	c.base = strings.TrimRight(c.base, "/")
	return c
}

// adminFromConfig returns the admin URL and token the config at path names,
// or the default URL and no token when it cannot be loaded. It prints no
// diagnostics: the config is only a hint here.
func adminFromConfig(env *Env, path string) (string, string) {
	l := &config.Loader{Registry: env.Registry, LookupEnv: env.LookupEnv}
	cfg, _ := l.Load(path)
	if cfg == nil {
		return defaultAdminURL, ""
	}
	defer cfg.Close()
	u := defaultAdminURL
	if addr := cfg.Gateway.AdminListen; addr != "" {
		host, port, err := net.SplitHostPort(addr)
		if err == nil {
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1"
			}
			u = "http://" + net.JoinHostPort(host, port)
		}
	}
	return u, cfg.Gateway.AdminToken.Reveal()
}

// apiError is an admin API failure, already phrased for the operator.
type apiError struct{ msg string }

func (e *apiError) Error() string { return e.msg }

// do sends the request and returns the response when its status is 2xx.
// Otherwise it returns an error carrying the status and the API's
// {"error": ...} message, or a hint when the gateway cannot be reached. The
// caller closes the body; cancel releases the request's timeout.
func (c *adminClient) do(ctx context.Context, method, path string, q url.Values) (resp *http.Response, cancel context.CancelFunc, err error) {
	return c.doBody(ctx, method, path, q, nil)
}

// doBody is do with a request body (JSON), when body is not nil.
func (c *adminClient) doBody(ctx context.Context, method, path string, q url.Values, body []byte) (resp *http.Response, cancel context.CancelFunc, err error) {
	cancel = func() {}
	if c.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, nil, &apiError{fmt.Sprintf("connection refused; is the gateway running? (admin API at %s)", c.base)}
		}
		return nil, nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, cancel, nil
	}
	defer cancel()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e api.Error
	msg := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if msg == "" {
		return nil, nil, &apiError{resp.Status}
	}
	return nil, nil, &apiError{resp.Status + ": " + msg}
}

// get calls the API and returns the whole 2xx answer.
func (c *adminClient) get(ctx context.Context, method, path string, q url.Values) ([]byte, error) {
	resp, cancel, err := c.do(ctx, method, path, q)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	return raw, nil
}

// fail prints err for the command and returns exit code 1.
func (c *adminClient) fail(err error) int {
	fmt.Fprintf(c.env.Stderr, "hookgate %s: %v\n", c.name, err)
	return 1
}

// listDeliveriesCmd is `hookgate deliveries [filters] [-json]`: the admin
// API's deliveries from the shell.
func listDeliveriesCmd(ctx context.Context, env *Env, args []string) int {
	return listDeliveries(ctx, env, "deliveries", args, "")
}

// listDeadCmd is `hookgate dlq list`: the dead-letter set from the shell.
func listDeadCmd(ctx context.Context, env *Env, args []string) int {
	return listDeliveries(ctx, env, "dlq list", args, "dead")
}

// listDeliveries lists one page of deliveries as a table (or the API's JSON
// with -json). fixedStatus, when set, replaces the -status flag (dlq list).
func listDeliveries(ctx context.Context, env *Env, name string, args []string, fixedStatus string) int {
	fs := newFlags(env, name)
	af := declareAdminFlags(env, fs, 30*time.Second)
	status := new(string)
	if fixedStatus == "" {
		fs.StringVar(status, "status", "", "only deliveries in this state: pending, retrying, delivered or dead")
	} else {
		*status = fixedStatus
	}
	dest := fs.String("destination", "", "only deliveries to this destination")
	route := fs.String("route", "", "only deliveries of this route (@test: test deliveries)")
	source := fs.String("source", "", "only deliveries of events from this source")
	eventType := fs.String("event-type", "", "only deliveries of events of this type")
	since := fs.String("since", "", "only deliveries created since: a duration before now (1h) or an RFC 3339 time")
	until := fs.String("until", "", "only deliveries created before: a duration before now (1h) or an RFC 3339 time")
	limit := fs.Int("limit", 0, "page size, 1 to 1000 (default the API's, 50)")
	cursor := fs.String("cursor", "", "continue from a previous page's next-page cursor")
	asJSON := fs.Bool("json", false, "print the API's JSON answer as is")
	if code := parseFlagsOnly(fs, args); code >= 0 {
		return code
	}
	c := newAdminClient(env, name, af)
	q := query("status", *status, "destination", *dest, "route", *route, "source", *source, "event_type", *eventType,
		"since", *since, "until", *until, "cursor", *cursor)
	if *limit != 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	raw, err := c.get(ctx, http.MethodGet, "/api/deliveries", q)
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		env.Stdout.Write(raw)
		return 0
	}
	var page api.Deliveries
	if err := json.Unmarshal(raw, &page); err != nil {
		return c.fail(fmt.Errorf("unexpected answer: %w", err))
	}
	if len(page.Deliveries) == 0 {
		fmt.Fprintln(env.Stdout, "no deliveries")
		return 0
	}
	c.deliveryTable(env.Stdout, "", page.Deliveries)
	if page.NextCursor != "" {
		fmt.Fprintf(env.Stdout, "next page: -cursor %s\n", page.NextCursor)
	}
	return 0
}

// deliveryTable prints deliveries as an aligned table, each line after
// indent.
func (c *adminClient) deliveryTable(w io.Writer, indent string, ds []api.Delivery) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, indent+"ID\tSTATUS\tDESTINATION\tROUTE\tATTEMPTS\tLAST\tUPDATED")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%d\t%s\t%s\n", indent, d.ID, d.Status, d.Destination, d.Route,
			d.Attempts, lastResult(d), c.when(d.UpdatedAt))
	}
	tw.Flush()
}

// lastResult is a delivery's last attempt in a few characters: the HTTP
// status, else the start of the error, else "-".
func lastResult(d api.Delivery) string {
	switch {
	case d.LastStatus != 0:
		return strconv.Itoa(d.LastStatus)
	case d.LastError != "":
		return clip(d.LastError, 40)
	}
	return "-"
}

// clip shortens s to n runes on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// when formats t for a table, in the client's time zone; "-" when zero.
func (c *adminClient) when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(c.loc).Format(time.DateTime)
}

// showDelivery is `hookgate deliveries show ID [-json]`: one delivery with
// every attempt and the body sent.
func showDelivery(ctx context.Context, env *Env, args []string) int {
	var d api.Delivery
	c, code := showOne(ctx, env, args, "deliveries", "/api/deliveries/", &d)
	if c == nil {
		return code
	}
	c.printDelivery(d)
	return 0
}

// showOne is what `deliveries show` and `events show` share: it parses
// `ID [-json]` and the admin flags, GETs prefix+ID, and prints the answer
// as is with -json. Otherwise it decodes the answer into out and returns
// the client to print it with. A nil client means done, with code.
func showOne(ctx context.Context, env *Env, args []string, cmd, prefix string, out any) (*adminClient, int) {
	fs := newFlags(env, cmd+" show")
	af := declareAdminFlags(env, fs, 30*time.Second)
	asJSON := fs.Bool("json", false, "print the API's JSON answer as is")
	code, rest := parseMixed(fs, args)
	if code >= 0 {
		return nil, code
	}
	if len(rest) != 1 || rest[0] == "" {
		fs.Usage()
		return nil, 2
	}
	c := newAdminClient(env, cmd, af)
	raw, err := c.get(ctx, http.MethodGet, prefix+url.PathEscape(rest[0]), nil)
	if err != nil {
		return nil, c.fail(err)
	}
	if *asJSON {
		env.Stdout.Write(raw)
		return nil, 0
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, c.fail(fmt.Errorf("unexpected answer: %w", err))
	}
	return c, 0
}

// printDelivery prints one delivery with every attempt and the body sent.
func (c *adminClient) printDelivery(d api.Delivery) {
	env := c.env
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	field("id", d.ID)
	field("status", d.Status)
	field("event", d.EventID)
	field("source", d.Source)
	field("event type", d.EventType)
	field("route", d.Route)
	field("destination", d.Destination)
	field("ordering key", d.Key)
	field("attempts", strconv.Itoa(d.Attempts))
	if d.LastStatus != 0 {
		field("last status", strconv.Itoa(d.LastStatus))
	}
	field("last error", d.LastError)
	field("dead reason", d.DeadReason)
	field("created", c.when(d.CreatedAt))
	field("updated", c.when(d.UpdatedAt))
	if !d.NextAttemptAt.IsZero() && (d.Status == "pending" || d.Status == "retrying") {
		field("next attempt", c.when(d.NextAttemptAt))
	}
	field("trace id", d.TraceID)
	field("replays", d.ReplayOf)
	tw.Flush()

	fmt.Fprintln(env.Stdout, "\nattempts:")
	if len(d.AttemptLog) == 0 {
		fmt.Fprintln(env.Stdout, "  none yet")
	} else {
		tw = tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  N\tAT\tSTATUS\tLATENCY\tERROR\tRESPONSE")
		for _, a := range d.AttemptLog {
			st := "-"
			if a.StatusCode != 0 {
				st = strconv.Itoa(a.StatusCode)
			}
			lat := time.Duration(a.LatencyMS * float64(time.Millisecond)).Round(10 * time.Microsecond)
			errText := "-"
			if a.Error != "" {
				errText = clip(a.Error, 80)
			}
			resp := "-"
			if a.Response != "" {
				resp = clip(a.Response, 60)
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", a.N, c.when(a.At), st, lat, errText, resp)
		}
		tw.Flush()
	}

	fmt.Fprintln(env.Stdout, "\nbody:")
	fmt.Fprintln(env.Stdout, bodyText(d.Body))
}

// bodyText renders a body the API sent as JSON: indented JSON, or the text
// itself when the body was not JSON (the API sends it as a JSON string).
func bodyText(b json.RawMessage) string {
	if len(b) == 0 {
		return "(empty)"
	}
	var s string
	if b[0] == '"' && json.Unmarshal(b, &s) == nil {
		return s
	}
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}

// dlqReplay is `hookgate dlq replay [-destination D] [-route R] [-filter
// EXPR]`: every matching dead delivery becomes pending again.
func dlqReplay(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "dlq replay")
	af := declareAdminFlags(env, fs, 30*time.Second)
	dest := fs.String("destination", "", "only dead deliveries to this destination")
	route := fs.String("route", "", "only dead deliveries of this route")
	filter := fs.String("filter", "", "only dead deliveries this expression is true of: the body's fields, $status, $error, $reason, $destination, $route, $source, $event, $attempts")
	if code := parseFlagsOnly(fs, args); code >= 0 {
		return code
	}
	if *filter != "" {
		if _, err := admin.CompileDeadFilter(*filter); !filterOK(env, "dlq replay", *filter, err) {
			return 2
		}
	}
	c := newAdminClient(env, "dlq replay", af)
	q := query("destination", *dest, "route", *route, "filter", *filter)
	raw, err := c.get(ctx, http.MethodPost, "/api/dlq/replay", q)
	if err != nil {
		return c.fail(err)
	}
	var out api.Replayed
	if err := json.Unmarshal(raw, &out); err != nil {
		return c.fail(fmt.Errorf("unexpected answer: %w", err))
	}
	noun := "deliveries"
	if out.Replayed == 1 {
		noun = "delivery"
	}
	fmt.Fprintf(env.Stdout, "replayed %d %s\n", out.Replayed, noun)
	return 0
}

// dlqExport is `hookgate dlq export [-o FILE]`: every dead delivery with its
// payload, streamed as NDJSON to stdout or FILE.
func dlqExport(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "dlq export")
	af := declareAdminFlags(env, fs, 0)
	outPath := fs.String("o", "", "write to FILE instead of stdout")
	dest := fs.String("destination", "", "only dead deliveries to this destination")
	route := fs.String("route", "", "only dead deliveries of this route")
	if code := parseFlagsOnly(fs, args); code >= 0 {
		return code
	}
	c := newAdminClient(env, "dlq export", af)
	q := query("destination", *dest, "route", *route)
	return c.export(ctx, env, "/api/dlq/export", q, *outPath, "dead deliveries")
}

// export copies an NDJSON export of the admin API to out (a file, or
// standard output for "" or "-"), counting its lines; noun names them in
// the messages ("dead deliveries", "events").
func (c *adminClient) export(ctx context.Context, env *Env, path string, q url.Values, out, noun string) int {
	resp, cancel, err := c.do(ctx, http.MethodGet, path, q)
	if err != nil {
		return c.fail(err)
	}
	defer cancel()
	defer resp.Body.Close()
	var w io.Writer = env.Stdout
	var f *os.File
	if out != "" && out != "-" {
		if f, err = os.Create(out); err != nil {
			return c.fail(err)
		}
		w = f
	}
	lines := &lineCounter{w: w}
	_, err = io.Copy(lines, resp.Body)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return c.fail(fmt.Errorf("export cut short after %d %s: %w", lines.n, noun, err))
	}
	if f != nil {
		fmt.Fprintf(env.Stderr, "exported %d %s to %s\n", lines.n, noun, out)
	}
	return 0
}

// lineCounter counts the newlines written through it.
type lineCounter struct {
	w io.Writer
	n int
}

func (l *lineCounter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	l.n += bytes.Count(p[:n], []byte{'\n'})
	return n, err
}

// parseFlagsOnly parses args for a command that takes flags and no
// arguments; it returns the exit code to stop with, or -1 to go on.
func parseFlagsOnly(fs *flag.FlagSet, args []string) int {
	code, rest := parseMixed(fs, args)
	if code >= 0 {
		return code
	}
	if len(rest) != 0 {
		fs.Usage()
		return 2
	}
	return -1
}

// query builds URL parameters from name, value pairs, leaving out empty
// values.
func query(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}
