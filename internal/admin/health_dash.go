package admin

import (
	"context"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/store"
)

// chartMinutes is how many minutes the dashboard's charts cover.
const chartMinutes = 60

// healthRow is a destination on the overview's health section: its state,
// pause or resume button, and chart.
type healthRow struct {
	api.Destination
	// Chart is a server-rendered SVG (numbers and fixed words only; the
	// name is escaped).
	Chart template.HTML
	// Delivered, Failed sum up the chart's hour.
	Delivered, Failed int
}

// healthRoutes adds the dashboard's pause and resume buttons' routes.
func (d *dash) healthRoutes(ui *http.ServeMux) {
	ui.Handle("POST /destinations/{name}/pause", d.action(d.pauseAction(true)))
	ui.Handle("POST /destinations/{name}/resume", d.action(d.pauseAction(false)))
}

// pauseAction pauses or resumes the destination and goes back to the
// overview with a notice.
func (d *dash) pauseAction(pause bool) func(http.ResponseWriter, *http.Request, session) {
	return func(w http.ResponseWriter, r *http.Request, s session) {
		name := r.PathValue("name")
		_, err := d.s.pause(r.Context(), name, pause)
		switch {
		case errors.Is(err, errNoPauses):
			d.fail(w, r, s, http.StatusNotImplemented, "This store cannot pause destinations.")
			return
		case errors.Is(err, store.ErrNotFound):
			d.fail(w, r, s, http.StatusNotFound, "No destination named "+fmt.Sprintf("%q", name)+" is configured.")
			return
		case err != nil:
			d.storeFail(w, r, s, err)
			return
		}
		done := "resumed"
		if pause {
			done = "paused"
		}
		http.Redirect(w, r, "/?done="+done+"&destination="+url.QueryEscape(name)+"#health", http.StatusSeeOther)
	}
}

// healthNotice is the notice of a pause or resume (fixed words and a
// destination of the config, so a link cannot make the page say anything
// else).
func (d *dash) healthNotice(q url.Values) string {
	name := q.Get("destination")
	if d.s.Current().Destination(name) == nil {
		return ""
	}
	switch q.Get("done") {
	case "paused":
		return "Paused " + name + ": nothing is attempted until you resume it; its deliveries wait."
	case "resumed":
		return "Resumed " + name + ": its waiting deliveries are attempted within its rate_limit."
	}
	return ""
}

// healthRows returns every destination with its state and the chart of
// its last hour.
func (d *dash) healthRows(ctx context.Context, now time.Time) ([]healthRow, error) {
	views, err := d.s.destinations(ctx)
	if err != nil {
		return nil, err
	}
	var minutes map[string][]store.MinuteStats
	if ms, ok := d.s.Store.(store.MinuteStatser); ok {
		if minutes, err = ms.StatsMinutes(ctx, now.Add(-(chartMinutes-1)*time.Minute), chartMinutes); err != nil {
			return nil, err
		}
	}
	out := make([]healthRow, 0, len(views))
	for _, v := range views {
		m := minutes[v.Name]
		if len(m) == 0 {
			m = store.MinuteStatsZeros(now.Add(-(chartMinutes-1)*time.Minute), chartMinutes)
		}
		row := healthRow{Destination: v, Chart: chartSVG(v.Name, m)}
		for _, x := range m {
			row.Delivered += x.Succeeded
			row.Failed += x.Failed()
		}
		out = append(out, row)
	}
	return out, nil
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH  = 640, 170
	chartLeft       = 44 // room for the count axis
	chartRight      = 56 // room for the latency axis
	chartTop        = 22 // room for the legend
	chartBottom     = 22 // room for the time axis
	chartDelivered  = "#2e7d32"
	chartFailed     = "#c62828"
	chartLatency    = "#1565c0"
	chartAxis       = "#8a93a8"
	chartFont       = "11"
	chartFontFamily = "system-ui, sans-serif"
)

