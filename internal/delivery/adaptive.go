package delivery

import (
	"math"
	"net/http"
	"time"
)

// aimd is a destination's adaptive concurrency limit (adaptive_concurrency
// = true): additive increase, multiplicative decrease on the attempts in
// flight. A congestion signal (429, 503, a timeout) halves the limit, not
// below 1, once per round: only an attempt started after the last cut cuts
// again, so one burst of 429s counts once. Each success adds 1/limit (one
// a round of limit successes), up to max_concurrency.
//
// It also remembers a ceiling: the attempts that were in flight when the
// receiver last pushed back, less one. Growth beyond the ceiling is slow
// (one step per ceilingLift*ceiling successes without a cut), so the limit
// settles just under the receiver's capacity instead of probing above it
// every few rounds; a receiver that grows back is found again.
//
// Not safe for concurrent use: health serialises its calls.
type aimd struct {
	limit   float64
	ceiling float64
	// lastCut is when the limit was last halved.
	lastCut time.Time
	// calm counts successes at or above the ceiling since the last cut.
	calm int
}

// ceilingLift is how many rounds (of ceiling successes) the limit stays at
// its ceiling before it tries one more attempt in flight.
const ceilingLift = 100

// current returns the limit for max attempts: the limit rounded down, at
// least 1 and at most max. A zero aimd starts at max.
func (a *aimd) current(max int) int {
	if a.limit == 0 || a.limit > float64(max) {
		a.limit = float64(max)
	}
	if a.ceiling == 0 || a.ceiling > float64(max) {
		a.ceiling = float64(max)
	}
	return int(math.Max(1, math.Floor(a.limit)))
}

// congestion reports whether an attempt's result says the receiver is
// overloaded: a 429, a 503 or a timeout.
func congestion(r result) bool {
	return r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable ||
		r.Status == 0 && r.ErrType == "timeout"
}

// observe adapts the limit to one attempt's result. inflight is how many
// attempts were in flight when it started (itself included).
func (a *aimd) observe(max int, r result, inflight int) {
	a.current(max)
	switch {
	case congestion(r):
		if r.At.Before(a.lastCut) {
			return // this round was cut already
		}
		a.lastCut = r.End
		a.limit = math.Max(1, a.limit/2)
		a.ceiling = math.Max(1, math.Min(a.ceiling, float64(inflight-1)))
		if a.ceiling < a.limit {
			a.ceiling = math.Max(1, math.Floor(a.limit))
		}
		a.calm = 0
	case r.Delivered || r.Status >= 200 && r.Status < 300:
		if a.limit < a.ceiling {
			a.limit = math.Min(a.ceiling, a.limit+1/a.limit)
			return
		}
		a.calm++
		if a.calm >= ceilingLift*int(a.ceiling) && a.ceiling < float64(max) {
			a.ceiling++
			a.calm = 0
		}
	}
}
