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
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/plugins"
)

// messageID is the prefix of the message ids `send` and `bench` sign with,
// for schemes that carry one (standard_webhooks' webhook-id).
const messageID = "msg"

// sendCmd is `hookgate send [-config F] -source NAME [-url U] [-H 'K: V']... EVENT.json`:
// it signs the event's exact bytes the way source NAME verifies, POSTs them
// to the gateway and prints the status line and the answer. Exit 0 for a 2xx
// answer, 1 otherwise.
func sendCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "send")
	path := configFlag(env, fs)
	source := fs.String("source", "", "the source to sign the event for (required)")
	target := fs.String("url", "", "where to POST (default: the gateway's listen address and the source's path)")
	var headers headerFlags
	fs.Var(&headers, "H", "an extra request header 'Key: Value' (repeatable); the signature headers win")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on the request after this long")
	get := fs.Bool("get", false, "send the source's subscription handshake instead of an event (Meta's GET hub.challenge, with its verify_token); exit 0 when the gateway echoes the challenge")
	code, files := parseMixed(fs, args)
	if code >= 0 {
		return code
	}
	if *get {
		if *source == "" || len(files) != 0 {
			fs.Usage()
			return 2
		}
		return sendHandshake(ctx, env, *path, *source, *target, *timeout)
	}
	if *source == "" || len(files) != 1 {
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "hookgate send: %v\n", err)
		return 1
	}
	body, err := readEvent(env, files[0])
	if err != nil {
		return fail(err)
	}
	cfg := load(env, *path)
	if cfg == nil {
		return 1
	}
	defer cfg.Close()
	src, signer, err := signingSource(cfg, *path, *source)
	if err != nil {
		return fail(err)
	}
	url := *target
	if url == "" {
		url = gatewayURL(cfg, src)
	}

	h := http.Header{"Content-Type": {"application/json"}}
	if fp, ok := src.Verifier.(plugins.FormPoster); ok && fp.PostsForms() {
		// The provider posts forms (Twilio): the event file's JSON
		// object is sent as one, each field a string.
		if body, err = jsonToForm(body); err != nil {
			return fail(fmt.Errorf("%s: %w", files[0], err))
		}
		h.Set("Content-Type", config.ContentForm)
	}
	for _, kv := range headers {
		k, v, _ := strings.Cut(kv, ":")
		h.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	now := time.Now()
	signer.SignRequest(h, body, ids.New(messageID, now), now)

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fail(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fail(fmt.Errorf("read the answer: %w", err))
	}
	fmt.Fprintf(env.Stdout, "%s %s\n", resp.Proto, resp.Status)
	if len(answer) > 0 {
		env.Stdout.Write(answer)
		if answer[len(answer)-1] != '\n' {
			fmt.Fprintln(env.Stdout)
		}
	}
	if resp.StatusCode/100 != 2 {
		return 1
	}
	return 0
}

// parseMixed is parse for commands whose flags may also follow the
// positional arguments, as in `hookgate bench EVENT.json -source bench`. It
// returns the exit code to stop with (or -1 to go on) and the positional
// arguments. Everything after "--" is positional.
func parseMixed(fs *flag.FlagSet, args []string) (int, []string) {
	var pos []string
	for {
		if code := parse(fs, args); code >= 0 {
			return code, nil
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return -1, pos
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			return -1, append(pos, rest...)
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// readEvent reads an event file, or stdin when name is "-".
func readEvent(env *Env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(env.Stdin)
	}
	return os.ReadFile(name)
}

// signingSource finds source name in cfg (loaded from path) and the ability
// of its verifier to sign requests.
func signingSource(cfg *config.Config, path, name string) (*config.Source, plugins.RequestSigner, error) {
	src := cfg.Source(name)
	if src == nil {
		var names []string
		for _, s := range cfg.Sources {
			names = append(names, s.Name)
		}
		return nil, nil, fmt.Errorf("no source named %q in %s (sources: %s)", name, path, strings.Join(names, ", "))
	}
	signer, ok := src.Verifier.(plugins.RequestSigner)
	if !ok {
		return nil, nil, fmt.Errorf("source %q verifies with verify %q, which cannot sign requests; sign the event yourself and POST it with curl", src.Name, src.VerifyPlugin)
	}
	return src, signer, nil
}

// gatewayURL is the URL of src on the gateway of cfg. A wildcard listen
// address (":8080", "0.0.0.0:8080", "[::]:8080") is reached on loopback.
func gatewayURL(cfg *config.Config, src *config.Source) string {
	host, port, err := net.SplitHostPort(cfg.Gateway.Listen)
	if err != nil {
		return "http://" + cfg.Gateway.Listen + src.Path
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + src.Path
}

// jsonToForm form-encodes a JSON object's fields: a string or number as
// is, a list of them as a repeated name.
func jsonToForm(body []byte) ([]byte, error) {
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fmt.Errorf("a form is sent from a JSON object of fields: %w", err)
	}
	form := url.Values{}
	add := func(k string, v any) error {
		switch v := v.(type) {
		case string:
			form.Add(k, v)
		case float64, bool:
			form.Add(k, fmt.Sprint(v))
		default:
			return fmt.Errorf("field %q is not a string, number or boolean", k)
		}
		return nil
	}
	for k, v := range obj {
		if list, ok := v.([]any); ok {
			for _, e := range list {
				if err := add(k, e); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	return []byte(form.Encode()), nil
}

// sendHandshake is `hookgate send -get -source NAME`: the GET handshake
// the source's verify plugin answers (plugins.HandshakeSender), with a
// fresh challenge. Exit 0 when the answer is 200 with the challenge.
func sendHandshake(ctx context.Context, env *Env, path, source, target string, timeout time.Duration) int {
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "hookgate send: %v\n", err)
		return 1
	}
	cfg := load(env, path)
	if cfg == nil {
		return 1
	}
	defer cfg.Close()
	src := cfg.Source(source)
	if src == nil {
		return fail(fmt.Errorf("no source named %q in %s", source, path))
	}
	hs, ok := src.Verifier.(plugins.HandshakeSender)
	if !ok {
		return fail(fmt.Errorf("source %q (verify %q) has no handshake to send", source, src.VerifyPlugin))
	}
	if target == "" {
		target = gatewayURL(cfg, src)
	}
	challenge := ids.New("challenge", time.Now())
	u, err := url.Parse(target)
	if err != nil {
		return fail(fmt.Errorf("-url: %w", err))
	}
	u.RawQuery = hs.HandshakeQuery(challenge).Encode()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The URL carries the verify token: say only where it went.
		return fail(fmt.Errorf("GET %s://%s%s: %w", u.Scheme, u.Host, u.Path, errors.Unwrap(err)))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fail(fmt.Errorf("read the answer: %w", err))
	}
	fmt.Fprintf(env.Stdout, "%s %s\n%s\n", resp.Proto, resp.Status, answer)
	if resp.StatusCode != http.StatusOK || string(answer) != challenge {
		return 1
	}
	return 0
}
