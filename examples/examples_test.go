// Package examples_test checks that the platform examples do what their
// READMEs say: every config validates and is fmt-clean, and every sample
// event, signed the way its source verifies and POSTed to a running
// gateway, gets the answer the README's table gives and reaches exactly the
// destinations it lists, with exactly the bodies it shows. It also checks
// that the showcase config.hcl routes the samples as the examples do, and
// that the recipes of docs/cookbook.md and the diagnostics of docs/faq.md
// are what hookgate really does.
package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/gateway"
	"github.com/hookgate/hookgate/internal/routing"
	"github.com/hookgate/hookgate/plugins"
	_ "github.com/hookgate/hookgate/plugins/standard"
)

// platforms are the example folders, each with one source of the same name.
var platforms = []string{"ylytic", "influship", "ambassador", "symphony"}

// repoRoot is where README paths such as examples/ylytic/events/x.json are
// relative to.
const repoRoot = ".."

// wait bounds every wait for the gateway or a delivery.
const wait = 15 * time.Second

// sample is one row group of an example README's table: one `hookgate send`
// and what it must lead to.
type sample struct {
	send    string      // the send cell, as written
	file    string      // the event file, relative to the repository root
	headers http.Header // -H headers of the send cell
	status  int
	answer  string // the answer body, when the README gives one
	// deliveries are "destination\x00body", sorted; a body of the event as
	// sent is the file's bytes.
	deliveries []string
}

func (s sample) body(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, s.file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	headerArg = regexp.MustCompile(`-H '([^']*)'`)
	codeSpan  = regexp.MustCompile("^`(.*)`$")
)

// unquote strips the backticks of a Markdown code span.
func unquote(cell string) string {
	if m := codeSpan.FindStringSubmatch(cell); m != nil {
		return m[1]
	}
	return cell
}

// readSamples parses the table of an example's README whose header starts
// with "| send |": one row per delivery (or one row with "—" for none),
// consecutive rows with the same send cell being one send.
func readSamples(t *testing.T, platform string) []sample {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(platform, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	in := false
	for line := range strings.SplitSeq(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "| send |") {
			in = true
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		if strings.HasPrefix(line, "| ---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 4 {
			t.Fatalf("%s/README.md: want 4 cells: %s", platform, line)
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		send, answer, dest, body := unquote(cells[0]), cells[1], unquote(cells[2]), cells[3]
		if len(out) == 0 || out[len(out)-1].send != send {
			s := sample{send: send, headers: http.Header{}}
			for _, m := range headerArg.FindAllStringSubmatch(send, -1) {
				k, v, _ := strings.Cut(m[1], ":")
				s.headers.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			fields := strings.Fields(send)
			s.file = fields[len(fields)-1]
			code, rest, _ := strings.Cut(answer, " ")
			if s.status, err = strconv.Atoi(code); err != nil {
				t.Fatalf("%s/README.md: answer %q", platform, answer)
			}
			s.answer = unquote(strings.TrimSpace(rest))
			out = append(out, s)
		}
		s := &out[len(out)-1]
		if dest == "—" {
			continue
		}
		switch body {
		case "the event as sent":
			body = string(s.body(t))
		default:
			body = unquote(body)
		}
		s.deliveries = append(s.deliveries, dest+"\x00"+body)
	}
	if len(out) == 0 {
		t.Fatalf("%s/README.md has no | send | table", platform)
	}
	for i := range out {
		slices.Sort(out[i].deliveries)
	}
	return out
}

func TestConfigsAreValidAndFormatted(t *testing.T) {
	paths, err := filepath.Glob("*/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, filepath.Join(repoRoot, "config.hcl"))
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := hclwrite.Format(src); !bytes.Equal(got, src) {
				t.Errorf("not formatted: run go run . fmt %s", path)
			}
			l := &config.Loader{LookupEnv: noEnv}
			cfg, diags := l.Load(path)
			if diags.HasErrors() {
				var b strings.Builder
				config.WriteDiagnostics(&b, diags, l.Files())
				t.Fatalf("does not validate:\n%s", b.String())
			}
			defer cfg.Close()
			if len(diags) > 0 && !strings.Contains(path, "bench") {
				var b strings.Builder
				config.WriteDiagnostics(&b, diags, l.Files())
				t.Errorf("warnings:\n%s", b.String())
			}
		})
	}
}

// noEnv is an empty environment: every env() takes its default, as on a
// fresh machine.
func noEnv(string) (string, bool) { return "", false }

// TestReadmesCoverEveryEvent: each file under events/ is in the README's
// table, and each file the table sends exists.
func TestReadmesCoverEveryEvent(t *testing.T) {
	for _, p := range append(slices.Clone(platforms), "providers") {
		t.Run(p, func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join(p, "events", "*"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no events: %v", err)
			}
			sent := map[string]bool{}
			for _, s := range readSamples(t, p) {
				sent[s.file] = true
				if _, err := os.Stat(filepath.Join(repoRoot, s.file)); err != nil {
					t.Errorf("README sends %s: %v", s.file, err)
				}
			}
			for _, f := range files {
				if name := filepath.ToSlash(filepath.Join("examples", f)); !sent[name] {
					t.Errorf("%s is not in the README's table", name)
				}
			}
		})
	}
}

