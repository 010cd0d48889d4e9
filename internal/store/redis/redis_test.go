package redis_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/redis"
	"github.com/hookgate/hookgate/internal/store/redis/redistest"
	"github.com/hookgate/hookgate/internal/store/storetest"
)

// prefixN numbers the stores a test binary opens: each gets its own
// prefix, so one server serves a whole suite.
var prefixN atomic.Int64

func newPrefix() string { return fmt.Sprintf("t%d", prefixN.Add(1)) }

// mustOpen opens a store on url with a fresh prefix, closed at the test's
// end.
func mustOpen(tb testing.TB, url string) *redis.Store {
	tb.Helper()
	s, err := redis.Open(url, redis.Options{Prefix: newPrefix()})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store { return mustOpen(t, srv.URL()) })
}

func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster: skipped with -short")
	}
	c := redistest.StartCluster(t)
	storetest.Run(t, func(t *testing.T) store.Store { return mustOpen(t, c.URL()) })
}

func BenchmarkAccept(b *testing.B) {
	srv := redistest.Start(b, "--appendfsync", "everysec")
	storetest.Bench(b, func(b *testing.B) store.Store { return mustOpen(b, srv.URL()) })
}
