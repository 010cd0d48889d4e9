package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/hookgate/hookgate/internal/store/redis/redistest"
	"github.com/hookgate/hookgate/plugins/deliver/brokertest"
)

// kindBrokers are the four brokers of TestKindsEndToEnd, each restartable
// on its port and data.
type kindBrokers struct {
	nats      *brokertest.NATS
	redis     *redistest.Server
	rabbit    *brokertest.RabbitMQ
	kafka     *kfake.Cluster
	kafkaDir  string
	kafkaAddr string
	kafkaPort int
}

func (b *kindBrokers) kill() {
	b.nats.Kill()
	b.redis.Kill()
	b.rabbit.Kill()
	b.kafka.Close()
}

func (b *kindBrokers) restart(t *testing.T) {
	b.nats.Restart()
	b.redis.Restart()
	b.rabbit.Restart(t)
	// As a consumer does when it reconnects, declare the queue and its
	// binding again (idempotent). Once in ten runs the node came back
	// without the binding for a while after a SIGKILL; the messages it
	// confirmed before the kill must still be in the queue.
	brokertest.RabbitQueue(t, b.rabbit.URL(), "creator", "crm", "events")
	b.kafka = brokertest.StartKafka(t, b.kafkaDir, b.kafkaPort, "creator-events")
}

// read returns what each kind's consumer finds, by destination name.
func (b *kindBrokers) read(t *testing.T, wantKafka int) map[string][]brokertest.Message {
	return map[string][]brokertest.Message{
		"events_bus":      brokertest.ReadNATS(t, b.nats.URL(), "EVENTS"),
		"audit_stream":    brokertest.ReadRedisStream(t, "redis://:redis-pw-e2e@"+b.redis.Addr+"/0", "hookgate:audit"),
		"warehouse_topic": brokertest.ReadKafka(t, b.kafkaAddr, "creator-events", wantKafka),
		// RabbitMQ's messages are taken: each read sees the new ones.
		"crm_queue": brokertest.ReadRabbit(t, b.rabbit.URL(), "crm"),
	}
}

var kindDestinations = []string{"events_bus", "audit_stream", "warehouse_topic", "crm_queue"}

