package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store/redis/redistest"
)

// sendEvents sends n signed events to the ingest at addr and fails the
// test unless each is answered 202.
func sendEvents(t *testing.T, addr, tag string, n int) {
	t.Helper()
	for i := range n {
		body := []byte(fmt.Sprintf(`{"type":"creator_insights","identifier":"%s-%03d","connector":"tiktok"}`, tag, i))
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/in/partner", bytes.NewReader(body))
		req.Header.Set("X-Signature", sign(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("event %s-%03d answered %d, want 202 while paused", tag, i, resp.StatusCode)
		}
	}
}

// destinationState reads the sink destination's state from GET
// /api/destinations.
func destinationState(t *testing.T, admin string) string {
	t.Helper()
	var ans struct {
		Destinations []struct {
			Name, State string
		}
	}
	if code := api(t, http.MethodGet, "http://"+admin+"/api/destinations", "", &ans); code != http.StatusOK {
		t.Fatalf("GET /api/destinations: %d", code)
	}
	for _, d := range ans.Destinations {
		if d.Name == "sink" {
			return d.State
		}
	}
	t.Fatalf("GET /api/destinations lists no sink: %+v", ans)
	return ""
}

// engineState waits until the engine of the gateway at admin reports the
// sink's state as want on hookgate_destination_state (3 paused, 0 closed).
func engineState(t *testing.T, admin string, want int) {
	t.Helper()
	line := fmt.Sprintf(`hookgate_destination_state{destination="sink"} %d`, want)
	waitUntil(t, 30*time.Second, "the engine at "+admin+" to report "+line, func() bool {
		_, m := getMetrics(t, "http://"+admin, "")
		return strings.Contains(m, line)
	})
}

// quiet checks the sink got nothing new over a few of the engine's polls
// (1s each): a paused destination is never attempted.
func quiet(t *testing.T, sk *sink, what string) {
	t.Helper()
	before := sk.n.Load()
	time.Sleep(2500 * time.Millisecond) // an observation window, not a synchronisation
	if n := sk.n.Load(); n != before {
		t.Fatalf("%s: the sink got %d deliveries while the destination was paused", what, n-before)
	}
}

// TestPauseSurvivesKill9AndReload: a destination paused with `hookgate
// destinations pause` stays paused (ingest answers 202, nothing is
// attempted) across a SIGKILL and restart and a reload; `resume` delivers
// every waiting event.
func TestPauseSurvivesKill9AndReload(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	sk := newSink(t)
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, dir, ingest, admin, sk.srv.URL)
	p := start(t, cfg, ingest, admin)
	defer func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}()

	if code, out := hookgateCLI(t, admin, "destinations", "pause", "sink"); code != 0 || !strings.Contains(out, "destination sink is paused") {
		t.Fatalf("destinations pause: exit %d:\n%s", code, out)
	}
	engineState(t, admin, 3)
	sendEvents(t, ingest, "before-kill", 20)
	quiet(t, sk, "paused")

	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	p = start(t, cfg, ingest, admin)
	if st := destinationState(t, admin); st != "paused" {
		t.Fatalf("after kill -9: state %q, want paused", st)
	}
	engineState(t, admin, 3)
	sendEvents(t, ingest, "after-kill", 10)
	quiet(t, sk, "paused after a restart")

	// A reload with a changed file keeps the pause.
	raw, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(raw, []byte("\n# changed\n")...), 0o644)
	var res struct{ Reloaded bool }
	if code := api(t, http.MethodPost, "http://"+admin+"/api/reload", "", &res); code != http.StatusOK || !res.Reloaded {
		t.Fatalf("reload: %d %+v", code, res)
	}
	if st := destinationState(t, admin); st != "paused" {
		t.Fatalf("after a reload: state %q, want paused", st)
	}
	quiet(t, sk, "paused after a reload")

	code, out := hookgateCLI(t, admin, "destinations", "list")
	if code != 0 || !strings.Contains(out, "sink") || !strings.Contains(out, "paused") {
		t.Fatalf("destinations list: exit %d:\n%s", code, out)
	}
	if code, out := hookgateCLI(t, admin, "destinations", "resume", "sink"); code != 0 || !strings.Contains(out, "destination sink is closed") {
		t.Fatalf("destinations resume: exit %d:\n%s", code, out)
	}
	waitUntil(t, 60*time.Second, "the 30 waiting events delivered", func() bool { return sk.n.Load() >= 30 })
	if code, out := hookgateCLI(t, admin, "destinations", "pause", "nope"); code != 1 || !strings.Contains(out, "404") {
		t.Errorf("pausing an unknown destination: exit %d:\n%s", code, out)
	}
}

// TestRedisPauseIsShared: on Redis, a pause made through one gateway stops
// another's attempts; a resume through the other delivers everything.
func TestRedisPauseIsShared(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	rs := redistest.Start(t)
	sk := newSink(t)
	f := startFleet(t, 2, sk.srv.URL, rs.URL())
	a, b := f.procs[0], f.procs[1]

	if code, out := hookgateCLI(t, a.admin, "destinations", "pause", "sink"); code != 0 {
		t.Fatalf("pause on a: exit %d:\n%s", code, out)
	}
	if st := destinationState(t, b.admin); st != "paused" {
		t.Fatalf("b's GET /api/destinations: %q, want paused", st)
	}
	engineState(t, b.admin, 3)
	sendEvents(t, b.ingest, "via-b", 15)
	sendEvents(t, a.ingest, "via-a", 15)
	quiet(t, sk, "paused on a, events through both")

	f.kill(t, 0)
	if code, out := hookgateCLI(t, b.admin, "destinations", "resume", "sink"); code != 0 {
		t.Fatalf("resume on b: exit %d:\n%s", code, out)
	}
	waitUntil(t, 90*time.Second, "the 30 waiting events delivered by b", func() bool { return sk.n.Load() >= 30 })
}
