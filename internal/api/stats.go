package api

import "time"

// Stats is GET /api/stats' answer.
type Stats struct {
	// Since is the start of the requested window (?since, default 24h),
	// which the top-level figures of each destination cover.
	Since time.Time `json:"since"`
	// Windows are the starts of the last_hour and last_24h windows.
	Windows      StatsWindows       `json:"windows"`
	Destinations []DestinationStats `json:"destinations"`
	// ConfigHash and ConfigLoadedAt identify the running config, so a
	// figure can be read against the rules that produced it.
	ConfigHash     string    `json:"config_hash"`
	ConfigLoadedAt time.Time `json:"config_loaded_at"`
}

// StatsWindows are the starts of the fixed windows of Stats.
type StatsWindows struct {
	LastHour time.Time `json:"last_hour"`
	LastDay  time.Time `json:"last_24h"`
}

// DestinationStats is one destination's figures: deliveries per state
// (over every stored delivery) and attempt figures over the requested
// window, then the attempt figures of the last hour and the last 24 hours.
type DestinationStats struct {
	Destination string `json:"destination"`
	Pending     int    `json:"pending"`
	Retrying    int    `json:"retrying"`
	Delivered   int    `json:"delivered"`
	Dead        int    `json:"dead"`
	// Attempts made in the window, how many of them were retries, how
	// many a 2xx answered, and Succeeded/Attempts (0 without attempts).
	Attempts      int     `json:"attempts"`
	RetryAttempts int     `json:"retry_attempts"`
	Succeeded     int     `json:"succeeded"`
	SuccessRate   float64 `json:"success_rate"`
	// MeanLatency and P99Latency in nanoseconds; MeanMS and P99MS the
	// same in milliseconds, to the microsecond.
	MeanLatency time.Duration `json:"mean_latency_ns"`
	P99Latency  time.Duration `json:"p99_latency_ns"`
	MeanMS      float64       `json:"mean_ms"`
	P99MS       float64       `json:"p99_ms"`
	LastHour    Window        `json:"last_hour"`
	LastDay     Window        `json:"last_24h"`
}

// Window is one fixed window's attempt figures.
type Window struct {
	Attempts      int     `json:"attempts"`
	RetryAttempts int     `json:"retry_attempts"`
	Succeeded     int     `json:"succeeded"`
	SuccessRate   float64 `json:"success_rate"`
	MeanMS        float64 `json:"mean_ms"`
	P99MS         float64 `json:"p99_ms"`
}
