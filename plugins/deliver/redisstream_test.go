package deliver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/store/redis/redistest"
	"github.com/hookgate/hookgate/plugins/deliver/brokertest"
)

// redisRead reads the whole stream key, by webhook-id.
func redisRead(t *testing.T, url, key string) (map[string]received, int) {
	t.Helper()
	ms := brokertest.ReadRedisStream(t, url, key)
	return index(ms), len(ms)
}

// TestRedisStreamDelivers: entries appended with XADD are read back with
// their bodies and headers as fields, and MAXLEN ~ trims the stream.
func TestRedisStreamDelivers(t *testing.T) {
	srv := redistest.Start(t)
	d := build(t, "redis_stream", map[string]any{"url": srv.URL(), "stream": "hookgate:audit"})
	deliverAll(t, d, 20)
	got, n := redisRead(t, srv.URL(), "hookgate:audit")
	if n != 20 {
		t.Errorf("the stream holds %d entries, want 20", n)
	}
	checkReceived(t, got, all(20))

	trimmed := build(t, "redis_stream", map[string]any{"url": srv.URL(), "stream": "hookgate:trimmed", "maxlen": 10})
	deliverAll(t, trimmed, 1000)
	if _, n := redisRead(t, srv.URL(), "hookgate:trimmed"); n < 10 || n >= 1000 {
		t.Errorf("with maxlen 10 the stream holds %d of 1000 entries", n)
	}
}

// TestRedisStreamPassword: a password in the URL is used and never shown
// in an error.
func TestRedisStreamPassword(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "s3cr3t-pw")
	wrong := build(t, "redis_stream", map[string]any{"url": "redis://:wrong-pw@" + srv.Addr + "/0", "stream": "s"})
	s := wrong.Deliver(context.Background(), message(0))
	if s.Err == "" {
		t.Fatal("delivered with a wrong password")
	}
	if strings.Contains(s.Err, "wrong-pw") {
		t.Errorf("the error shows the password: %s", s.Err)
	}
	right := build(t, "redis_stream", map[string]any{"url": "redis://:s3cr3t-pw@" + srv.Addr + "/0", "stream": "s"})
	if s := right.Deliver(context.Background(), message(0)); s.Err != "" {
		t.Fatalf("with the password: %s", s.Err)
	}
}

// TestRedisStreamServerRestart: redis-server killed (SIGKILL) mid-load and
// started again on its AOF: every appended entry is there.
func TestRedisStreamServerRestart(t *testing.T) {
	srv := redistest.Start(t)
	d := build(t, "redis_stream", map[string]any{"url": srv.URL(), "stream": "hookgate:audit"})
	const n = 300
	acked, failed := underOutage(t, d, n, srv.Kill, srv.Restart)
	got, entries := redisRead(t, srv.URL(), "hookgate:audit")
	checkReceived(t, got, acked)
	t.Logf("%d messages, %d failed attempts during the outage, %d entries", len(acked), failed, entries)
}
