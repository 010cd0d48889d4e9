package gateway

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// TestWatchFollowsConfigMapUpdate: a Kubernetes ConfigMap volume holds
// config.hcl -> ..data/config.hcl and ..data -> ..<timestamp>; the kubelet
// updates it by writing a new timestamped folder, pointing a new symlink
// ..data_tmp at it and renaming that over ..data. No event names
// config.hcl, yet the watch must reload, and only when the content read
// through the links changed.
func TestWatchFollowsConfigMapUpdate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.hcl")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	writeVersion := func(ts, content string) {
		t.Helper()
		must(os.Mkdir(filepath.Join(dir, ts), 0o755))
		must(os.WriteFile(filepath.Join(dir, ts, "config.hcl"), []byte(content), 0o644))
	}
	current := "..2026_11_29_10_00_00.000000001"
	writeVersion(current, "v1")
	must(os.Symlink(current, filepath.Join(dir, "..data")))
	must(os.Symlink(filepath.Join("..data", "config.hcl"), path))
	// swap updates the volume the way the kubelet's atomic writer does.
	swap := func(ts, content string) {
		t.Helper()
		writeVersion(ts, content)
		must(os.Symlink(ts, filepath.Join(dir, "..data_tmp")))
		must(os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
		must(os.RemoveAll(filepath.Join(dir, current)))
		current = ts
	}

	w, err := fsnotify.NewWatcher()
	must(err)
	must(w.Add(dir))
	reloads := make(chan string, 16)
	fw := &fileWatch{
		path:   path,
		last:   hashOf([]byte("v1")),
		settle: time.Millisecond,
		log:    slog.New(slog.DiscardHandler),
		reload: func(context.Context) {
			b, err := os.ReadFile(path)
			if err != nil {
				reloads <- "error: " + err.Error()
				return
			}
			reloads <- string(b)
		},
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); fw.run(ctx, w) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })

	swap("..2026_11_29_10_05_00.000000002", "v2")
	if got := <-reloads; got != "v2" {
		t.Fatalf("reloaded %q, want v2", got)
	}
	// A swap to the same content and an unrelated file are no reload; the
	// next change is.
	swap("..2026_11_29_10_06_00.000000003", "v2")
	must(os.WriteFile(filepath.Join(dir, "other.txt"), []byte("x"), 0o644))
	swap("..2026_11_29_10_07_00.000000004", "v3")
	if got := <-reloads; got != "v3" {
		t.Fatalf("reloaded %q, want v3 (only changed content reloads)", got)
	}
}
