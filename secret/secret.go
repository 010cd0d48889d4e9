// Package secret holds the Secret type: a string that never prints.
//
// Every credential hookgate reads from its config (plugin secrets, the admin
// token, a Redis URL with a password) is a Secret, so that logs, errors,
// traces and admin API answers cannot leak it by accident. Code that needs
// the value calls Reveal, which is easy to grep for.
package secret

import (
	"crypto/subtle"
	"log/slog"
	"net/url"
)

// Redacted is what a Secret prints as, in every format.
const Redacted = "[redacted]"

// Secret is a credential. Its zero value is the empty secret.
type Secret struct{ v string }

// New wraps s.
func New(s string) Secret { return Secret{v: s} }

// Reveal returns the credential itself. Call it only where the value is used
// (a MAC key, a header sent to a receiver), never to print it.
func (s Secret) Reveal() string { return s.v }

// Empty reports whether the secret is the empty string.
func (s Secret) Empty() bool { return s.v == "" }

// Equal compares the secret with a candidate in constant time.
func (s Secret) Equal(candidate string) bool {
	return subtle.ConstantTimeCompare([]byte(s.v), []byte(candidate)) == 1
}

// String implements fmt.Stringer and never shows the value.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer (%#v) and never shows the value.
func (s Secret) GoString() string { return Redacted }

// LogValue implements slog.LogValuer and never shows the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON encodes the secret as "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText encodes the secret as [redacted].
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// RedactURL returns raw without what may be credentials: the user info
// (shown as "redacted"), every query value and the fragment. It is for
// showing a configured URL (the dashboard, logs); an unparsable one is
// "[invalid url]".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[invalid url]"
	}
	if u.User != nil {
		u.User = url.User("redacted")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"redacted"}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment = ""
	return u.String()
}

// RedactURLPath is RedactURL that also replaces a path by "/[redacted]",
// for a URL whose path may be its credential (a Slack-style webhook URL).
func RedactURLPath(raw string) string {
	u, err := url.Parse(RedactURL(raw))
	if err != nil || u.Host == "" {
		return "[invalid url]"
	}
	HidePath(u)
	return u.String()
}

// HidePath replaces u's path, unless empty or "/", by "/[redacted]": for a
// URL whose path may be its credential.
func HidePath(u *url.URL) {
	if u.Path != "" && u.Path != "/" {
		u.Path, u.RawPath = "/"+Redacted, "/"+Redacted
	}
}
