package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/plugins"
)

// The fields bench adds to each copy of the event. A route that passes the
// body through delivers them back to bench's sink, which reads them to tell
// its own run's deliveries apart and to time each one end to end.
const (
	benchRunField  = "bench_run"
	benchSeqField  = "bench_seq"
	benchSentField = "bench_sent_ns"
)

// maxBenchEvents bounds -n, and so the memory bench keeps per event.
const maxBenchEvents = 10_000_000

// benchCmd is `hookgate bench [-config F] -source NAME [-url U] [-sink ADDR]
// [-n N] [-c C] [-rate R] [-duration D] [-expect K] [-relay] [-json] EVENT.json`:
// the end-to-end load tool whose figures go in the README.
//
// It starts a sink of its own on -sink (where the bench config's destination
// points), POSTs n copies of the event, each stamped with bench_run,
// bench_seq and bench_sent_ns and signed the way the source verifies, with c
// requests in flight (or at -rate per second), and waits for n×K deliveries
// to arrive. It prints accepted/s, delivered/s, ingest latency (to the 2xx
// answer), end-to-end latency (send to arrival at the sink, from
// bench_sent_ns; only for deliveries whose body still carries it, so the
// route should pass the body through) and the answers that were not 2xx.
//
// With -relay the target is a minimal relay started in-process instead of
// the gateway: it POSTs each body to the sink and answers 202, which is the
// ceiling of this machine for the same load. Everything stops after -n
// events or -duration, whichever comes first. Exit 0 when every event was
// accepted and every expected delivery arrived.
func benchCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "bench")
	path := configFlag(env, fs)
	source := fs.String("source", "", "the source to sign events for (required, except with -relay or -url, where events go unsigned without it)")
	target := fs.String("url", "", "where to POST (default: the gateway's listen address and the source's path)")
	sinkAddr := fs.String("sink", "127.0.0.1:9000", "address of bench's own sink, where the destinations point")
	n := fs.Int("n", 20000, "events to send")
	c := fs.Int("c", 32, "requests in flight")
	rate := fs.Float64("rate", 0, "events per second; 0 sends as fast as -c allows")
	duration := fs.Duration("duration", 60*time.Second, "hard cap on the whole run, sending and waiting for deliveries")
	expect := fs.Int("expect", 1, "deliveries expected per accepted event")
	timeout := fs.Duration("timeout", 10*time.Second, "give up on one request after this long")
	relay := fs.Bool("relay", false, "measure a minimal in-process relay instead of the gateway: this machine's ceiling")
	serveRelay := fs.String("serve-relay", "", "only serve the relay on this address, POSTing to the -sink address, until interrupted: the ceiling measured in a process of its own (scripts/bench.sh)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	consume := fs.String("consume", "", "also count the messages read from this broker as deliveries (a destination that is not HTTP): nats://H:P?subject=S&stream=N, redis://H:P/0?stream=K, kafka://H:P?topic=T, amqp://U:P@H:P/?exchange=E&routing_key=K&queue=Q")
	var headers headerFlags
	fs.Var(&headers, "H", "an extra request header 'Key: Value' (repeatable)")
	code, files := parseMixed(fs, args)
	if code >= 0 {
		return code
	}
	if *serveRelay != "" {
		return serveRelayCmd(ctx, env, *serveRelay, *sinkAddr, *c, *timeout)
	}
	if len(files) != 1 || (*source == "" && !*relay && *target == "") {
		fs.Usage()
		return 2
	}
	usageErr := func(format string, args ...any) int {
		fmt.Fprintf(env.Stderr, "hookgate bench: "+format+"\n", args...)
		return 2
	}
	switch {
	case *n < 1 || *n > maxBenchEvents:
		return usageErr("-n must be between 1 and %d", maxBenchEvents)
	case *relay && *target != "":
		return usageErr("-relay starts its own target; drop -url")
	case *c < 1:
		return usageErr("-c must be at least 1")
	case *rate < 0:
		return usageErr("-rate must not be negative")
	case *duration <= 0:
		return usageErr("-duration must be positive")
	case *expect < 0:
		return usageErr("-expect must not be negative")
	case *timeout <= 0:
		return usageErr("-timeout must be positive")
	}
	if *target != "" {
		if u, err := url.ParseRequestURI(*target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErr("-url %q is not an http:// or https:// URL", *target)
		}
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "hookgate bench: %v\n", err)
		return 1
	}
	raw, err := readEvent(env, files[0])
	if err != nil {
		return fail(err)
	}
	ev, err := newBenchEvent(raw)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", files[0], err))
	}

	b := &bench{
		n: *n, c: *c, rate: *rate, expect: *expect, timeout: *timeout,
		event: ev, run: ids.New("bench", time.Now()),
		header: http.Header{"Content-Type": {"application/json"}},
	}
	for _, kv := range headers {
		k, v, _ := strings.Cut(kv, ":")
		b.header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	srcPath := "/"
	if *source != "" {
		cfg := load(env, *path)
		if cfg == nil {
			return 1
		}
		defer cfg.Close()
		src, signer, err := signingSource(cfg, *path, *source)
		if err != nil {
			return fail(err)
		}
		b.signer, srcPath = signer, src.Path
		if !*relay && *target == "" {
			*target = gatewayURL(cfg, src)
		}
	}

	b.sink = newBenchSink(b.run, *n, *expect)
	sinkSrv, err := startServer(*sinkAddr, b.sink)
	if err != nil {
		return fail(fmt.Errorf("sink: %w (is a `hookgate sink` running there? stop it, or choose another -sink and point the destination at it)", err))
	}
	defer sinkSrv.Close()
	fmt.Fprintf(env.Stderr, "hookgate bench: sink listening on http://%s\n", sinkSrv.Addr())
	if *consume != "" {
		stop, err := startConsumer(ctx, *consume, b.sink)
		if err != nil {
			return fail(err)
		}
		defer stop()
	}
	rep := benchReport{Mode: "gateway", URL: *target, Sink: sinkSrv.Addr()}
	if *relay {
		r := newRelay("http://"+sinkSrv.Addr()+"/relay", *c, *timeout)
		defer r.client.CloseIdleConnections()
		relaySrv, err := startServer("127.0.0.1:0", r)
		if err != nil {
			return fail(fmt.Errorf("relay: %w", err))
		}
		defer relaySrv.Close()
		rep.Mode, rep.URL = "relay", "http://"+relaySrv.Addr()+srcPath
		fmt.Fprintf(env.Stderr, "hookgate bench: relay listening on http://%s\n", relaySrv.Addr())
	}
	b.url = rep.URL
	fmt.Fprintf(env.Stderr, "hookgate bench: %d events to %s, %d in flight\n", *n, rep.URL, *c)

	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	b.measure(ctx, &rep)

	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fail(err)
		}
	} else {
		rep.writeTable(env.Stdout)
	}
	if !rep.Complete {
		return 1
	}
	return 0
}