// TestKindsEndToEnd runs the built gateway with one destination of each
// kind that is not HTTP (NATS JetStream, Redis stream, Kafka on kfake,
// RabbitMQ), on real brokers on loopback:
//   - every event arrives at each, read back by a consumer, with its body,
//     webhook-id, event type, the destination's headers, the
//     signature and (Kafka) the key;
//   - all four brokers killed mid-load and restarted: every accepted event
//     arrives (at least once);
//   - with the brokers down, a delivery retries by its schedule into the
//     dead-letter set; after the brokers are back, a replay delivers it
//     with the same webhook-id;
//   - `destinations test` delivers a test message through each;
//   - no broker password shows in the admin API or the logs.
func TestKindsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	b := &kindBrokers{}
	b.nats = brokertest.StartNATS(t)
	brokertest.NATSStream(t, b.nats.URL(), "EVENTS", "creator.events")
	b.redis = redistest.Start(t, "--requirepass", "redis-pw-e2e")
	rdir := t.TempDir()
	b.rabbit = brokertest.StartRabbitMQ(t, rdir)
	t.Cleanup(b.rabbit.Stop)
	brokertest.RabbitQueue(t, b.rabbit.URL(), "creator", "crm", "events")
	b.kafkaDir = t.TempDir()
	b.kafka = brokertest.StartKafka(t, b.kafkaDir, 0, "creator-events")
	b.kafkaAddr = b.kafka.ListenAddrs()[0]
	b.kafkaPort, _ = strconv.Atoi(b.kafkaAddr[strings.LastIndexByte(b.kafkaAddr, ':')+1:])
	t.Cleanup(func() { b.kafka.Close() })

	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	os.Setenv("E2E_AUDIT_REDIS_URL", "redis://:redis-pw-e2e@"+b.redis.Addr+"/0")
	defer os.Unsetenv("E2E_AUDIT_REDIS_URL")
	cfg := fmt.Sprintf(`
gateway {
  listen       = %q
  admin_listen = %q
  admin_token  = %q
}
storage "embedded" { path = "data/h.db" }
source "partner" {
  path       = "/in/partner"
  event_type = "type"
  verify "hmac" {
    header = "X-Signature"
    secret = "e2e-secret"
  }
}
destination "events_bus" {
  nats {
    url     = %q
    subject = "creator.events"
  }
  headers = { "X-Team" = "bus" }
  sign "standard_webhooks" { secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }
  timeout = "2s"
  retry {
    schedule = ["1s", "2s", "3s", "5s", "5s", "10s"]
    jitter   = "0%%"
  }
}
destination "audit_stream" {
  redis_stream {
    url    = env("E2E_AUDIT_REDIS_URL")
    stream = "hookgate:audit"
    maxlen = 100000
  }
  headers = { "X-Team" = "audit" }
  timeout = "2s"
  retry {
    schedule = ["1s", "2s", "3s", "5s", "5s", "10s"]
    jitter   = "0%%"
  }
}
destination "warehouse_topic" {
  kafka {
    brokers = [%q]
    topic   = "creator-events"
    key     = "identifier"
  }
  headers = { "X-Team" = "warehouse" }
  timeout = "2s"
  retry {
    schedule = ["1s", "2s", "3s", "5s", "5s", "10s"]
    jitter   = "0%%"
  }
}
destination "crm_queue" {
  rabbitmq {
    url         = %q
    exchange    = "creator"
    routing_key = "events"
  }
  headers = { "X-Team" = "crm" }
  timeout = "2s"
  retry {
    schedule = ["1s", "2s", "3s", "5s", "5s", "10s"]
    jitter   = "0%%"
  }
}
route "all" {
  source       = "partner"
  destinations = ["events_bus", "audit_stream", "warehouse_topic", "crm_queue"]
}
`, ingest, admin, adminToken, b.nats.URL(), b.kafkaAddr, b.rabbit.URL())
	path := filepath.Join(dir, "config.hcl")
	os.WriteFile(path, []byte(cfg), 0o644)
	proc := start(t, path, ingest, admin)
	defer func() {
		proc.cmd.Process.Signal(syscall.SIGTERM)
		proc.cmd.Wait()
	}()
	base := "http://" + admin

	send := func(ident string) {
		t.Helper()
		body := []byte(fmt.Sprintf(`{"type":"creator_insights","identifier":%q}`, ident))
		req, _ := http.NewRequest("POST", "http://"+ingest+"/in/partner", bytes.NewReader(body))
		req.Header.Set("X-Signature", sign(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 202 {
			t.Fatalf("ingest %s: %v %v", ident, err, resp)
		}
		resp.Body.Close()
	}
	// rabbitSeen accumulates RabbitMQ's messages, which a read takes.
	rabbitSeen := map[string][]brokertest.Message{}
	// arrived waits until every identifier of idents reached every
	// destination, and returns what each holds.
	arrived := func(idents []string) map[string][]brokertest.Message {
		t.Helper()
		var got map[string][]brokertest.Message
		missing := ""
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			got = b.read(t, len(idents))
			got["crm_queue"] = append(rabbitSeen["crm_queue"], got["crm_queue"]...)
			rabbitSeen["crm_queue"] = got["crm_queue"]
			missing = ""
			for _, dest := range kindDestinations {
				have := map[string]bool{}
				for _, m := range got[dest] {
					have[string(m.Body)] = true
				}
				for _, id := range idents {
					if !have[fmt.Sprintf(`{"type":"creator_insights","identifier":%q}`, id)] {
						missing = dest + " lacks " + id
						break
					}
				}
				if missing != "" {
					break
				}
			}
			if missing == "" {
				return got
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("not every event arrived: %s; logs:\n%s\nRabbitMQ's log:\n%s", missing, proc.logs, b.rabbit.Log())
		return nil
	}

	// Delivered, with the message headers.
	var first []string
	for i := range 20 {
		first = append(first, fmt.Sprintf("first-%02d", i))
		send(first[i])
	}
	got := arrived(first)
	teams := map[string]string{"events_bus": "bus", "audit_stream": "audit", "warehouse_topic": "warehouse", "crm_queue": "crm"}
	for _, dest := range kindDestinations {
		for _, m := range got[dest] {
			h := m.Headers
			// (traceparent is there when tracing is on: see delivery.TestKindSpan.)
			if !strings.HasPrefix(h["webhook-id"], "dlv_") || h["webhook-event-type"] != "creator_insights" || h["x-team"] != teams[dest] {
				t.Errorf("%s: headers %v", dest, h)
			}
			switch dest {
			case "events_bus":
				if h["Nats-Msg-Id"] != h["webhook-id"] || !strings.HasPrefix(h["webhook-signature"], "v1,") {
					t.Errorf("nats: Nats-Msg-Id %q, signature %q", h["Nats-Msg-Id"], h["webhook-signature"])
				}
			case "warehouse_topic":
				if !strings.Contains(string(m.Body), `"identifier":"`+m.Key+`"`) {
					t.Errorf("kafka: key %q of %s", m.Key, m.Body)
				}
			case "crm_queue":
				if h["message-id"] != h["webhook-id"] || h["type"] != "creator_insights" || h["delivery-mode"] != "persistent" {
					t.Errorf("rabbitmq: properties %v", h)
				}
			}
		}
	}

	// All four brokers killed mid-load, then restarted: nothing lost.
	var second []string
	var sent atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 60 {
			send(fmt.Sprintf("second-%02d", i))
			sent.Add(1)
			time.Sleep(20 * time.Millisecond) // pacing the load, not waiting for anything
		}
	}()
	for i := range 60 {
		second = append(second, fmt.Sprintf("second-%02d", i))
	}
	waitUntil(t, 30*time.Second, "a third of the load sent", func() bool { return sent.Load() >= 20 })
	b.kill()
	waitUntil(t, 30*time.Second, "deliveries retrying while the brokers are down", func() bool {
		var list struct {
			Deliveries []struct{ Destination string }
		}
		api(t, "GET", base+"/api/deliveries?status=retrying", adminToken, &list)
		return len(list.Deliveries) > 0
	})
	b.restart(t)
	<-done
	arrived(append(first, second...))

	// Brokers down: a delivery ends dead; replayed after they are back,
	// it arrives with its webhook-id.
	b.kill()
	send("dlq-1")
	type delivery struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	dead := map[string]string{}
	waitUntil(t, 90*time.Second, "a dead delivery for each destination", func() bool {
		for _, dest := range kindDestinations {
			var list struct{ Deliveries []delivery }
			api(t, "GET", base+"/api/deliveries?status=dead&destination="+dest, adminToken, &list)
			if len(list.Deliveries) == 0 {
				return false
			}
			dead[dest] = list.Deliveries[0].ID
		}
		return true
	})
	b.restart(t)
	for _, dest := range kindDestinations {
		var replayed struct{ Replayed int }
		if code := api(t, "POST", base+"/api/dlq/replay?destination="+dest, adminToken, &replayed); code != 200 || replayed.Replayed != 1 {
			t.Fatalf("replay %s: %d %+v", dest, code, replayed)
		}
	}
	got = arrived([]string{"dlq-1"})
	for _, dest := range kindDestinations {
		found := false
		for _, m := range got[dest] {
			if strings.Contains(string(m.Body), `"dlq-1"`) && m.Headers["webhook-id"] == dead[dest] {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: the replayed message does not carry the dead delivery's id %s", dest, dead[dest])
		}
	}

	// destinations test: one attempt through each kind, delivered.
	for _, dest := range kindDestinations {
		req, _ := http.NewRequest("POST", base+"/api/destinations/"+dest+"/test", strings.NewReader(`{"type":"creator_insights","identifier":"test-1"}`))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(buf.String(), `"status":"delivered"`) {
			t.Errorf("destinations test %s: %d %s", dest, resp.StatusCode, buf.String())
		}
	}

	// No broker password anywhere the admin API or the logs show.
	var listed struct {
		Destinations []struct{ Name, Kind, Target, State string }
	}
	if code := api(t, "GET", base+"/api/destinations", adminToken, &listed); code != 200 || len(listed.Destinations) != 4 {
		t.Fatalf("GET /api/destinations: %d %+v", code, listed)
	}
	for _, d := range listed.Destinations {
		if d.Kind == "" || !strings.Contains(d.Target, d.Kind+" ") || d.State != "closed" || strings.Contains(d.Target, "redis-pw-e2e") {
			t.Errorf("GET /api/destinations: %+v", d)
		}
	}
	for _, p := range []string{"/api/destinations", "/api/deliveries?status=delivered", "/api/stats", "/"} {
		req, _ := http.NewRequest("GET", base+p, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if strings.Contains(buf.String(), "redis-pw-e2e") {
			t.Errorf("%s shows the Redis password", p)
		}
	}
	// The dashboard's config page shows each kind's broker and target.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	if resp, err := browser.PostForm(base+"/login", url.Values{"token": {adminToken}, "next": {"/config"}}); err != nil {
		t.Fatal(err)
	} else {
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		page := buf.String()
		if strings.Contains(page, "redis-pw-e2e") || !strings.Contains(page, "redis_stream redis://redacted@"+b.redis.Addr+"/0 hookgate:audit") ||
			!strings.Contains(page, "nats "+b.nats.URL()+" creator.events") {
			t.Errorf("the dashboard's config page:\n%s", page)
		}
	}
	if strings.Contains(proc.logs.String(), "redis-pw-e2e") {
		t.Error("the logs show the Redis password")
	}
}
