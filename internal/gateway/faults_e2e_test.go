package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// The fault tests (faults_*_e2e_test.go) break something real under a
// running gateway — Redis killed, the disk full, a receiver's name not
// resolving — and check that nothing answered 202 is lost, that ingest
// says 503 while it cannot store, and that the gateway recovers by itself.
// These are their shared helpers.

// timedAnswer is one answer of ingest, with when its request started and
// when the answer (or the error) came back.
type timedAnswer struct {
	start, end time.Time
	code       int // 0: no answer (a connection error)
}

// faultLoad is a bounded load on one gateway that remembers every answer's
// times, so a test can single out the requests that started after a fault
// began and ended before it was repaired: those certainly met the fault.
type faultLoad struct {
	load
	mu      sync.Mutex
	answers []timedAnswer
}

// identBody is an event whose identifier the sink records.
func identBody(id string) []byte {
	return []byte(fmt.Sprintf(`{"type":"creator_insights","identifier":%q,"connector":"tiktok"}`, id))
}

// runFaultLoad sends total events (identifiers tag-0001…) from senders
// goroutines to the gateway's ingest address; each event is sent again
// every pause until it is answered 202 or deadline passes, as real senders
// retry.
func runFaultLoad(ingest, tag string, total, senders int, pause time.Duration, deadline time.Time, body func(id string) []byte) *faultLoad {
	l := &faultLoad{}
	next := make(chan int, total)
	for i := 1; i <= total; i++ {
		next <- i
	}
	close(next)
	client := &http.Client{Timeout: 10 * time.Second}
	for range senders {
		l.wg.Go(func() {
			for i := range next {
				id := fmt.Sprintf("%s-%04d", tag, i)
				b := body(id)
				for time.Now().Before(deadline) {
					req, _ := http.NewRequest("POST", "http://"+ingest+"/in/partner", bytes.NewReader(b))
					req.Header.Set("X-Signature", sign(b))
					start := time.Now()
					code := 0
					if resp, err := client.Do(req); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						code = resp.StatusCode
					}
					l.record(timedAnswer{start: start, end: time.Now(), code: code})
					if code == http.StatusAccepted {
						l.accepted.Store(id, true)
						l.acceptedN.Add(1)
						break
					}
					time.Sleep(pause)
				}
			}
		})
	}
	return l
}

func (l *faultLoad) record(a timedAnswer) {
	l.count(a.code)
	l.mu.Lock()
	l.answers = append(l.answers, a)
	l.mu.Unlock()
}

// during counts, by status code, the answers to requests that started
// after from and were answered before to.
func (l *faultLoad) during(from, to time.Time) map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int]int{}
	for _, a := range l.answers {
		if a.start.After(from) && a.end.Before(to) {
			out[a.code]++
		}
	}
	return out
}

// status returns the status code of GET url (0 when there is no answer).
func status(url string) int {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
