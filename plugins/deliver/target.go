package deliver

import (
	"net"
	"net/url"
	"strconv"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

// urlTarget fills t's server, port and shown address from a broker URL,
// never keeping its password or query. def is the scheme's default port.
func urlTarget(t plugins.Target, raw string, def int) plugins.Target {
	t.Shown = secret.RedactURL(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return t
	}
	t.Server = u.Hostname()
	t.Port = def
	if p, err := strconv.Atoi(u.Port()); err == nil {
		t.Port = p
	}
	return t
}

// hostPortTarget fills t's server and port from a host:port address.
func hostPortTarget(t plugins.Target, addr string, def int) plugins.Target {
	t.Shown = addr
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Server, t.Port = addr, def
		return t
	}
	t.Server = host
	t.Port = def
	if p, err := strconv.Atoi(port); err == nil {
		t.Port = p
	}
	return t
}

// checkURL checks that raw is an absolute URL of one of schemes, for the
// attribute attr; the message never repeats the URL, which may hold a
// password.
func checkURL(attr, raw string, schemes ...string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, spec.Errorf(attr, "the value given is not an absolute URL, such as %q", schemes[0]+"://127.0.0.1")
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return u, nil
		}
	}
	return nil, spec.Errorf(attr, "the URL's scheme must be %s, not %q", orList(schemes), u.Scheme)
}

// orList writes "a", "a or b", "a, b or c" with each quoted.
func orList(l []string) string {
	s := ""
	for i, v := range l {
		switch {
		case i == 0:
		case i == len(l)-1:
			s += " or "
		default:
			s += ", "
		}
		s += strconv.Quote(v)
	}
	return s
}