// receiver records every delivery it gets and answers 200.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
}

type received struct {
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.URL.Path, req.Header.Clone(), body})
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// waitFor waits until the receiver holds n deliveries and returns them.
func (r *receiver) waitFor(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		r.mu.Lock()
		got := slices.Clone(r.got)
		r.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testEnv points an example's env() variables at the test: both servers on
// free loopback ports, the store in dir, every *_URL at the receiver (the
// path is the variable's name, lower case). Secrets take their defaults.
func testEnv(dir, receiverURL string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		switch name {
		case "HOOKGATE_LISTEN", "HOOKGATE_ADMIN_LISTEN":
			return "127.0.0.1:0", true
		case "HOOKGATE_DB":
			return filepath.Join(dir, "hookgate.db"), true
		}
		if d, ok := strings.CutSuffix(name, "_URL"); ok {
			return receiverURL + "/" + strings.ToLower(d), true
		}
		return "", false
	}
}

// startGateway runs the gateway on cfg in the background and returns its
// ingest address; it is shut down when the test ends.
func startGateway(t *testing.T, cfg *config.Config, loader func() *config.Loader) string {
	t.Helper()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- gateway.Run(ctx, cfg, gateway.Options{
			Logger:    logger,
			Path:      cfg.File,
			NewLoader: loader,
			Ready:     func(ingest, _ string) { ready <- ingest },
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway.Run: %v", err)
			}
		case <-time.After(wait):
			t.Errorf("the gateway did not stop within %s", wait)
		}
		if t.Failed() {
			t.Logf("gateway logs:\n%s", logs.String())
		}
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		t.Fatalf("gateway.Run: %v", err)
	case <-time.After(wait):
		t.Fatalf("the gateway did not listen within %s", wait)
	}
	return ""
}

