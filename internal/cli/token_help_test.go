package cli

import (
	"strings"
	"testing"
)

// TestTokenFlagHelp: every admin command's -help steers the token to
// $HOOKGATE_ADMIN_TOKEN, since -token shows in ps; -token still works.
func TestTokenFlagHelp(t *testing.T) {
	for _, args := range [][]string{
		{"deliveries", "-help"}, {"deliveries", "show", "-help"}, {"dlq", "list", "-help"},
		{"dlq", "replay", "-help"}, {"dlq", "export", "-help"}, {"events", "show", "-help"},
		{"stats", "-help"}, {"destinations", "test", "-help"}, {"backup", "-help"},
	} {
		_, _, stderr := run(t, "", args...)
		_, help, ok := strings.Cut(stderr, "\n  -token ")
		if !ok {
			t.Errorf("%v: no -token in the help:\n%s", args, stderr)
			continue
		}
		help, _, _ = strings.Cut(help, "\n  -")
		if !strings.Contains(help, "$HOOKGATE_ADMIN_TOKEN") || !strings.Contains(help, " ps") {
			t.Errorf("%v: -token's help does not prefer $HOOKGATE_ADMIN_TOKEN over a flag ps shows:\n%s", args, help)
		}
	}
}
