package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

// maxSinkBody is the largest delivery the local receivers read; larger ones
// are answered 413.
const maxSinkBody = 10 << 20

// sinkCmd is `hookgate sink [-listen ADDR] [-secret S] [-fail N%] ...`: a
// local receiver for trying destinations out. It prints each delivery,
// checks its signature with the sign plugin's Checker when -secret is given
// (401 on a bad one), fails the given share of requests on purpose and
// answers 200 {"ok":true} to the rest, until ctx is done.
func sinkCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "sink")
	listen := fs.String("listen", "127.0.0.1:9000", "address to listen on; port 0 picks a free one")
	secretFlag := fs.String("secret", "", "check each delivery's signature with this secret (default: no check)")
	scheme := fs.String("scheme", "", "the sign plugin that signed the deliveries: standard_webhooks or hmac (default: standard_webhooks when -secret starts with whsec_, else hmac)")
	header := fs.String("header", "", "hmac: the signature header (default: sign \"hmac\"'s default, X-Hookgate-Signature)")
	prefix := fs.String("prefix", "", "hmac: text before the signature, such as sha256=")
	algorithm := fs.String("algorithm", "", "hmac: sha1, sha256 or sha512 (default sha256)")
	encoding := fs.String("encoding", "", "hmac: hex or base64 (default hex)")
	failFlag := fs.String("fail", "0%", "fail this share of requests on purpose, spread evenly (50% fails every second one)")
	status := fs.Int("status", http.StatusServiceUnavailable, "the status of requests failed on purpose")
	quiet := fs.Bool("quiet", false, "do not print deliveries")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	usageErr := func(format string, args ...any) int {
		fmt.Fprintf(env.Stderr, "hookgate sink: "+format+"\n", args...)
		return 2
	}
	failBP, err := parseFailShare(*failFlag)
	if err != nil {
		return usageErr("-fail: %v", err)
	}
	if *status < 100 || *status > 599 {
		return usageErr("-status %d is not an HTTP status code", *status)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	s := &sink{out: env.Stdout, failBP: failBP, failStatus: *status, quiet: *quiet, now: time.Now}
	if *secretFlag != "" {
		name := *scheme
		if name == "" {
			name = "hmac"
			if strings.HasPrefix(*secretFlag, "whsec_") {
				name = "standard_webhooks"
			}
		}
		attrs := map[string]string{"secret": *secretFlag}
		for _, a := range []struct{ flag, val string }{{"header", *header}, {"prefix", *prefix}, {"algorithm", *algorithm}, {"encoding", *encoding}} {
			if set[a.flag] {
				attrs[a.flag] = a.val
			}
		}
		c, err := newChecker(registry(env), name, attrs)
		if err != nil {
			return usageErr("%v", err)
		}
		s.checker, s.scheme = c, name
	} else {
		for _, f := range []string{"scheme", "header", "prefix", "algorithm", "encoding"} {
			if set[f] {
				return usageErr("-%s needs -secret", f)
			}
		}
	}

	srv, err := startServer(*listen, s)
	if err != nil {
		fmt.Fprintf(env.Stderr, "hookgate sink: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stderr, "hookgate sink listening on http://%s\n", srv.Addr())
	select {
	case <-ctx.Done():
	case err := <-srv.done:
		fmt.Fprintf(env.Stderr, "hookgate sink: %v\n", err)
		return 1
	}
	if err := srv.Close(); err != nil {
		fmt.Fprintf(env.Stderr, "hookgate sink: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// registry is the plugin registry env names, or plugins.Default.
func registry(env *Env) *plugins.Registry {
	if env.Registry != nil {
		return env.Registry
	}
	return plugins.Default
}

// newChecker builds sign plugin scheme from attrs (attribute name to value as
// a user would write it in the sign block, each given by the flag of the same
// name) and returns its Checker. Absent attributes take the plugin's
// defaults, as in a config file.
func newChecker(reg *plugins.Registry, scheme string, attrs map[string]string) (plugins.Checker, error) {
	p, ok := reg.Lookup(plugins.KindSign, scheme)
	if !ok {
		return nil, fmt.Errorf("-scheme %q: want one of %s", scheme, strings.Join(reg.Names(plugins.KindSign), ", "))
	}
	b := p.Block()
	// No attributes written: every optional one takes its default.
	vals, diags := spec.DecodeAttrs(nil, b, nil, hcl.Range{})
	if diags.HasErrors() {
		return nil, fmt.Errorf("sign.%s: %s", scheme, diags.Error())
	}
	for name, v := range attrs {
		a := b.Attr(name)
		if a == nil {
			return nil, fmt.Errorf("-%s does not apply to -scheme %s", name, scheme)
		}
		switch a.Kind {
		case spec.Secret:
			vals[name] = spec.Value{V: secret.New(v), Set: true}
		case spec.String:
			if len(a.Enum) > 0 && !slices.Contains(a.Enum, v) {
				return nil, fmt.Errorf("-%s %q: want one of %s", name, v, strings.Join(a.Enum, ", "))
			}
			vals[name] = spec.Value{V: v, Set: true}
		default:
			return nil, fmt.Errorf("-%s: sign.%s's %s attribute is a %s, which the sink cannot set", name, scheme, name, a.Kind)
		}
	}
	v, err := p.New(vals)
	if err != nil {
		if ae, ok := errors.AsType[*spec.AttrError](err); ok {
			if ae.Attr == "secret" {
				// Never echo the value.
				return nil, fmt.Errorf("-secret: %s", ae.Msg)
			}
			return nil, fmt.Errorf("-%s %q: %s", ae.Attr, attrs[ae.Attr], ae.Msg)
		}
		return nil, fmt.Errorf("sign.%s: %w", scheme, err)
	}
	c, ok := v.(plugins.Checker)
	if !ok {
		plugins.Close(v)
		return nil, fmt.Errorf("sign.%s cannot check deliveries; choose another -scheme", scheme)
	}
	return c, nil
}

// sink is the handler of `hookgate sink`. It is safe for concurrent use.
type sink struct {
	out        io.Writer
	checker    plugins.Checker // nil: signatures are not checked
	scheme     string
	failBP     int // the share of requests failed on purpose, in 1/10000
	failStatus int
	quiet      bool
	now        func() time.Time

	// seen counts the requests that passed the signature check; it paces
	// the failures.
	seen atomic.Int64
	// mu keeps one delivery's lines together.
	mu sync.Mutex
}

// ServeHTTP checks, prints and answers one delivery.
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := s.now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSinkBody))
	if err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		writeJSON(w, status, map[string]any{"error": "cannot read the body: " + err.Error()})
		return
	}
	verdict := "unchecked"
	status, answer := http.StatusOK, map[string]any{"ok": true}
	if s.checker != nil {
		if err := s.checker.Check(r.Header, body, at); err != nil {
			verdict = "BAD (" + err.Error() + ")"
			status, answer = http.StatusUnauthorized, map[string]any{"error": err.Error()}
		} else {
			verdict = "ok (" + s.scheme + ")"
		}
	}
	if status == http.StatusOK && failNth(s.seen.Add(1), s.failBP) {
		status, answer = s.failStatus, map[string]any{"error": "failing on purpose (hookgate sink -fail)"}
	}
	writeJSON(w, status, answer)
	if s.quiet {
		return
	}
	var buf bytes.Buffer
	id := r.Header.Get("webhook-id")
	if id == "" {
		id = "-"
	}
	fmt.Fprintf(&buf, "%s %s %s webhook-id=%s signature=%s -> %d\n",
		at.Format("2006-01-02T15:04:05.000Z07:00"), r.Method, r.URL.RequestURI(), id, verdict, status)
	// Indent keeps trailing blanks; one blank line ends each delivery.
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		buf.WriteString("(empty body)\n")
	case json.Indent(&buf, trimmed, "", "  ") == nil:
		buf.WriteByte('\n')
	default:
		// Not JSON: the bytes as they came. Indent wrote nothing.
		buf.Write(trimmed)
		buf.WriteByte('\n')
	}
	buf.WriteByte('\n')
	s.mu.Lock()
	s.out.Write(buf.Bytes())
	s.mu.Unlock()
}

