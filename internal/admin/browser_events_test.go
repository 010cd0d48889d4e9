package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/testutil"
)

// TestEventsSearchAndReplayInBrowser drives the events page in headless
// Chromium with the real delivery engine: events stored while no route
// took them are found with the search box, a bad expression is shown with
// its column, and Replay (after its confirmation page, which counts per
// destination) delivers them through the current routes.
func TestEventsSearchAndReplayInBrowser(t *testing.T) {
	exe := chromium(t)
	f := newFixture(t, fixtureOpts{token: fxToken, engine: true})
	now := time.Now().UTC()
	var refunded []string
	for i, status := range []string{"refunded", "paid", "refunded"} {
		at := now.Add(time.Duration(i-10) * time.Minute)
		ev := &store.Event{ID: ids.New(ids.Event, at), Source: "shop", EventType: "order.created", ReceivedAt: at,
			Headers: map[string]string{"content-type": "application/json"},
			Body: fmt.Appendf(nil, `{"type":"order.created","status":%q,"amount":%d,"customer":{"id":"c%d","vip":false},"items":[{"sku":"a"}],"at":"2026-01-01T00:00:00Z"}`,
				status, 10+i, i)}
		if _, err := f.st.Accept(context.Background(), ev, nil, nil); err != nil {
			t.Fatal(err)
		}
		if status == "refunded" {
			refunded = append(refunded, ev.ID)
		}
	}

	cr := newChrome(t, exe, 40*time.Second)
	do, text, count := cr.do, cr.text, cr.count

	do("log in", chromedp.Navigate(f.url+"/events"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), fxToken), chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#search")))
	if n := count("tr.event"); n != 3 {
		t.Errorf("the events page lists %d events, want 3", n)
	}

	do("a bad filter", chromedp.SendKeys(chromedp.CSS("#filter"), "status =="), chromedp.Click(chromedp.CSS("#search-button")),
		chromedp.WaitVisible(chromedp.CSS("#error")))
	if e := text("#error"); !strings.Contains(e, "column 9") {
		t.Errorf("error: %q", e)
	}

	do("search", chromedp.SetValue(chromedp.CSS("#filter"), "status == 'refunded' && $source == 'shop'"),
		chromedp.Click(chromedp.CSS("#search-button")), chromedp.WaitVisible(chromedp.CSS("#replay-matching")))
	if n := count("tr.event"); n != 2 {
		t.Errorf("the search lists %d events, want 2", n)
	}
	for _, id := range refunded {
		if count(`tr.event[data-id="`+id+`"]`) != 1 {
			t.Errorf("%s is not listed", id)
		}
	}

	do("replay: the confirmation", chromedp.Click(chromedp.CSS("#replay-matching")), chromedp.WaitVisible(chromedp.CSS("#replay-confirm")))
	if s := text("#replay-summary"); !strings.Contains(s, "2 events match") || !strings.Contains(s, "4") {
		t.Errorf("summary: %q", s)
	}
	if got := text(`#replay-destinations tr[data-destination="orders"]`); !strings.Contains(got, "2") {
		t.Errorf("orders row: %q", got)
	}
	if len(f.orders.got())+len(f.bill.got()) != 0 {
		t.Fatal("the confirmation page sent something")
	}
	do("replay: confirmed", chromedp.Click(chromedp.CSS("#replay-confirm")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	if n := text("#notice"); !strings.Contains(n, "Replayed 2 events as 4 new deliveries") {
		t.Errorf("notice: %q", n)
	}
	testutil.Eventually(t, 0, "two deliveries each to orders and billing", func() error {
		if o, b := len(f.orders.got()), len(f.bill.got()); o < 2 || b < 2 {
			return fmt.Errorf("orders got %d, billing %d", o, b)
		}
		return nil
	})
	for _, h := range f.orders.got() {
		if !strings.Contains(string(h.body), `"state":"refunded"`) {
			t.Errorf("orders got %s", h.body)
		}
	}
	// A new delivery names what it replays (here the event: it had none).
	page, err := f.st.Deliveries(context.Background(), store.Query{Destination: "orders"})
	if err != nil || len(page.Deliveries) != 2 {
		t.Fatalf("orders deliveries: %v %v", page.Deliveries, err)
	}
	do("open a replayed delivery", chromedp.Navigate(f.url+"/deliveries/"+page.Deliveries[0].ID), chromedp.WaitVisible(chromedp.CSS("#replay-of")))
	if of := text("#replay-of"); of != refunded[0] && of != refunded[1] {
		t.Errorf("the delivery replays %q, want one of %v", of, refunded)
	}
	// The copies stay out of the search.
	do("search again", chromedp.Navigate(f.url+"/events"), chromedp.WaitVisible(chromedp.CSS("#search")))
	if n := count("tr.event"); n != 3 {
		t.Errorf("after the replay the events page lists %d events, want 3", n)
	}
}