// bench is one load run.
type bench struct {
	n, c    int
	rate    float64
	expect  int
	timeout time.Duration
	url     string
	event   benchEvent
	run     string
	header  http.Header
	signer  plugins.RequestSigner // nil: unsigned (-relay without -source)
	sink    *benchSink
}

// sendResult is the fate of one event.
type sendResult struct {
	sent    bool
	status  int    // 0: no answer
	err     string // the kind of failure without an answer
	latency time.Duration
}

// measure sends the events, waits for their deliveries and fills rep.
func (b *bench) measure(ctx context.Context, rep *benchReport) {
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        b.c * 2,
			MaxIdleConnsPerHost: b.c * 2,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
		Timeout: b.timeout,
	}
	defer client.CloseIdleConnections()

	results := make([]sendResult, b.n)
	jobs := make(chan int)
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(jobs)
		for i := range b.n {
			if b.rate > 0 {
				due := start.Add(time.Duration(float64(i) / b.rate * float64(time.Second)))
				if d := time.Until(due); d > 0 {
					t := time.NewTimer(d)
					select {
					case <-t.C:
					case <-ctx.Done():
						t.Stop()
						return
					}
				}
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	})
	for range b.c {
		wg.Go(func() {
			for i := range jobs {
				results[i] = b.send(ctx, client, i)
			}
		})
	}
	wg.Wait()
	sendEnd := time.Now()

	rep.Events, rep.Concurrency, rep.Rate, rep.Expect = b.n, b.c, b.rate, b.expect
	rep.CPUs = runtime.GOMAXPROCS(0)
	rep.Statuses, rep.Errors = map[string]int{}, map[string]int{}
	var ingest []time.Duration
	for _, r := range results {
		if !r.sent {
			continue
		}
		rep.Sent++
		switch {
		case r.status/100 == 2:
			rep.Accepted++
			rep.Statuses[strconv.Itoa(r.status)]++
			ingest = append(ingest, r.latency)
		case r.status != 0:
			rep.Statuses[strconv.Itoa(r.status)]++
			rep.Errors[strconv.Itoa(r.status)]++
		default:
			rep.Errors[r.err]++
		}
	}
	if rep.Sent < b.n {
		rep.Errors["not_sent"] = b.n - rep.Sent
	}
	rep.SendSeconds = round(sendEnd.Sub(start).Seconds(), 3)
	if d := sendEnd.Sub(start).Seconds(); d > 0 {
		rep.AcceptedPerSec = round(float64(rep.Accepted)/d, 1)
	}
	rep.Ingest = percentiles(ingest)

	// Wait for the deliveries: until all expected have arrived, or the cap.
	rep.Expected = rep.Accepted * b.expect
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
wait:
	for b.sink.delivered() < rep.Expected {
		select {
		case <-tick.C:
		case <-ctx.Done():
			break wait
		}
	}
	st := b.sink.snapshot()
	rep.Delivered, rep.Duplicates, rep.Stale = st.delivered, st.duplicates, st.stale
	if st.delivered > 0 {
		d := st.last.Sub(start).Seconds()
		rep.DeliverSeconds = round(d, 3)
		if d > 0 {
			rep.DeliveredPerSec = round(float64(st.delivered)/d, 1)
		}
	}
	rep.EndToEnd = percentiles(st.e2e)
	rep.Complete = rep.Sent == b.n && rep.Accepted == b.n && rep.Delivered >= rep.Expected
	rep.CapHit = ctx.Err() != nil
}

