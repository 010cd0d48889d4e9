package cli

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins"
)

// TestSinkOldSecretDuringRotation: a destination's signer rotating its
// secret out (previous_secret, previous_until) sends deliveries that
// `hookgate sink -secret OLD` accepts until previous_until and refuses
// after it; `-secret NEW` accepts both.
func TestSinkOldSecretDuringRotation(t *testing.T) {
	const oldSecret, newSecret = "whsec_b2xkLXNlY3JldC1iZWluZy1yb3RhdGVkLW91dA==", "whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbg=="
	body := []byte(`{"creator":"minimuffin8888","platform":"tiktok"}`)
	for _, tc := range []struct {
		scheme, extra string
		old, new      string
	}{
		{"standard_webhooks", "", oldSecret, newSecret},
		{"hmac", "prefix = \"sha256=\"\n", "old-warehouse-secret", "new-warehouse-secret"},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			args := []string{"-scheme", tc.scheme}
			if tc.scheme == "hmac" {
				args = append(args, "-prefix", "sha256=")
			}
			oldURL, oldOut, stopOld := startSink(t, append([]string{"-secret", tc.old}, args...)...)
			newURL, _, _ := startSink(t, append([]string{"-secret", tc.new}, args...)...)

			signer := func(until time.Time) plugins.Signer {
				return mustSigner(t, tc.scheme, tc.extra+
					"secret = \""+tc.new+"\"\n"+
					"previous_secret = \""+tc.old+"\"\n"+
					"previous_until = \""+until.UTC().Format(time.RFC3339)+"\"\n")
			}
			deliver := func(s plugins.Signer, url string) (int, string) {
				h := http.Header{}
				s.Sign(h, plugins.Message{ID: "msg_rotation", Timestamp: time.Now(), Body: body})
				return post(t, url+"/tiktok", h, body)
			}
			during, after := signer(time.Now().Add(time.Hour)), signer(time.Now().Add(-time.Second))

			if status, answer := deliver(during, oldURL); status != http.StatusOK {
				t.Errorf("-secret OLD during the window: %d %s", status, answer)
			}
			if status, answer := deliver(after, oldURL); status != http.StatusUnauthorized || !strings.Contains(answer, "signature does not match") {
				t.Errorf("-secret OLD after the window: %d %s, want 401", status, answer)
			}
			for name, s := range map[string]plugins.Signer{"during": during, "after": after} {
				if status, answer := deliver(s, newURL); status != http.StatusOK {
					t.Errorf("-secret NEW %s the window: %d %s", name, status, answer)
				}
			}
			stopOld()
			for _, s := range []string{tc.old, tc.new, strings.TrimPrefix(tc.old, "whsec_"), strings.TrimPrefix(tc.new, "whsec_")} {
				if strings.Contains(oldOut.String(), s) {
					t.Errorf("the sink's output shows a secret:\n%s", oldOut.String())
				}
			}
		})
	}
}
