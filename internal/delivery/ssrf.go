package delivery

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// PrivateAddressError is the error of a connection refused because the
// address dialled is loopback, private, link-local or otherwise internal,
// and the destination does not set allow_private. The attempt retries like
// any connection error: a reload may fix the config or the DNS may change.
type PrivateAddressError struct {
	// Addr is the address that was about to be dialled.
	Addr netip.Addr
}

// Error says which address was refused and why.
func (e *PrivateAddressError) Error() string {
	return fmt.Sprintf("destination address %s is private (allow_private = false)", e.Addr)
}

// Ranges refused besides those the netip predicates name.
var (
	cgnat        = netip.MustParsePrefix("100.64.0.0/10")  // RFC 6598 shared address space
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")      // RFC 1122 "this network"; Linux routes 0.x to the host
	broadcast    = netip.MustParseAddr("255.255.255.255")  // limited broadcast
	siteLocal    = netip.MustParsePrefix("fec0::/10")      // deprecated site-local, still routed by some stacks
	nat64        = netip.MustParsePrefix("64:ff9b::/96")   // RFC 6052: embeds an IPv4 address a NAT64 gateway reaches
	ipv4Compat   = netip.MustParsePrefix("::/96")          // deprecated IPv4-compatible IPv6 (also :: and ::1)
	nat64Private = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215 local-use NAT64 prefix
	ietf         = netip.MustParsePrefix("192.0.0.0/24")   // RFC 6890 IETF protocol assignments (DS-Lite, NAT64 discovery)
	benchmarking = netip.MustParsePrefix("198.18.0.0/15")  // RFC 2544 network device benchmarking
	reserved     = netip.MustParsePrefix("240.0.0.0/4")    // RFC 1112 reserved "class E", broadcast included
	sixToFour    = netip.MustParsePrefix("2002::/16")      // RFC 3056 6to4: an IPv4 address in bits 16 to 47
	teredo       = netip.MustParsePrefix("2001::/32")      // RFC 4380 Teredo: an obfuscated IPv4 client behind a relay
)

// privateAddress reports whether ip is an address a destination must not
// reach without allow_private: loopback, private (RFC 1918, fc00::/7),
// link-local (169.254/16, where cloud metadata answers, and fe80::/10),
// unspecified, multicast, CGNAT (100.64/10), 0/8, IETF protocol assignments
// (192.0.0/24), benchmarking (198.18/15), reserved (240/4, with broadcast),
// site-local, and IPv4 addresses embedded in IPv6 (mapped, compatible,
// NAT64, 6to4) when the embedded address is one of those. Teredo
// (2001::/32) is refused outright: its client address is obfuscated and
// reached through a relay, and no receiver needs it.
func privateAddress(ip netip.Addr) bool {
	if !ip.IsValid() {
		return true
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	if ip.Is4() {
		return cgnat.Contains(ip) || thisNetwork.Contains(ip) || ip == broadcast ||
			ietf.Contains(ip) || benchmarking.Contains(ip) || reserved.Contains(ip)
	}
	if siteLocal.Contains(ip) || nat64Private.Contains(ip) || teredo.Contains(ip) {
		return true
	}
	b := ip.As16()
	switch {
	case nat64.Contains(ip) || ipv4Compat.Contains(ip):
		return privateAddress(netip.AddrFrom4([4]byte(b[12:])))
	case sixToFour.Contains(ip):
		return privateAddress(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return false
}

// checkDial is a net.Dialer Control function that refuses private
// addresses. It runs on the address actually dialled, after DNS resolution,
// so a name that resolves (or later rebinds) to a private address is caught
// too.
func checkDial(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Fail closed: an address we cannot read is not one we can vouch for.
		return fmt.Errorf("destination address %q cannot be checked: %w", address, err)
	}
	if privateAddress(ap.Addr()) {
		return &PrivateAddressError{Addr: ap.Addr()}
	}
	return nil
}

// newDialer returns the dialer a destination's transport connects with.
func newDialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = checkDial
	}
	return d
}