// send POSTs event i and reports its fate.
func (b *bench) send(ctx context.Context, client *http.Client, i int) sendResult {
	now := time.Now()
	body := b.event.stamp(b.run, i, now)
	h := b.header.Clone()
	if b.signer != nil {
		b.signer.SignRequest(h, body, ids.New(messageID, now), now)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(body))
	if err != nil {
		return sendResult{sent: true, err: "request"}
	}
	req.Header = h
	resp, err := client.Do(req)
	if err != nil {
		return sendResult{sent: true, err: errorKind(ctx, err)}
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	lat := time.Since(now)
	if err != nil {
		return sendResult{sent: true, err: errorKind(ctx, err)}
	}
	return sendResult{sent: true, status: resp.StatusCode, latency: lat}
}

// errorKind names a failed request's error for the report.
func errorKind(ctx context.Context, err error) string {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return "aborted" // the -duration cap or an interrupt
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "connection"
	}
}

// benchEvent is the event's JSON object, ready to be stamped.
type benchEvent struct {
	// head is the object without its closing brace and trailing blanks.
	head []byte
	// empty reports whether the object has no members.
	empty bool
}

// newBenchEvent checks that raw is a JSON object without bench's own fields.
func newBenchEvent(raw []byte) (benchEvent, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return benchEvent{}, fmt.Errorf("the event must be a JSON object: %w", err)
	}
	for _, f := range []string{benchRunField, benchSeqField, benchSentField} {
		if _, ok := m[f]; ok {
			return benchEvent{}, fmt.Errorf("the event already has a %q field, which bench adds itself", f)
		}
	}
	t := bytes.TrimSpace(raw)
	head := bytes.TrimRight(t[:len(t)-1], " \t\r\n")
	return benchEvent{head: head, empty: len(m) == 0}, nil
}

// stamp returns a copy of the event with bench's fields added last.
func (e benchEvent) stamp(run string, seq int, sent time.Time) []byte {
	b := make([]byte, 0, len(e.head)+len(run)+80)
	b = append(b, e.head...)
	if !e.empty {
		b = append(b, ',')
	}
	b = append(b, `"`+benchRunField+`":"`...)
	b = append(b, run...)
	b = append(b, `","`+benchSeqField+`":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"`+benchSentField+`":`...)
	b = strconv.AppendInt(b, sent.UnixNano(), 10)
	return append(b, '}')
}

