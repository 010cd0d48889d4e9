package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestSuggestionsBounded holds the regression inputs for FuzzLoad's slow
// cases: "Did you mean" compared every unknown name with every known one,
// with a Levenshtein distance quadratic in the names' lengths. Names longer
// than maxSuggestLen get no suggestion, and a load stops suggesting once it
// has made suggestBudget comparisons. The bound is asserted on the work
// done, not on the time taken.
func TestSuggestionsBounded(t *testing.T) {
	load := func(t *testing.T, src string) (*compiler, string) {
		t.Helper()
		l := &Loader{LookupEnv: func(string) (string, bool) { return "", false }}
		_, diags, c := l.load([]byte(src), "config.hcl")
		var b strings.Builder
		WriteDiagnostics(&b, diags, nil)
		return c, b.String()
	}

	t.Run("long names", func(t *testing.T) {
		long := strings.Repeat("a", maxSuggestLen)
		src := fmt.Sprintf("source %q {\n  path = \"/a\"\n}\nroute \"r\" {\n  source = %q\n  destinations = []\n}\n", long, long+"b")
		_, out := load(t, src)
		if !strings.Contains(out, "Unknown source") {
			t.Fatalf("no Unknown source diagnostic:\n%s", out)
		}
		if strings.Contains(out, "Did you mean") {
			t.Errorf("a name longer than %d characters got a suggestion", maxSuggestLen)
		}
		short := strings.Repeat("a", maxSuggestLen-1)
		src = fmt.Sprintf("source %q {\n  path = \"/a\"\n}\nroute \"r\" {\n  source = %q\n  destinations = []\n}\n", short, short+"b")
		if _, out := load(t, src); !strings.Contains(out, "Did you mean") {
			t.Errorf("a name of %d characters got no suggestion:\n%s", maxSuggestLen, out)
		}
	})

	t.Run("many unknown names", func(t *testing.T) {
		var b strings.Builder
		const n = 1000
		for i := range n {
			fmt.Fprintf(&b, "destination \"d%d\" {\n  url = \"https://x.example.com\"\n}\n", i)
		}
		b.WriteString("source \"s\" {\n  path = \"/s\"\n}\nroute \"r\" {\n  source = \"s\"\n  destinations = [")
		for i := range n {
			fmt.Fprintf(&b, "\"d%dx\", ", i)
		}
		b.WriteString("]\n}\n")
		c, out := load(t, b.String())
		if got := strings.Count(out, "Unknown destination"); got != n {
			t.Fatalf("%d Unknown destination diagnostics, want %d", got, n)
		}
		if c.suggestWork > suggestBudget {
			t.Errorf("%d name comparisons, want at most %d", c.suggestWork, suggestBudget)
		}
		if got := strings.Count(out, "Did you mean"); got == 0 || got == n {
			t.Errorf("%d suggestions, want some but not one per unknown name", got)
		}
	})

	t.Run("many unknown events", func(t *testing.T) {
		var keys, events strings.Builder
		const n = 1000
		for i := range n {
			fmt.Fprintf(&keys, "    e%d = \"s\"\n", i)
			fmt.Fprintf(&events, "\"e%dx\", ", i)
		}
		src := "schema \"s\" {\n}\nsource \"a\" {\n  path = \"/a\"\n  event_type = \"t\"\n  schemas = {\n" + keys.String() + "  }\n}\n" +
			"route \"r\" {\n  source = \"a\"\n  events = [" + events.String() + "]\n  destinations = []\n}\n"
		c, out := load(t, src)
		if got := strings.Count(out, "Unknown event type"); got != n {
			t.Fatalf("%d Unknown event type diagnostics, want %d", got, n)
		}
		if c.suggestWork > suggestBudget {
			t.Errorf("%d name comparisons, want at most %d", c.suggestWork, suggestBudget)
		}
	})
}