// chartSVG draws minutes as a bar per minute (delivered below, failed on
// top, against the left axis) and the p99 latency as a line (against the
// right axis). It uses presentation attributes only (the dashboard's CSP
// allows no inline style) and no script.
func chartSVG(name string, minutes []store.MinuteStats) template.HTML {
	plotW := float64(chartW - chartLeft - chartRight)
	plotH := float64(chartH - chartTop - chartBottom)
	maxCount, maxP99 := 1, time.Duration(0)
	for _, m := range minutes {
		maxCount = max(maxCount, m.Attempts)
		maxP99 = max(maxP99, m.P99)
	}
	maxCount = niceCeil(maxCount)
	latTop := niceLatency(maxP99)
	n := max(len(minutes), 1)
	slot := plotW / float64(n)
	barW := max(slot-1, 1)
	y := func(c int) float64 { return float64(chartTop) + plotH - plotH*float64(c)/float64(maxCount) }
	ly := func(l time.Duration) float64 {
		return float64(chartTop) + plotH - plotH*float64(l)/float64(latTop)
	}
	var b strings.Builder
	esc := html.EscapeString(name)
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s: delivered and failed attempts per minute and p99 latency, last hour" data-destination="%s" font-family="%s" font-size="%s">`,
		chartW, chartH, chartW, chartH, esc, esc, chartFontFamily, chartFont)
	fmt.Fprintf(&b, `<title>%s: attempts per minute and p99 latency, last hour</title>`, esc)
	// Legend.
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="10" height="10" fill="%s"/><text x="%d" y="15">delivered</text>`, chartLeft, chartDelivered, chartLeft+14)
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="10" height="10" fill="%s"/><text x="%d" y="15">failed</text>`, chartLeft+84, chartFailed, chartLeft+98)
	fmt.Fprintf(&b, `<line x1="%d" y1="11" x2="%d" y2="11" stroke="%s" stroke-width="2"/><text x="%d" y="15">p99 latency</text>`, chartLeft+150, chartLeft+164, chartLatency, chartLeft+168)
	// Axes and grid.
	x0, x1 := chartLeft, chartW-chartRight
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, x0, chartH-chartBottom, x1, chartH-chartBottom, chartAxis)
	for _, c := range []int{maxCount / 2, maxCount} {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e3e6ec"/>`, x0, y(c), x1, y(c))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s">%d</text>`, x0-4, y(c)+4, chartAxis, c)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s">0</text>`, x0-4, y(0)+4, chartAxis)
	fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="%s">%s</text>`, x1+4, ly(latTop)+4, chartLatency, fmtLatency(latTop))
	fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="%s">%s</text>`, x1+4, ly(latTop/2)+4, chartLatency, fmtLatency(latTop/2))
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">-60 min</text>`, x0, chartH-6, chartAxis)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="%s">now</text>`, x1, chartH-6, chartAxis)
	// Bars.
	for i, m := range minutes {
		x := float64(chartLeft) + slot*float64(i)
		if ok := m.Succeeded; ok > 0 {
			fmt.Fprintf(&b, `<rect class="delivered" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y(ok), barW, y(0)-y(ok), chartDelivered)
		}
		if f := m.Failed(); f > 0 {
			fmt.Fprintf(&b, `<rect class="failed" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y(m.Succeeded+f), barW, y(m.Succeeded)-y(m.Succeeded+f), chartFailed)
		}
	}
	// p99 line, through the minutes that had attempts.
	var pts []string
	for i, m := range minutes {
		if m.Attempts == 0 {
			continue
		}
		x := float64(chartLeft) + slot*(float64(i)+0.5)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, ly(m.P99)))
	}
	if len(pts) == 1 {
		fmt.Fprintf(&b, `<circle class="p99" cx="%s" cy="%s" r="3" fill="%s"/>`, strings.Split(pts[0], ",")[0], strings.Split(pts[0], ",")[1], chartLatency)
	} else if len(pts) > 1 {
		fmt.Fprintf(&b, `<polyline class="p99" points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), chartLatency)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten.
func niceCeil(n int) int {
	p := 1
	for {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
		p *= 10
	}
}

// niceLatency is the latency axis's top: at least 1 ms, 1, 2 or 5 times a
// power of ten milliseconds.
func niceLatency(d time.Duration) time.Duration {
	ms := int((d + time.Millisecond - 1) / time.Millisecond)
	return time.Duration(niceCeil(max(ms, 1))) * time.Millisecond
}

// fmtLatency is "5 ms" or "2 s".
func fmtLatency(d time.Duration) string {
	if d >= time.Second && d%time.Second == 0 {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmt.Sprintf("%g ms", float64(d)/float64(time.Millisecond))
}
