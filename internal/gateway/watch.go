package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchSettle is how long the config file must be quiet before a change
// is reloaded: editors write a file in several steps (truncate, write,
// rename over it), and only the last state should be compiled.
const watchSettle = 200 * time.Millisecond

// startWatch starts watching the config file for -watch: it watches the
// file's folder, not the file, so that an editor replacing the file by a
// rename (vim, most IDEs) is seen too, and so is a Kubernetes ConfigMap
// update, where the kubelet swaps the folder's ..data symlink and no event
// names the file. The returned function runs the watch until ctx is done.
func (g *Gateway) startWatch() (func(ctx context.Context), error) {
	path, err := filepath.Abs(g.reloadState.path)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", g.reloadState.path, err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	if err := w.Add(filepath.Dir(path)); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	fw := &fileWatch{
		path:   path,
		last:   g.current.Load().Hash,
		settle: watchSettle,
		log:    g.log,
		reload: func(ctx context.Context) { g.reload(ctx) }, // it logs what it did
	}
	return func(ctx context.Context) {
		defer w.Close()
		fw.run(ctx, w)
	}, nil
}

// fileWatch reloads the config when the content of its file changes.
type fileWatch struct {
	// path is the config file, absolute.
	path string
	// last is the hex SHA-256 of the file's content when last looked at
	// (at first, the running config's).
	last string
	// settle is how long the folder must be quiet before the file is
	// looked at (watchSettle).
	settle time.Duration
	log    *slog.Logger
	// reload reloads the config.
	reload func(ctx context.Context)
}

// run looks at the file once its folder has been quiet for settle after
// any event in it, and reloads when the content changed, until ctx is done
// or w closes. Any event counts: what names the file changes with how it is
// replaced (a rename over it, a symlink swapped further up), and reading it
// through its symlinks is what tells.
func (fw *fileWatch) run(ctx context.Context, w *fsnotify.Watcher) {
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-w.Events:
			if !ok {
				return
			}
			settle.Reset(fw.settle)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			fw.log.Warn("config watch", "error", err)
		case <-settle.C:
			fw.check(ctx)
		}
	}
}

// check reloads when the file's content differs from the last seen. A file
// that cannot be read (in the middle of a swap, or removed) is looked at
// again on the next event; the running config stays.
func (fw *fileWatch) check(ctx context.Context) {
	src, err := os.ReadFile(fw.path)
	if err != nil {
		fw.log.Warn("config watch: cannot read the config file; the running config stays", "path", fw.path, "error", err)
		return
	}
	h := hashOf(src)
	if h == fw.last {
		return
	}
	fw.last = h
	fw.log.Info("config file changed; reloading", "path", fw.path)
	fw.reload(ctx)
}