// syncBuffer is a bytes.Buffer safe for the gateway's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// post sends body to url with headers h and returns the status and answer.
func post(t *testing.T, url string, h http.Header, body []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, bytes.TrimSpace(answer)
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// TestExamplesEndToEnd sends every sample of every example, signed, to a
// running gateway and checks the answers and deliveries against the README.
func TestExamplesEndToEnd(t *testing.T) {
	for _, p := range platforms {
		t.Run(p, func(t *testing.T) {
			samples := readSamples(t, p)
			readme, err := os.ReadFile(filepath.Join(p, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			rcv := newReceiver(t)
			newLoader := func() *config.Loader {
				return &config.Loader{LookupEnv: testEnv(t.TempDir(), rcv.srv.URL)}
			}
			l := newLoader()
			cfg, diags := l.Load(filepath.Join(p, "config.hcl"))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			destByPath := map[string]*config.Destination{}
			for _, d := range cfg.Destinations {
				path, ok := strings.CutPrefix(d.URL, rcv.srv.URL)
				if !ok {
					t.Fatalf("destination %q: url %s is not set by an env(\"..._URL\") variable", d.Name, d.URL)
				}
				destByPath[path] = d
			}
			src := cfg.Source(p)
			if src == nil {
				t.Fatalf("no source %q", p)
			}
			signer, ok := src.Verifier.(plugins.RequestSigner)
			if !ok {
				t.Fatalf("source %q: verify %q cannot sign test requests", p, src.VerifyPlugin)
			}
			url := "http://" + startGateway(t, cfg, newLoader) + src.Path

			seen := 0
			var first struct {
				sample
				id string
			}
			for i, s := range samples {
				body := s.body(t)
				h := http.Header{"Content-Type": {"application/json"}}
				for k, v := range s.headers {
					h[k] = v
				}
				now := time.Now()
				signer.SignRequest(h, body, fmt.Sprintf("msg_examples_%s_%d", p, i), now)
				status, answer := post(t, url, h, body)
				if status != s.status {
					t.Fatalf("%s: status %d %s, README says %d", s.send, status, answer, s.status)
				}
				if s.answer != "" && !sameJSON(answer, []byte(s.answer)) {
					t.Errorf("%s: answer\n  %s\nREADME says\n  %s", s.send, answer, s.answer)
				}
				if status != http.StatusAccepted {
					if len(s.deliveries) > 0 {
						t.Errorf("%s: README lists deliveries for a %d", s.send, status)
					}
					continue
				}
				var accepted struct {
					ID         string `json:"id"`
					Deliveries int    `json:"deliveries"`
				}
				if err := json.Unmarshal(answer, &accepted); err != nil {
					t.Fatalf("%s: answer %s: %v", s.send, answer, err)
				}
				if accepted.Deliveries != len(s.deliveries) {
					t.Errorf("%s: the gateway made %d deliveries, README lists %d", s.send, accepted.Deliveries, len(s.deliveries))
				}
				if first.id == "" {
					first.sample, first.id = s, accepted.ID
				}
				got := rcv.waitFor(t, seen+accepted.Deliveries)
				if len(got) != seen+accepted.Deliveries {
					t.Fatalf("%s: %d deliveries arrived within %s, want %d", s.send, len(got)-seen, wait, accepted.Deliveries)
				}
				var have []string
				for _, d := range got[seen:] {
					dest := destByPath[d.path]
					if dest == nil {
						t.Errorf("%s: a delivery to %s, which no destination has", s.send, d.path)
						continue
					}
					have = append(have, dest.Name+"\x00"+string(d.body))
					checkDelivery(t, s.send, dest, d)
				}
				seen = len(got)
				slices.Sort(have)
				if !slices.Equal(have, s.deliveries) {
					t.Errorf("%s: deliveries\n  %s\nREADME says\n  %s", s.send, show(have), show(s.deliveries))
				}
			}

			// An unsigned request is refused, with the answer the README shows.
			status, answer := post(t, url, http.Header{"Content-Type": {"application/json"}}, first.body(t))
			if status != http.StatusUnauthorized {
				t.Errorf("unsigned: status %d %s, want 401", status, answer)
			} else if !bytes.Contains(readme, answer) {
				t.Errorf("README does not show the unsigned answer %s", answer)
			}

			// A repeat within the dedupe window is answered 200 with the
			// first id, and delivered no more.
			if src.Dedupe != nil {
				h := http.Header{"Content-Type": {"application/json"}}
				for k, v := range first.headers {
					h[k] = v
				}
				body := first.body(t)
				signer.SignRequest(h, body, "msg_examples_again", time.Now())
				status, answer := post(t, url, h, body)
				want := fmt.Sprintf(`{"id":%q,"duplicate":true}`, first.id)
				if status != http.StatusOK || !sameJSON(answer, []byte(want)) {
					t.Errorf("%s again: %d %s, want 200 %s", first.send, status, answer, want)
				}
			}
			time.Sleep(100 * time.Millisecond)
			if got := rcv.waitFor(t, 0); len(got) != seen {
				t.Errorf("%d deliveries arrived, the README accounts for %d", len(got), seen)
			}
		})
	}
}

// checkDelivery checks what a receiver relies on: the JSON content type,
// the destination's own headers and, when it signs, a valid signature.
func checkDelivery(t *testing.T, send string, d *config.Destination, r received) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s → %s: Content-Type %q", send, d.Name, ct)
	}
	for k, v := range d.Headers {
		if got := r.header.Values(k); !slices.Equal(got, v) {
			t.Errorf("%s → %s: header %s = %q, want %q", send, d.Name, k, got, v)
		}
	}
	if c, ok := d.Signer.(plugins.Checker); ok {
		if err := c.Check(r.header, r.body, time.Now()); err != nil {
			t.Errorf("%s → %s: signature: %v", send, d.Name, err)
		}
	}
}

func show(ds []string) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteString("\n  ")
		}
		dest, body, _ := strings.Cut(d, "\x00")
		fmt.Fprintf(&b, "%s %s", dest, body)
	}
	if len(ds) == 0 {
		return "(none)"
	}
	return b.String()
}

