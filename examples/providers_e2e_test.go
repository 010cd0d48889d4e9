package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
)

var (
	sourceArg   = regexp.MustCompile(`-source (\S+)`)
	ingestInLog = regexp.MustCompile(`msg="hookgate listening" ingest=(\S+)`)
)

// TestProvidersExampleWithBinaries is examples/providers end to end with
// the built binary: `hookgate run` on its config.hcl, every row of its
// README sent with `hookgate send -source PRESET` (which signs, and
// form-encodes for twilio, as the provider would), each answer and each
// delivery checked against the table; then Meta's GET handshake, and an
// unsigned POST to each source, with the answers the README shows.
func TestProvidersExampleWithBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hookgate binary")
	}
	const p = "providers"
	samples := readSamples(t, p)
	readme, err := os.ReadFile(filepath.Join(p, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "hookgate")
	build := exec.Command("go", "build", "-o", bin, "github.com/hookgate/hookgate")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	rcv := newReceiver(t)
	dir := t.TempDir()
	l := &config.Loader{LookupEnv: testEnv(dir, rcv.srv.URL)}
	cfg, diags := l.Load(filepath.Join(p, "config.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	cfg.Close()
	env := append(os.Environ(),
		"HOOKGATE_LISTEN=127.0.0.1:0",
		"HOOKGATE_ADMIN_LISTEN=127.0.0.1:0",
		"HOOKGATE_DB="+filepath.Join(dir, "hookgate.db"),
	)
	destByPath := map[string]*config.Destination{}
	for _, d := range cfg.Destinations {
		env = append(env, strings.ToUpper(d.Name)+"_URL="+rcv.srv.URL+"/"+d.Name)
		destByPath["/"+d.Name] = d
	}
	// The destinations read from the loader above must be where the binary,
	// with env, delivers.
	for _, d := range cfg.Destinations {
		if d.URL != rcv.srv.URL+"/"+d.Name {
			t.Fatalf("destination %q: url %s is not env(%q)", d.Name, d.URL, strings.ToUpper(d.Name)+"_URL")
		}
	}

	// hookgate run, from the repository root as the README runs it.
	var logs syncBuffer
	run := exec.Command(bin, "run", "-config", "examples/providers/config.hcl")
	run.Dir, run.Env, run.Stdout, run.Stderr = repoRoot, env, &logs, &logs
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	t.Cleanup(func() {
		run.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("hookgate run: %v", err)
			}
		case <-time.After(wait):
			run.Process.Kill()
			<-exited
			t.Errorf("hookgate run did not stop within %s", wait)
		}
		if t.Failed() {
			t.Logf("hookgate run logs:\n%s", logs.String())
		}
	})
	var ingest string
	for deadline := time.Now().Add(wait); ingest == "" && time.Now().Before(deadline); {
		if m := ingestInLog.FindStringSubmatch(logs.String()); m != nil {
			ingest = m[1]
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("hookgate run exited: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if ingest == "" {
		t.Fatalf("hookgate run did not listen within %s", wait)
	}
	sendEnv := append(slices.Clone(env), "HOOKGATE_LISTEN="+ingest)

	seen := 0
	for _, s := range samples {
		m := sourceArg.FindStringSubmatch(s.send)
		if m == nil {
			t.Fatalf("%s: no -source", s.send)
		}
		args := []string{"send", "-config", "examples/providers/config.hcl"}
		args = append(args, strings.Fields(s.send)...)
		send := exec.Command(bin, args...)
		send.Dir, send.Env = repoRoot, sendEnv
		var stdout, stderr bytes.Buffer
		send.Stdout, send.Stderr = &stdout, &stderr
		err := send.Run()
		statusLine, answer, _ := strings.Cut(stdout.String(), "\n")
		answer = strings.TrimSpace(answer)
		var status int
		if f := strings.Fields(statusLine); len(f) >= 2 {
			status, _ = strconv.Atoi(f[1])
		}
		if status == 0 {
			t.Fatalf("hookgate %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		if (err == nil) != (status/100 == 2) {
			t.Errorf("%s: exit %v with status %d", s.send, err, status)
		}
		if status != s.status {
			t.Fatalf("%s: status %d %s, README says %d", s.send, status, answer, s.status)
		}
		switch {
		case s.answer == "":
		case json.Valid([]byte(s.answer)):
			if !sameJSON([]byte(answer), []byte(s.answer)) {
				t.Errorf("%s: answer\n  %s\nREADME says\n  %s", s.send, answer, s.answer)
			}
		case answer != s.answer:
			t.Errorf("%s: answer\n  %s\nREADME says\n  %s", s.send, answer, s.answer)
		}
		want := len(s.deliveries)
		if status == http.StatusAccepted {
			var accepted struct {
				Deliveries int `json:"deliveries"`
			}
			if err := json.Unmarshal([]byte(answer), &accepted); err != nil {
				t.Fatalf("%s: answer %s: %v", s.send, answer, err)
			}
			if accepted.Deliveries != want {
				t.Errorf("%s: the gateway made %d deliveries, README lists %d", s.send, accepted.Deliveries, want)
			}
			want = accepted.Deliveries
		}
		got := rcv.waitFor(t, seen+want)
		if len(got) != seen+want {
			t.Fatalf("%s: %d deliveries arrived within %s, want %d", s.send, len(got)-seen, wait, want)
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

	// Meta's handshake: a GET with the verify_token is answered with the
	// challenge as plain text, another token with 403; the README shows
	// both answers.
	get := func(query string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ingest+"/in/meta?"+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, strings.TrimSpace(b.String())
	}
	if status, answer := get("hub.mode=subscribe&hub.verify_token=dev-meta-verify-token&hub.challenge=1158201444"); status != http.StatusOK || answer != "1158201444" {
		t.Errorf("meta handshake: %d %q, want 200 1158201444", status, answer)
	}
	if !bytes.Contains(readme, []byte("hub.verify_token=dev-meta-verify-token&hub.challenge=1158201444")) {
		t.Error("README does not show the handshake the test sends")
	}
	if status, answer := get("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444"); status != http.StatusForbidden || !bytes.Contains(readme, []byte("403 "+answer)) {
		t.Errorf("meta handshake, another token: %d %s; want 403 with the answer the README shows", status, answer)
	}

	// Unsigned, each source answers 401 as the README shows, and stores
	// nothing.
	for _, src := range cfg.Sources {
		var body []byte
		for _, s := range samples {
			if sourceArg.FindStringSubmatch(s.send)[1] == src.Name {
				body = s.body(t)
				break
			}
		}
		if body == nil {
			t.Errorf("source %q has no sample in the README", src.Name)
			continue
		}
		status, answer := post(t, "http://"+ingest+src.Path, http.Header{"Content-Type": {"application/json"}}, body)
		if status != http.StatusUnauthorized || !bytes.Contains(readme, answer) {
			t.Errorf("%s unsigned: %d %s; want 401 with the answer the README shows", src.Name, status, answer)
		}
	}
	if got := rcv.waitFor(t, 0); len(got) != seen {
		t.Errorf("%d deliveries arrived, the README accounts for %d", len(got), seen)
	}
}
