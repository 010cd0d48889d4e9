package deliver

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/secret"
)

// errClosed is the failure of an attempt made after Close.
var errClosed = errors.New("destination closed")

// scrubber removes a URL's credentials from error texts: a client library
// may repeat the URL it was given.
type scrubber []string

// newScrubber returns the scrubber of the broker URL raw: its password
// and its whole text, when it has credentials.
func newScrubber(raw string) scrubber {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return nil
	}
	s := scrubber{raw}
	if p, has := u.User.Password(); has {
		s = append(s, p, url.QueryEscape(p), url.PathEscape(p))
	} else if n := u.User.Username(); n != "" {
		// A user name without a password is a token (nats://TOKEN@host).
		s = append(s, n, url.QueryEscape(n))
	}
	return s
}

// text is err's message without any of s's secrets.
func (s scrubber) text(err error) string {
	msg := err.Error()
	for _, v := range s {
		if v != "" {
			msg = strings.ReplaceAll(msg, v, secret.Redacted)
		}
	}
	return msg
}

// failure is a retryable Sent for err, with its error type.
func (s scrubber) failure(err error) plugins.Sent {
	return plugins.Sent{Err: s.text(err), ErrType: errType(err)}
}

// errType names a transport failure for a span's error.type.
func errType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection_reset"
	case errors.Is(err, errClosed):
		return "closed"
	}
	return ""
}
