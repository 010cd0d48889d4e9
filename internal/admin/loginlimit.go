package admin

import (
	"net/netip"
	"sync"
	"time"
)

// The dashboard's login form is the one place the admin token can be
// guessed without a session, so failed logins are counted per client
// address: after loginMaxFailures within loginWindow, the address gets 429
// for loginBlock, whatever it sends. The address is the connection's peer
// (r.RemoteAddr), never a forwarded header a client can write; behind a
// reverse proxy every client shares the proxy's address.
const (
	loginMaxFailures = 10
	loginWindow      = time.Minute
	loginBlock       = time.Minute
	// loginMaxClients bounds the addresses remembered at once. Past it,
	// addresses not yet remembered share one count, so many addresses
	// cannot grow the map, nor guess at full speed.
	loginMaxClients = 10_000
)

// loginLimit counts failed logins per client.
type loginLimit struct {
	mu      sync.Mutex
	clients map[netip.Prefix]*loginClient
}

// loginClient is one client's recent failures.
type loginClient struct {
	// failures are the times of its failures within the window, oldest
	// first; at most loginMaxFailures.
	failures     []time.Time
	blockedUntil time.Time
}

// clientKey is the client a remote address (ip:port) counts as: an IPv4
// address, or an IPv6 /64 (one machine usually holds a whole /64).
// Addresses that do not parse share the zero key.
func clientKey(remote string) netip.Prefix {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Prefix{}
	}
	a := ap.Addr().Unmap().WithZone("")
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// wait is how long client must wait before it may try again; 0 when it
// may now.
func (l *loginLimit) wait(client netip.Prefix, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[l.key(client)]
	if c == nil || !now.Before(c.blockedUntil) {
		return 0
	}
	return c.blockedUntil.Sub(now)
}

// fail counts a failed login of client, and reports whether it blocks the
// client from now.
func (l *loginLimit) fail(client netip.Prefix, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients == nil {
		l.clients = map[netip.Prefix]*loginClient{}
	}
	if _, ok := l.clients[client]; !ok && len(l.clients) >= loginMaxClients {
		l.prune(now)
	}
	client = l.key(client)
	c := l.clients[client]
	if c == nil {
		c = &loginClient{}
		l.clients[client] = c
	}
	recent := c.failures[:0]
	for _, t := range c.failures {
		if now.Sub(t) < loginWindow {
			recent = append(recent, t)
		}
	}
	c.failures = append(recent, now)
	if len(c.failures) < loginMaxFailures {
		return false
	}
	c.failures = c.failures[:0]
	c.blockedUntil = now.Add(loginBlock)
	return true
}

// succeed forgets client's failures after a login with the right token.
func (l *loginLimit) succeed(client netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.clients[client]; c != nil && len(c.failures) > 0 {
		c.failures = c.failures[:0]
	}
}

// key is client, or the shared overflow key when the map is full and does
// not hold client. l.mu is held.
func (l *loginLimit) key(client netip.Prefix) netip.Prefix {
	if _, ok := l.clients[client]; ok || len(l.clients) < loginMaxClients {
		return client
	}
	return netip.Prefix{}
}

// prune forgets the clients neither blocked nor with a failure within the
// window. l.mu is held.
func (l *loginLimit) prune(now time.Time) {
	for k, c := range l.clients {
		if !now.Before(c.blockedUntil) && (len(c.failures) == 0 || now.Sub(c.failures[len(c.failures)-1]) >= loginWindow) {
			delete(l.clients, k)
		}
	}
}
