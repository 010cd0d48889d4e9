package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// DestinationGauge is one destination's health as its gauges report it.
type DestinationGauge struct {
	Name string
	// State is 0 closed, 1 half_open, 2 open, 3 paused.
	State int64
	// Concurrency is how many attempts may be in flight now.
	Concurrency int64
}

// ObserveDestinations adds the gauges hookgate_destination_state
// {destination} (0 closed, 1 half_open, 2 open, 3 paused) and
// hookgate_destination_concurrency{destination} (the attempts it may have
// in flight now: max_concurrency, or less under adaptive concurrency), read
// from read at each scrape. Call it once.
func (m *Metrics) ObserveDestinations(read func() []DestinationGauge) error {
	if m == nil {
		return nil
	}
	state, err := m.meter.Int64ObservableGauge("hookgate.destination.state",
		metric.WithDescription("Each destination's state: 0 closed, 1 half_open, 2 open (its breaker), 3 paused."))
	if err != nil {
		return err
	}
	conc, err := m.meter.Int64ObservableGauge("hookgate.destination.concurrency",
		metric.WithDescription("Attempts each destination may have in flight now: max_concurrency, or less under adaptive concurrency."))
	if err != nil {
		return err
	}
	_, err = m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, d := range read() {
			attrs := metric.WithAttributes(attribute.String("destination", d.Name))
			o.ObserveInt64(state, d.State, attrs)
			o.ObserveInt64(conc, d.Concurrency, attrs)
		}
		return nil
	}, state, conc)
	return err
}
