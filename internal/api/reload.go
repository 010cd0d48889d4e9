package api

// Reload is POST /api/reload's 200 answer: what a reload did.
type Reload struct {
	// Reloaded is false when the file's bytes were those running and so
	// were the files its file() calls read.
	Reloaded   bool   `json:"reloaded"`
	ConfigHash string `json:"config_hash"`
	// RestartNeeded names the settings that changed but take effect only
	// after a restart (listen, admin_listen, storage); the running values
	// were kept. Never null.
	RestartNeeded []string `json:"restart_needed"`
	// Changes says what changed, e.g. "route billing changed".
	Changes []string `json:"changes,omitempty"`
}

// ReloadRefused is POST /api/reload's 422 answer: the config has errors
// and the running one was kept.
type ReloadRefused struct {
	Diagnostics []Diagnostic `json:"diagnostics"`
	Error       string       `json:"error"`
	// Text is the diagnostics as `hookgate validate` prints them.
	Text string `json:"text"`
}

// Diagnostic is one problem of a config.
type Diagnostic struct {
	// Severity is "error" or "warning".
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	// Range is file:line:col, "" when the diagnostic has no place.
	Range string `json:"range,omitempty"`
}
