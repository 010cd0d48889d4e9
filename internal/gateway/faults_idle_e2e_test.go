package gateway_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store/redis/redistest"
)

// idleWindow is how long TestFaultIdleRedisCommands counts an idle
// gateway's commands.
const idleWindow = 10 * time.Second

// idleBudget is the most commands per second and destination an idle
// gateway may send to Redis. Measured: about 5.5 (each destination's safety
// poll, once a second, is a claim script that reads two sorted sets and a
// next-due look-up that reads the same two; Redis counts the script's reads
// as commands), plus the accept recovery's scan of 16 buckets every 5s.
// Busy polling would be hundreds or thousands.
const idleBudget = 50

// TestFaultIdleRedisCommands: the showcase config.hcl (seven destinations)
// on Redis, with no traffic, sends Redis at most idleBudget commands per
// second and destination, counted by Redis itself over idleWindow: the
// delivery engine waits between polls instead of spinning.
func TestFaultIdleRedisCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	t.Parallel()
	srv := redistest.Start(t)
	src, err := os.ReadFile("../../config.hcl")
	if err != nil {
		t.Fatal(err)
	}
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := string(src)
	for _, r := range []struct{ pattern, repl string }{
		{`(?m)^  listen\s*=.*$`, `  listen = "` + ingest + `"`},
		{`(?m)^  admin_listen\s*=.*$`, `  admin_listen = "` + admin + `"`},
		{`(?s)storage "embedded" \{.*?\n\}`, `storage "redis" { url = "` + srv.URL() + `" }`},
	} {
		re := regexp.MustCompile(r.pattern)
		if !re.MatchString(cfg) {
			t.Fatalf("config.hcl no longer has %s; update this test", r.pattern)
		}
		cfg = re.ReplaceAllString(cfg, r.repl)
	}
	dests := len(regexp.MustCompile(`(?m)^destination "`).FindAllString(cfg, -1))
	path := filepath.Join(t.TempDir(), "config.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, path, ingest, admin)
	t.Cleanup(func() { p.stop(t) })
	waitUntil(t, 30*time.Second, "/readyz to pass", func() bool { return status("http://"+admin+"/readyz") == 200 })

	before, began := commandsProcessed(t, srv.Addr), time.Now()
	stats0, _ := redistest.Command(srv.Addr, "INFO", "commandstats")
	time.Sleep(idleWindow) // the measured window, not a wait for something
	after, elapsed := commandsProcessed(t, srv.Addr), time.Since(began)
	stats1, _ := redistest.Command(srv.Addr, "INFO", "commandstats")
	// Our own INFO commands in between are counted too: the first INFO
	// stats (a command is counted once it has run) and the first INFO
	// commandstats.
	n := after - before - 2
	perSecond := float64(n) / elapsed.Seconds()
	t.Logf("idle gateway, %d destinations: %d commands to Redis in %s: %.1f/s (%.2f/s per destination)\n%s",
		dests, n, elapsed.Round(time.Millisecond), perSecond, perSecond/float64(dests), commandDiff(stats0, stats1))
	if limit := int64(idleBudget * float64(dests) * elapsed.Seconds()); n > limit {
		t.Errorf("an idle gateway sent %d commands to Redis in %s, more than %d (%d/s per destination): busy polling?",
			n, elapsed.Round(time.Millisecond), limit, idleBudget)
	}
}

// commandsProcessed returns Redis's total_commands_processed.
func commandsProcessed(t *testing.T, addr string) int64 {
	t.Helper()
	info, err := redistest.Command(addr, "INFO", "stats")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no total_commands_processed in INFO stats:\n%s", info)
	return 0
}

// commandDiff lists, per command, how many more calls INFO commandstats
// counts in b than in a.
func commandDiff(a, b string) string {
	calls := func(info string) map[string]int64 {
		m := map[string]int64{}
		for _, line := range strings.Split(info, "\n") {
			name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
			if !ok {
				continue
			}
			v, _, _ := strings.Cut(rest, ",")
			m[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.ParseInt(v, 10, 64)
		}
		return m
	}
	ca, cb := calls(a), calls(b)
	var out []string
	for name, n := range cb {
		if d := n - ca[name]; d > 0 {
			out = append(out, name+"="+strconv.FormatInt(d, 10))
		}
	}
	return strings.Join(out, " ")
}
