package admin_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookgate/hookgate/internal/store"
)

// TestDashboardPauseResumeAndChart drives the overview in headless
// Chromium: each destination shows its state with a Pause button; pausing
// orders holds its new delivery (nothing is attempted), the page says
// paused and offers Resume; resuming delivers it. Each destination has an
// SVG chart of its last hour, whose delivered and failed bars the test
// reads and screenshots.
func TestDashboardPauseResumeAndChart(t *testing.T) {
	exe := chromium(t)
	f := newFixture(t, fixtureOpts{token: fxToken, engine: true})
	// Billing's hour: one failed attempt (500, retried much later) and one
	// delivered.
	f.bill.status.Store(http.StatusInternalServerError)
	_, failed := f.seed(t, time.Now(), "order.created", "billing")
	waitStatus(t, f, failed[0], store.Retrying, 10*time.Second)
	f.bill.status.Store(http.StatusOK)
	_, ok := f.seed(t, time.Now(), "order.created", "billing")
	waitStatus(t, f, ok[0], store.Delivered, 10*time.Second)

	cr := newChrome(t, exe, 40*time.Second)
	ctx, do, text, count := cr.ctx, cr.do, cr.text, cr.count
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

	do("log in",
		chromedp.Navigate(f.url+"/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), fxToken),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`tr.health-row[data-destination="orders"]`)),
	)
	if got := text(`tr.health-row[data-destination="orders"]`); !strings.Contains(got, "closed") {
		t.Errorf("orders before pausing: %q", got)
	}
	// Billing's chart: a delivered and a failed bar in its hour.
	billing := `svg.chart[data-destination="billing"]`
	if n := count(billing + ` rect.delivered`); n < 1 {
		t.Errorf("billing's chart has %d delivered bars, want at least 1", n)
	}
	if n := count(billing + ` rect.failed`); n < 1 {
		t.Errorf("billing's chart has %d failed bars, want at least 1", n)
	}
	if n := count(billing + ` .p99`); n != 1 {
		t.Errorf("billing's chart has %d p99 lines, want 1", n)
	}
	if got := text(`figure.chart[data-destination="billing"] figcaption`); !strings.Contains(got, "1 delivered and 1 failed") {
		t.Errorf("billing's chart caption: %q", got)
	}

	do("pause orders",
		chromedp.Click(chromedp.CSS(`button.pause[data-destination="orders"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button.resume[data-destination="orders"]`)),
	)
	if n := text("#notice"); !strings.Contains(n, "Paused orders") {
		t.Errorf("notice after pausing: %q", n)
	}
	if got := text(`tr.health-row[data-destination="orders"]`); !strings.Contains(got, "paused") {
		t.Errorf("orders after pausing: %q", got)
	}
	_, held := f.seed(t, time.Now(), "order.created", "orders")
	time.Sleep(300 * time.Millisecond) // several of the engine's 50ms polls
	if n := len(f.orders.got()); n != 0 {
		t.Fatalf("paused orders was attempted %d times", n)
	}
	shot("health-paused.png")

	do("resume orders",
		chromedp.Click(chromedp.CSS(`button.resume[data-destination="orders"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button.pause[data-destination="orders"]`)),
	)
	if n := text("#notice"); !strings.Contains(n, "Resumed orders") {
		t.Errorf("notice after resuming: %q", n)
	}
	waitStatus(t, f, held[0], store.Delivered, 10*time.Second)
	do("reload the overview", chromedp.Navigate(f.url+"/#health"), chromedp.WaitVisible(chromedp.CSS(`svg.chart[data-destination="orders"] rect.delivered`)))
	shot("health-chart.png")
}
