package delivery_test

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/redis/redistest"
)

// hookgateClients counts the connections named hookgate on database db
// of the Redis at addr.
func hookgateClients(t *testing.T, addr, db string) int {
	t.Helper()
	list, err := redistest.Command(addr, "CLIENT", "LIST")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " name=hookgate ") && strings.Contains(line, " db="+db+" ") {
			n++
		}
	}
	return n
}

// TestKindConnectionLifecycle: a kind destination connects on its first
// attempt, delivers through the engine, and its connection is closed when
// a reload removes the destination and when the engine stops.
func TestKindConnectionLifecycle(t *testing.T) {
	srv := redistest.Start(t)
	dests := mustDests(t, `
destination "a" {
  redis_stream {
    url    = "redis://`+srv.Addr+`/1"
    stream = "a"
  }
}
destination "b" {
  redis_stream {
    url    = "redis://`+srv.Addr+`/2"
    stream = "b"
  }
}
`)
	st := mustStore(t)
	ida, idb := accept(t, st, "a", `{"n":1}`), accept(t, st, "b", `{"n":2}`)
	r := start(t, st, delivery.Options{}, dests...)
	for _, id := range []string{ida, idb} {
		if d, as := waitFinished(t, st, id); d.Status != store.Delivered || len(as) != 1 || !strings.HasPrefix(as[0].Response, "stream ") {
			t.Fatalf("%s: %s %+v", id, d.Status, as)
		}
	}
	if hookgateClients(t, srv.Addr, "1") == 0 || hookgateClients(t, srv.Addr, "2") == 0 {
		t.Fatal("no connection of the destinations")
	}
	r.e.Update(dests[1:])
	waitUntil(t, "the removed destination's connection closed", func() bool { return hookgateClients(t, srv.Addr, "1") == 0 })
	if hookgateClients(t, srv.Addr, "2") == 0 {
		t.Error("the kept destination's connection closed too")
	}
	r.stop(t)
	waitUntil(t, "every connection closed at shutdown", func() bool { return hookgateClients(t, srv.Addr, "2") == 0 })
}