// failNth reports whether the nth request (from 1) fails when bp/10000 of
// them do: exactly that share of every 10000, spread as evenly as the
// integers allow, so 50% fails every second request and 10% every tenth.
func failNth(n int64, bp int) bool {
	return n*int64(bp)/10000 > (n-1)*int64(bp)/10000
}

// parseFailShare parses -fail ("50%", or "50") into 1/10000s.
func parseFailShare(s string) (int, error) {
	if !strings.HasSuffix(strings.TrimSpace(s), "%") {
		s += "%"
	}
	f, err := spec.ParsePercent(s)
	if err != nil {
		return 0, err
	}
	return int(math.Round(f * 10000)), nil
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// server is an HTTP server running in the background on a listener of its
// own, for the local receivers (sink, bench's sink and relay).
type server struct {
	srv *http.Server
	ln  net.Listener
	// done receives Serve's error if it stops before Close.
	done chan error
}

// startServer listens on addr and serves h until Close.
func startServer(addr string, h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    1 << 20,
		},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() {
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.done <- err
		}
		close(s.done)
	}()
	return s, nil
}

// Addr is the address the server listens on, with the real port.
func (s *server) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, lets requests in flight finish for up to five
// seconds, closes the rest and waits for the server to stop.
func (s *server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	<-s.done
	return err
}
