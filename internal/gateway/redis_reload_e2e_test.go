package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store/redis/redistest"
)

// TestRedisRollingReload: two gateways share one Redis under load and are
// reloaded one after the other (the first through the API, the second by
// SIGHUP) to a config that adds the route "extra". Every event answered
// 202, by either, is delivered per the config it was accepted under,
// whichever instance delivers it: to a always, to b exactly when its answer
// counted two deliveries.
func TestRedisRollingReload(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	const (
		senders = 8
		events  = 1200
	)
	rs := redistest.Start(t)
	storage := fmt.Sprintf("storage \"redis\" {\n  url    = %q\n  prefix = \"rolling\"\n}", rs.URL())
	a, b := newSink(t), newSink(t)
	type instance struct {
		proc          *gatewayProc
		path          string
		ingest, admin string
		configs       [2]string
	}
	var gws [2]*instance
	for i := range gws {
		g := &instance{ingest: freeAddr(t), admin: freeAddr(t), path: filepath.Join(t.TempDir(), "config.hcl")}
		for v := range g.configs {
			g.configs[v] = loadConfig(storage, g.ingest, g.admin, a.srv.URL+"/hooks", b.srv.URL+"/hooks", v == 1)
		}
		if err := os.WriteFile(g.path, []byte(g.configs[0]), 0o644); err != nil {
			t.Fatal(err)
		}
		g.proc = start(t, g.path, g.ingest, g.admin)
		gws[i] = g
	}
	t.Cleanup(func() {
		for i, g := range gws {
			g.proc.cmd.Process.Signal(syscall.SIGTERM)
			g.proc.cmd.Wait()
			if t.Failed() {
				t.Logf("gateway %d logs:\n%s", i, g.proc.logs)
			}
		}
	})

	type answer struct{ status, deliveries int }
	answers := make([]answer, events)
	var sent atomic.Int64
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := w; i < events && time.Now().Before(deadline); i += senders {
				body := []byte(fmt.Sprintf(`{"identifier":"ev-%d"}`, i))
				req, _ := http.NewRequest("POST", "http://"+gws[i%2].ingest+"/in/partner", bytes.NewReader(body))
				req.Header.Set("X-Signature", sign(body))
				resp, err := client.Do(req)
				sent.Add(1)
				if err != nil {
					t.Errorf("event %d: %v", i, err)
					continue
				}
				var got struct{ Deliveries int }
				json.NewDecoder(resp.Body).Decode(&got)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answers[i] = answer{resp.StatusCode, got.Deliveries}
			}
		})
	}
	waitSent := func(n int) {
		for sent.Load() < int64(n) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	waitSent(events / 3)
	g := gws[0]
	if err := os.WriteFile(g.path, []byte(g.configs[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Reloaded bool `json:"reloaded"`
	}
	if code := api(t, "POST", "http://"+g.admin+"/api/reload", adminToken, &res); code != 200 || !res.Reloaded {
		t.Fatalf("reload of the first gateway: %d %+v", code, res)
	}
	waitSent(2 * events / 3)
	g = gws[1]
	if err := os.WriteFile(g.path, []byte(g.configs[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitReady(t, g.admin, hashOf(g.configs[1]))
	wg.Wait()

	counts := map[int]int{}
	for i, ans := range answers {
		if ans.status != http.StatusAccepted {
			t.Errorf("event %d: status %d, want 202", i, ans.status)
		}
		counts[ans.deliveries]++
	}
	if t.Failed() {
		t.FailNow()
	}
	if counts[1] == 0 || counts[2] == 0 {
		t.Fatalf("events per delivery count: %v; want some under each config", counts)
	}
	checkDelivered(t, []string{gws[0].admin, gws[1].admin}, answers, func(a answer) int { return a.deliveries }, a, b)
	t.Logf("%d events over two gateways on one Redis, reloaded one after the other: %d accepted with the extra route, %d without",
		events, counts[2], counts[1])
}
