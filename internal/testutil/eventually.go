// Package testutil holds what the project's tests share that is not about
// one package: waiting for a condition. Only _test.go files import it.
package testutil

import (
	"errors"
	"testing"
	"time"
)

// Limit is a generous bound on waiting for something a test caused to
// happen: long enough that a loaded CI machine never reaches it when the
// code works, so reaching it means the thing does not happen.
const Limit = 60 * time.Second

// Eventually polls cond until it returns nil and fails tb (Fatal) once limit
// has passed without that, with what and cond's last error: the state it
// last saw ("3 of 5 deliveries delivered"). limit <= 0 means Limit. The
// first poll is at once, then every few milliseconds, backing off to 100 ms.
// It bounds only the wait: nothing about how soon cond holds is asserted.
// Inside a testing/synctest bubble the polls advance the bubble's clock.
func Eventually(tb testing.TB, limit time.Duration, what string, cond func() error) {
	tb.Helper()
	if limit <= 0 {
		limit = Limit
	}
	deadline := time.Now().Add(limit)
	pause := 5 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waited %s for %s; last saw: %v", limit, what, err)
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// errFalse is the error of a condition that says only whether it holds.
var errFalse = errors.New("the condition did not hold")

// Holds adapts a condition that says only whether it holds to Eventually;
// prefer a cond that reports what it saw.
func Holds(cond func() bool) func() error {
	return func() error {
		if cond() {
			return nil
		}
		return errFalse
	}
}
