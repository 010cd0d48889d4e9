package gateway_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// diskSize is the size of the file system TestFaultDiskFull gives the
// embedded store, and diskHeadroom what the filler leaves free of it.
const (
	diskSize     = "32m"
	diskHeadroom = 1 << 20
)

// mountSmallDisk mounts a tmpfs of size on a new folder and unmounts it at
// the test's end. The tests run as root (scripts/test.sh); without the
// right to mount it fails, saying so.
func mountSmallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a %s tmpfs for the store (the disk-full test needs root or CAP_SYS_ADMIN, as CI has): %v: %s",
			size, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
			exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full, then
// shortens it to leave headroom bytes free. It returns the file's path.
func fillDisk(t *testing.T, dir string, headroom int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var size int64
	for {
		n, err := f.Write(chunk)
		size += int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatalf("fill %s: %v", dir, err)
		}
	}
	if err := f.Truncate(max(size-headroom, 0)); err != nil {
		t.Fatal(err)
	}
	return path
}

// paddedBody is identBody with about n more bytes.
func paddedBody(n int) func(id string) []byte {
	pad := strings.Repeat("x", n)
	return func(id string) []byte {
		return []byte(fmt.Sprintf(`{"type":"creator_insights","identifier":%q,"connector":"tiktok","padding":%q}`, id, pad))
	}
}

// TestFaultDiskFull: the embedded store lives on a small tmpfs, which a
// filler file fills but for 1 MiB. A load of 200 events of 8 KiB from four
// senders soon uses that up: from then on ingest answers 503 — nothing
// but 202 and 503, so no event is half-taken — and /readyz fails. Once the
// filler is removed the same gateway process accepts again, every event it
// answered 202 reaches the receiver, and the store file opens cleanly in a
// new process.
func TestFaultDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	t.Parallel()
	disk := mountSmallDisk(t, diskSize)
	sk := newSink(t)
	ingest, admin := freeAddr(t), freeAddr(t)
	storage := fmt.Sprintf("storage \"embedded\" { path = %q }", filepath.Join(disk, "hookgate.db"))
	config := writeConfigOn(t, t.TempDir(), ingest, admin, sk.srv.URL+"/hooks", storage)
	p := start(t, config, ingest, admin)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			p.stop(t)
		}
	})

	// A few events on a roomy disk first, then a filler leaves 1 MiB,
	// which the load uses up within its first hundred events or so.
	warm := runFaultLoad(ingest, "warm", 10, 2, 20*time.Millisecond, time.Now().Add(30*time.Second), paddedBody(8<<10))
	warm.wg.Wait()
	if warm.acceptedN.Load() != 10 {
		t.Fatalf("%d of 10 events accepted before the disk was filled; logs:\n%s", warm.acceptedN.Load(), p.logs)
	}
	filler := fillDisk(t, disk, diskHeadroom)
	filled := time.Now()
	const total, senders = 200, 4
	l := runFaultLoad(ingest, "df", total, senders, 20*time.Millisecond, time.Now().Add(90*time.Second), paddedBody(8<<10))
	waitUntil(t, 30*time.Second, "50 answers 503 once the disk is full", func() bool {
		return l.during(filled, time.Now())[http.StatusServiceUnavailable] >= 50
	})
	waitUntil(t, 30*time.Second, "/readyz to fail while the disk is full", func() bool {
		return status("http://"+admin+"/readyz") != http.StatusOK
	})
	atFull := l.acceptedN.Load()
	if !strings.Contains(p.logs.String(), "no space left on device") {
		t.Errorf("the gateway's log does not say the disk is full; its 503s came from something else?\n%s", p.logs)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	t.Logf("filler removed; %d events accepted while the last MiB lasted; answers so far: %v", atFull, l.during(time.Time{}, time.Now()))

	l.wg.Wait()
	waitDelivered(t, sk, &warm.load, time.Now().Add(60*time.Second), p.logs.String)
	dups := waitDelivered(t, sk, &l.load, time.Now().Add(60*time.Second), p.logs.String)
	for code, n := range l.during(time.Time{}, time.Now()) {
		if code != http.StatusAccepted && code != http.StatusServiceUnavailable {
			t.Errorf("%d requests answered %d (0: no answer); want 202 or 503 only", n, code)
		}
	}
	if l.acceptedN.Load() != total {
		t.Errorf("only %d of %d events were accepted once the disk had room again", l.acceptedN.Load(), total)
	}
	waitUntil(t, 60*time.Second, "/readyz to pass again", func() bool { return status("http://"+admin+"/readyz") == http.StatusOK })
	if p.cmd.ProcessState != nil {
		t.Fatalf("the gateway exited: %v\n%s", p.cmd.ProcessState, p.logs)
	}
	t.Logf("accepted %d (%d before the disk was full), all delivered by the same process; %d duplicate deliveries",
		l.acceptedN.Load(), atFull, dups)

	// The file a full disk interrupted opens again in a new process.
	p.stop(t)
	stopped = true
	p = start(t, config, ingest, admin)
	defer p.stop(t)
	waitUntil(t, 30*time.Second, "/readyz after a restart", func() bool { return status("http://"+admin+"/readyz") == http.StatusOK })
}
