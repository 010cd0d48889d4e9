package admin

import (
	"testing"

	"github.com/hookgate/hookgate/internal/api"
)

// TestTraceID: the trace id the API shows is read from a valid traceparent
// only, and a test send's new traceparent has one.
func TestTraceID(t *testing.T) {
	for tp, want := range map[string]string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01": "4bf92f3577b34da6a3ce929d0e0e4736",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01": "",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01": "",
		"garbage": "",
		"":        "",
	} {
		if got := api.TraceID(tp); got != want {
			t.Errorf("api.TraceID(%q) = %q, want %q", tp, got, want)
		}
	}
	if got := api.TraceID(newTraceParent()); len(got) != 32 {
		t.Errorf("newTraceParent has no trace id: %q", got)
	}
}