// evaluate is what the gateway does with a verified sample under cfg, as
// the README's table writes it: the status, the answer when it is not a
// 202, and the deliveries.
func evaluate(t *testing.T, src *config.Source, s sample) (int, []string) {
	t.Helper()
	res, err := routing.Evaluate(src, s.headers, s.body(t))
	switch {
	case err != nil:
		return http.StatusBadRequest, nil
	case res.Challenge != nil:
		return http.StatusOK, nil
	case res.Rejected():
		return http.StatusUnprocessableEntity, nil
	}
	var out []string
	for _, d := range res.Deliveries() {
		out = append(out, d.Destination.Name+"\x00"+string(d.Body))
	}
	slices.Sort(out)
	return http.StatusAccepted, out
}

// TestShowcaseConfigAgrees: the root config.hcl, which shows the four
// platforms together, verifies each source with the same plugin and routes
// every sample to the same destinations, with the same bodies, as the
// platform's own example.
func TestShowcaseConfigAgrees(t *testing.T) {
	l := &config.Loader{LookupEnv: noEnv}
	root, diags := l.Load(filepath.Join(repoRoot, "config.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	defer root.Close()
	for _, p := range platforms {
		t.Run(p, func(t *testing.T) {
			el := &config.Loader{LookupEnv: noEnv}
			ex, diags := el.Load(filepath.Join(p, "config.hcl"))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			defer ex.Close()
			src, want := root.Source(p), ex.Source(p)
			if src == nil {
				t.Fatalf("config.hcl has no source %q", p)
			}
			if src.Path != want.Path || src.VerifyPlugin != want.VerifyPlugin {
				t.Errorf("config.hcl: source %q on %s verified by %s; the example: %s, %s", p, src.Path, src.VerifyPlugin, want.Path, want.VerifyPlugin)
			}
			if (src.Dedupe == nil) != (want.Dedupe == nil) || (src.Challenge == nil) != (want.Challenge == nil) {
				t.Errorf("config.hcl: source %q differs from the example in dedupe or challenge", p)
			}
			for _, s := range readSamples(t, p) {
				gotStatus, got := evaluate(t, src, s)
				wantStatus, wantD := evaluate(t, want, s)
				if gotStatus != wantStatus || !slices.Equal(got, wantD) {
					t.Errorf("%s: config.hcl gives %d\n  %s\nthe example gives %d\n  %s", s.send, gotStatus, show(got), wantStatus, show(wantD))
				}
			}
		})
	}
}

// diagnosticText renders diags as `hookgate validate` prints them.
func diagnosticText(diags hcl.Diagnostics, files map[string]*hcl.File) string {
	var b strings.Builder
	config.WriteDiagnostics(&b, diags, files)
	return b.String()
}