// benchSink is bench's own receiver: it answers 200 to everything and counts
// the deliveries of this run. A body stamped by another run (a late retry of
// an earlier bench) is stale and not counted; a body without the stamp (a
// route that transforms it) counts, without an end-to-end time.
type benchSink struct {
	run    string
	expect int
	// perSeq counts the arrivals of each event, to spot duplicates.
	perSeq []atomic.Int32
	count  atomic.Int64
	// maxSamples bounds the end-to-end times kept.
	maxSamples int

	mu   sync.Mutex
	st   sinkStats
	last int64 // unix ns of the latest counted arrival
}

// sinkStats are a benchSink's figures.
type sinkStats struct {
	delivered, duplicates, stale int
	e2e                          []time.Duration
	last                         time.Time
}

func newBenchSink(run string, n, expect int) *benchSink {
	return &benchSink{run: run, expect: expect, perSeq: make([]atomic.Int32, n), maxSamples: n * max(expect, 1)}
}

// ServeHTTP counts one delivery and answers 200.
func (s *benchSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSinkBody))
	now := time.Now()
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "cannot read the body"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	s.record(body, now)
}

// record counts one delivery of body that arrived at now (over HTTP, or
// read from a broker by a -consume consumer).
func (s *benchSink) record(body []byte, now time.Time) {
	var stamp struct {
		Run  string `json:"bench_run"`
		Seq  *int   `json:"bench_seq"`
		Sent int64  `json:"bench_sent_ns"`
	}
	_ = json.Unmarshal(body, &stamp) // any body counts; the stamp is optional

	s.mu.Lock()
	defer s.mu.Unlock()
	if stamp.Run != "" && stamp.Run != s.run {
		s.st.stale++
		return
	}
	s.st.delivered++
	s.count.Add(1)
	if seq := stamp.Seq; seq != nil && *seq >= 0 && *seq < len(s.perSeq) {
		if int(s.perSeq[*seq].Add(1)) > s.expect {
			s.st.duplicates++
		}
	}
	if stamp.Run == s.run && stamp.Sent > 0 && len(s.st.e2e) < s.maxSamples {
		s.st.e2e = append(s.st.e2e, now.Sub(time.Unix(0, stamp.Sent)))
	}
	s.last = max(s.last, now.UnixNano())
}

// delivered is the number of this run's deliveries so far.
func (s *benchSink) delivered() int { return int(s.count.Load()) }

// snapshot copies the figures.
func (s *benchSink) snapshot() sinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.e2e = slices.Clone(s.st.e2e)
	st.last = time.Unix(0, s.last)
	return st
}

// serveRelayCmd is `hookgate bench -serve-relay ADDR`: the relay alone, in
// this process, until ctx ends (SIGINT, SIGTERM). A bench run pointed at it
// with -url measures the ceiling with the relay in a process of its own, as
// the gateway is, instead of inside bench's.
func serveRelayCmd(ctx context.Context, env *Env, addr, sinkAddr string, conns int, timeout time.Duration) int {
	r := newRelay("http://"+sinkAddr+"/relay", conns, timeout)
	defer r.client.CloseIdleConnections()
	srv, err := startServer(addr, r)
	if err != nil {
		fmt.Fprintf(env.Stderr, "hookgate bench: relay: %v\n", err)
		return 1
	}
	defer srv.Close()
	fmt.Fprintf(env.Stderr, "hookgate bench: relay listening on http://%s, POSTing to http://%s/relay\n", srv.Addr(), sinkAddr)
	<-ctx.Done()
	return 0
}

// relay is bench -relay's stand-in for the gateway: it POSTs each body to
// the sink and answers 202 once the sink took it. No verification, no
// storage: the bare cost of two HTTP hops on this machine.
type relay struct {
	to     string
	client *http.Client
}

func newRelay(to string, conns int, timeout time.Duration) *relay {
	return &relay{to: to, client: &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        conns * 2,
			MaxIdleConnsPerHost: conns * 2,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
		Timeout: timeout,
	}}
}

// ServeHTTP forwards one event to the sink and answers 202 once it took it.
func (rl *relay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "POST only"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSinkBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "cannot read the body"})
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, rl.to, bytes.NewReader(body))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := rl.client.Do(req)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": "sink unreachable"})
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": "sink answered " + resp.Status})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": "relay", "deliveries": 1})
}

// latency is a latency distribution's summary, in milliseconds.
type latency struct {
	P50     float64 `json:"p50"`
	P99     float64 `json:"p99"`
	Samples int     `json:"samples"`
}

