package testutil_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookgate/hookgate/internal/testutil"
)

// fakeTB records a Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	// The real Fatalf ends the goroutine; the caller must not go on.
	panic(f)
}

// run calls Eventually on a fakeTB and returns its failure ("" when none).
func run(limit time.Duration, what string, cond func() error) (failed string) {
	f := &fakeTB{}
	defer func() {
		if r := recover(); r != nil && r != any(f) {
			panic(r)
		}
		failed = f.failed
	}()
	testutil.Eventually(f, limit, what, cond)
	return ""
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ready := start.Add(3 * time.Second)
		polls := 0
		failed := run(time.Minute, "ready", func() error {
			polls++
			if time.Now().Before(ready) {
				return fmt.Errorf("poll %d", polls)
			}
			return nil
		})
		if failed != "" {
			t.Fatalf("failed: %s", failed)
		}
		if waited := time.Since(start); waited < 3*time.Second || waited > 3*time.Second+100*time.Millisecond {
			t.Errorf("returned %s after start, want within a poll of 3s", waited)
		}
	})
}

func TestEventuallyFailsWithWhatItLastSaw(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		n := 0
		failed := run(10*time.Second, "5 deliveries", func() error {
			n++
			return fmt.Errorf("%d deliveries", n)
		})
		if !strings.Contains(failed, "5 deliveries") || !strings.Contains(failed, fmt.Sprintf("last saw: %d deliveries", n)) {
			t.Errorf("failure %q does not say what was awaited and what was last seen (%d)", failed, n)
		}
		if waited := time.Since(start); waited < 10*time.Second {
			t.Errorf("gave up after %s, want the 10s limit", waited)
		}
	})
}

func TestEventuallyDefaultLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		failed := run(0, "never", testutil.Holds(func() bool { return false }))
		if failed == "" || time.Since(start) < testutil.Limit {
			t.Errorf("gave up after %s (%q), want testutil.Limit", time.Since(start), failed)
		}
	})
}
