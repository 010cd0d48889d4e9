package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store/redis/redistest"
)

// TestFaultRedisKilledUnderLoad: redis-server (append-only, fsync always)
// is SIGKILLed while six senders push 600 events through one gateway, and
// started again on the same port and data. While it is dead, ingest answers
// 503 — never 2xx — and /readyz fails; afterwards the same gateway process
// (not restarted) accepts again, and every event it answered 202 reaches
// the receiver.
func TestFaultRedisKilledUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	t.Parallel()
	srv := redistest.Start(t)
	sk := newSink(t)
	f := startFleet(t, 1, sk.srv.URL+"/hooks", srv.URL())
	p := f.procs[0]

	const total, senders = 600, 6
	l := runFaultLoad(p.ingest, "rk", total, senders, 20*time.Millisecond, time.Now().Add(60*time.Second), identBody)
	waitUntil(t, 30*time.Second, "a third of the events accepted", func() bool { return l.acceptedN.Load() >= total/3 })
	srv.Kill()
	killed := time.Now()
	t.Logf("redis-server SIGKILLed after %d accepted, %d delivered", l.acceptedN.Load(), sk.n.Load())

	// Keep it dead until ingest has refused a fair number of events and
	// /readyz has noticed.
	waitUntil(t, 30*time.Second, "/readyz to fail while Redis is dead", func() bool {
		return status("http://"+p.admin+"/readyz") != http.StatusOK
	})
	waitUntil(t, 30*time.Second, "50 answers 503 while Redis is dead", func() bool {
		return l.during(killed, time.Now())[http.StatusServiceUnavailable] >= 50
	})
	restarting := time.Now()
	down := l.during(killed, restarting)
	srv.Restart()
	t.Logf("redis-server back after %s; answers meanwhile: %v", restarting.Sub(killed).Round(time.Millisecond), down)

	l.wg.Wait()
	dups := waitDelivered(t, sk, &l.load, time.Now().Add(60*time.Second), p.logs.String)
	for code, n := range down {
		if code != http.StatusServiceUnavailable {
			t.Errorf("%d requests answered %d (0: no answer) while Redis was dead; want 503 only", n, code)
		}
	}
	if l.acceptedN.Load() != total {
		t.Errorf("only %d of %d events were accepted once Redis was back", l.acceptedN.Load(), total)
	}
	waitUntil(t, 30*time.Second, "/readyz to pass again", func() bool {
		return status("http://"+p.admin+"/readyz") == http.StatusOK
	})
	if p.cmd.ProcessState != nil {
		t.Fatalf("the gateway exited: %v", p.cmd.ProcessState)
	}
	// The restarted server had no scripts cached: the store's EVALSHAs met
	// NOSCRIPT and ran again as EVAL (logged, not required: loading them
	// on connect would be as good).
	errs, _ := redistest.Command(srv.Addr, "INFO", "errorstats")
	var seen []string
	for _, f := range strings.Fields(errs) {
		if strings.HasPrefix(f, "errorstat_NOSCRIPT") || strings.HasPrefix(f, "errorstat_LOADING") {
			seen = append(seen, strings.TrimPrefix(f, "errorstat_"))
		}
	}
	t.Logf("accepted %d, all delivered by the same gateway process; %d duplicate deliveries; Redis answered since its restart: %v",
		l.acceptedN.Load(), dups, seen)
}