// percentiles summarises ds (nearest rank); ds is sorted in place.
func percentiles(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		i := int(float64(len(ds))*p+0.999999) - 1
		i = min(max(i, 0), len(ds)-1)
		return float64(ds[i].Microseconds()) / 1000
	}
	return latency{P50: at(0.50), P99: at(0.99), Samples: len(ds)}
}

// round rounds f to digits decimals, for a report a person reads.
func round(f float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(f*p) / p
}

// benchReport is what bench prints, as a table or as JSON.
type benchReport struct {
	// Mode is "gateway" or "relay".
	Mode        string  `json:"mode"`
	URL         string  `json:"url"`
	Sink        string  `json:"sink"`
	CPUs        int     `json:"cpus"`
	Events      int     `json:"events"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate"`
	Expect      int     `json:"expect"`

	Sent     int `json:"sent"`
	Accepted int `json:"accepted"`
	// Statuses counts the answers by status code.
	Statuses map[string]int `json:"statuses"`
	// Errors counts the answers that were not 2xx, by status code, and the
	// requests without an answer: timeout, connection, aborted, not_sent.
	Errors     map[string]int `json:"errors"`
	Expected   int            `json:"expected_deliveries"`
	Delivered  int            `json:"delivered"`
	Duplicates int            `json:"duplicates"`
	Stale      int            `json:"stale"`

	SendSeconds     float64 `json:"send_seconds"`
	DeliverSeconds  float64 `json:"deliver_seconds"`
	AcceptedPerSec  float64 `json:"accepted_per_s"`
	DeliveredPerSec float64 `json:"delivered_per_s"`
	Ingest          latency `json:"ingest_latency_ms"`
	EndToEnd        latency `json:"end_to_end_latency_ms"`

	// Complete reports whether every event was accepted and every expected
	// delivery arrived.
	Complete bool `json:"complete"`
	// CapHit reports whether -duration (or an interrupt) stopped the run.
	CapHit bool `json:"cap_hit"`
}

func (r *benchReport) writeTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rate := "max"
	if r.Rate > 0 {
		rate = strconv.FormatFloat(r.Rate, 'f', -1, 64) + "/s"
	}
	fmt.Fprintf(tw, "target\t%s %s (sink %s, %d CPUs)\n", r.Mode, r.URL, r.Sink, r.CPUs)
	fmt.Fprintf(tw, "load\t%d events, %d in flight, rate %s\n", r.Events, r.Concurrency, rate)
	fmt.Fprintf(tw, "accepted\t%d of %d sent in %.2fs\t%.0f/s\n", r.Accepted, r.Sent, r.SendSeconds, r.AcceptedPerSec)
	fmt.Fprintf(tw, "delivered\t%d of %d expected in %.2fs\t%.0f/s\n", r.Delivered, r.Expected, r.DeliverSeconds, r.DeliveredPerSec)
	fmt.Fprintf(tw, "ingest latency\tp50 %.2f ms  p99 %.2f ms\t(%d)\n", r.Ingest.P50, r.Ingest.P99, r.Ingest.Samples)
	if r.EndToEnd.Samples > 0 {
		fmt.Fprintf(tw, "end-to-end latency\tp50 %.2f ms  p99 %.2f ms\t(%d)\n", r.EndToEnd.P50, r.EndToEnd.P99, r.EndToEnd.Samples)
	} else {
		fmt.Fprintf(tw, "end-to-end latency\tn/a (no delivered body carried %s; does the route pass the body through?)\n", benchSentField)
	}
	fmt.Fprintf(tw, "answers\t%s\n", counts(r.Statuses))
	fmt.Fprintf(tw, "errors\t%s\n", counts(r.Errors))
	if r.Duplicates > 0 || r.Stale > 0 {
		fmt.Fprintf(tw, "extra deliveries\t%d duplicates, %d from earlier runs\n", r.Duplicates, r.Stale)
	}
	verdict := "complete"
	if !r.Complete {
		verdict = "INCOMPLETE"
	}
	if r.CapHit {
		verdict += " (stopped by -duration or an interrupt)"
	}
	fmt.Fprintf(tw, "result\t%s\n", verdict)
	tw.Flush()
}

// counts formats a count map as "202 × 19990, 503 × 10", by key.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s × %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
