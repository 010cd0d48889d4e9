package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// backupNameTime is how a backup's suggested file name carries its time
// (UTC, no colons, so it is a valid name everywhere).
const backupNameTime = "20060102T150405Z"

// backup is GET /api/backup: a consistent snapshot of the embedded store,
// streamed as a bbolt file with its length, while the gateway goes on.
// `hookgate backup` saves and verifies it; restoring is copying it over
// storage.path while the gateway is stopped (docs/operating.md). A store
// without the ability (Redis, which has its own persistence) answers 501.
//
// Every write moves the write deadline on, so a file that takes longer
// than the server's WriteTimeout to send is sent whole, while a client
// that stops reading for that long is cut off and ends the store's read
// transaction.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	b, ok := s.Store.(store.Backuper)
	if !ok {
		writeError(w, http.StatusNotImplemented, fmt.Sprintf(
			"storage %q is not backed up through hookgate: use Redis's own persistence (an RDB snapshot with BGSAVE, or the AOF)",
			s.Current().Storage.Kind))
		return
	}
	started := time.Now()
	name := "hookgate-" + s.now().UTC().Format(backupNameTime) + ".db"
	sent := false
	n, err := b.Backup(r.Context(), &deadlineWriter{w: w, r: r, head: r.Method == http.MethodHead}, func(size int64) {
		sent = true
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	})
	switch {
	case errors.Is(err, errHeadOnly):
		// HEAD: the headers are the answer.
	case err != nil && !sent:
		s.storeError(w, err)
	case err != nil:
		// The status is sent; the answer falls short of its
		// Content-Length, which the client sees as a failure.
		s.logger().Error("backup cut short", "bytes", n, "error", err)
	default:
		s.logger().Info("backup sent", "bytes", n, "duration", time.Since(started).Round(time.Millisecond).String())
	}
}

// errHeadOnly stops the copy of a HEAD request once its headers are set.
var errHeadOnly = errors.New("admin: HEAD wants no body")

// deadlineWriter moves the answer's write deadline on (extendWrite) before
// every write, so the deadline is the server's WriteTimeout from the last
// progress, whatever that timeout is. (It costs a timer reset, not a
// system call.) For a HEAD request it refuses the first write, so no file
// is read for an answer without a body.
type deadlineWriter struct {
	w    http.ResponseWriter
	r    *http.Request
	head bool
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if d.head {
		return 0, errHeadOnly
	}
	extendWrite(d.w, d.r, 0)
	return d.w.Write(p)
}
