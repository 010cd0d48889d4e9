package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/testutil"
)

// chromium returns the browser to drive, or fails the test saying how to
// install one: the dashboard test never skips silently.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HOOKGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the dashboard browser test needs Chromium: install it with `sudo apt-get install chromium` " +
		"(scripts/test.sh does), or set HOOKGATE_CHROMIUM to a Chrome or Chromium binary")
	return ""
}

// artifactDir is where the test leaves its screenshots:
// $HOOKGATE_ARTIFACTS when set, else the test's artifact directory (kept
// with go test -artifacts).
func artifactDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("HOOKGATE_ARTIFACTS"); d != "" {
		d = filepath.Join(d, t.Name())
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// waitStatus waits (at most limit) until the delivery has the status.
func waitStatus(t *testing.T, f *fixture, id string, want store.Status, limit time.Duration) {
	t.Helper()
	testutil.Eventually(t, limit, fmt.Sprintf("delivery %s %s", id, want), func() error {
		d, _, err := f.st.Delivery(context.Background(), id)
		if err != nil {
			return err
		}
		if d.Status != want {
			return fmt.Errorf("%s after %d attempts, last error %q", d.Status, d.Attempts, d.LastError)
		}
		return nil
	})
}

// TestDashboardInBrowser drives the dashboard in headless Chromium against
// an admin server with a real store and the real delivery engine: a
// receiver that answers 410 dead-letters a delivery; the operator logs in
// through the form, sees it in the dead-letter set with its attempt, fixes
// the receiver, presses Replay, and sees it delivered.
func TestDashboardInBrowser(t *testing.T) {
	exe := chromium(t)
	f := newFixture(t, fixtureOpts{token: fxToken, engine: true})
	f.bill.status.Store(http.StatusGone)
	_, ds := f.seed(t, time.Now(), "order.created", "billing")
	id := ds[0]
	waitStatus(t, f, id, store.Dead, 10*time.Second)

	// Everything the browser does is bounded by this context.
	cr := newChrome(t, exe, 25*time.Second)
	ctx, do, text := cr.ctx, cr.do, cr.text
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join(artifactDir(t), name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}

	// Not logged in: the dead-letter page sends the browser to the form.
	do("open the dead letters", chromedp.Navigate(f.url+"/dlq"), chromedp.WaitVisible(chromedp.CSS("#token")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/login?next=") {
		t.Fatalf("not sent to the login form: %s", loc)
	}
	do("log in",
		chromedp.SendKeys(chromedp.CSS("#token"), fxToken),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`tr.delivery[data-id="`+id+`"]`)),
	)
	row := text(`tr.delivery[data-id="` + id + `"]`)
	if !strings.Contains(row, "410") || !strings.Contains(row, "billing") {
		t.Errorf("dead row: %q", row)
	}
	shot("dead-letters.png")

	// Why it died: the delivery's timeline.
	do("open the delivery", chromedp.Click(chromedp.CSS(`tr.delivery[data-id="`+id+`"] a.id`)),
		chromedp.WaitVisible(chromedp.CSS("ol.timeline")))
	if got := text("ol.timeline"); !strings.Contains(got, "HTTP 410") || !strings.Contains(got, "receiver answered 410") {
		t.Errorf("timeline: %q", got)
	}
	shot("dead-delivery.png")

	// Fix the receiver, replay from the dead-letter set.
	f.bill.status.Store(http.StatusOK)
	do("replay",
		chromedp.Navigate(f.url+"/dlq"),
		chromedp.Click(chromedp.CSS(`button.replay[data-id="`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	if n := text("#notice"); !strings.Contains(n, "queued") {
		t.Errorf("notice after replay: %q", n)
	}

	// Delivered: the delivery page shows it, with both attempts.
	testutil.Eventually(t, 0, "the delivery page showing delivered after the replay", func() error {
		do("open the delivery", chromedp.Navigate(f.url+"/deliveries/"+id), chromedp.WaitVisible(chromedp.CSS("h1 .status")))
		if s := text("h1 .status"); s != "delivered" {
			return fmt.Errorf("status %q: %q", s, text("main"))
		}
		return nil
	})
	items, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("ol.timeline li")))
	if err != nil || len(items) != 2 {
		t.Errorf("timeline: %d attempts, %v; want 2", len(items), err)
	}
	if got := text("ol.timeline li.ok"); !strings.Contains(got, "HTTP 200") {
		t.Errorf("second attempt: %q", got)
	}
	shot("delivered.png")

	// The overview shows the destination's figures; logout ends the session.
	do("overview", chromedp.Navigate(f.url+"/"), chromedp.WaitVisible(chromedp.CSS(`tr.dest[data-destination="billing"]`)))
	if got := text(`tr.dest[data-destination="billing"]`); !strings.Contains(got, "50.0%") {
		t.Errorf("billing's success rate: %q", got)
	}
	shot("overview.png")
	do("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#token")))
	do("after logout", chromedp.Navigate(f.url+"/dlq"), chromedp.WaitVisible(chromedp.CSS("#token")))
	if hits := f.bill.got(); len(hits) != 2 {
		for _, h := range hits {
			t.Logf("%s %d %v", h.at.Format("15:04:05.000"), h.status, h.header)
		}
		t.Errorf("the receiver got %d requests, want 2", len(hits))
	}
}

// chrome is a headless Chromium for a dashboard test, with the steps the
// browser tests share. limit bounds the whole session, so a hung browser
// fails the test instead of the package's timeout.
type chrome struct {
	t   *testing.T
	ctx context.Context
}

// newChrome starts Chromium (exe, from chromium) in a fresh profile; it
// is stopped when the test ends.
func newChrome(t *testing.T, exe string, limit time.Duration) *chrome {
	t.Helper()
	bound, cancelBound := context.WithTimeout(context.Background(), limit)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(bound, opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		cancelBound()
	})
	return &chrome{t: t, ctx: ctx}
}

// do runs steps, failing the test with what on an error.
func (b *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text is the text of the first element sel matches.
func (b *chrome) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// count is how many elements sel matches.
func (b *chrome) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
	if err != nil {
		b.t.Fatalf("nodes %s: %v", sel, err)
	}
	return len(n)
}
