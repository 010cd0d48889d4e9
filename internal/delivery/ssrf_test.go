package delivery

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
)

func TestPrivateAddress(t *testing.T) {
	cases := []struct {
		addr    string
		private bool
	}{
		// Loopback.
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"::1", true},
		// RFC 1918 and its edges.
		{"10.0.0.1", true},
		{"10.255.255.255", true},
		{"9.255.255.255", false},
		{"11.0.0.0", false},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"172.15.255.255", false},
		{"172.32.0.0", false},
		{"192.168.0.1", true},
		{"192.168.255.255", true},
		{"192.167.255.255", false},
		{"192.169.0.0", false},
		// Unique local IPv6, fc00::/7 (AWS's IPv6 metadata is fd00:ec2::254).
		{"fc00::1", true},
		{"fd12:3456:789a::1", true},
		{"fd00:ec2::254", true},
		{"fbff:ffff::1", false},
		// Link-local, cloud metadata.
		{"169.254.169.254", true},
		{"169.254.0.1", true},
		{"169.253.255.255", false},
		{"169.255.0.0", false},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"febf:ffff::1", true},
		{"fe7f::1", false},
		// Site-local (deprecated).
		{"fec0::1", true},
		// Unspecified, "this network", broadcast.
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"::", true},
		{"255.255.255.255", true},
		// Multicast.
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"ff02::1", true},
		{"ff05::2", true},
		{"ff0e::1", true},
		// CGNAT, RFC 6598.
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"100.63.255.255", false},
		{"100.128.0.0", false},
		// IPv4-mapped IPv6.
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.1.2.3", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:100.64.0.1", true},
		{"::ffff:0.0.0.0", true},
		{"::ffff:8.8.8.8", false},
		// IPv4-compatible IPv6 (deprecated) and NAT64.
		{"::127.0.0.1", true},
		{"::10.0.0.1", true},
		{"::8.8.8.8", false},
		{"64:ff9b::7f00:1", true},    // 127.0.0.1
		{"64:ff9b::a9fe:a9fe", true}, // 169.254.169.254
		{"64:ff9b::808:808", false},  // 8.8.8.8
		{"64:ff9b:1::808:808", true}, // local-use NAT64
		{"2001:4860:4860::8888", false},
		// IETF protocol assignments (RFC 6890), benchmarking (RFC 2544),
		// reserved (RFC 1112), and their edges.
		{"192.0.0.1", true},
		{"192.0.0.170", true},
		{"192.0.0.255", true},
		{"191.255.255.255", false},
		{"192.0.1.0", false},
		{"198.18.0.1", true},
		{"198.19.255.255", true},
		{"198.17.255.255", false},
		{"198.20.0.0", false},
		{"240.0.0.1", true},
		{"255.255.255.254", true},
		{"::ffff:198.18.0.1", true},
		{"64:ff9b::c612:1", true}, // 198.18.0.1
		// 6to4 (RFC 3056) embeds an IPv4 address in bits 16 to 47.
		{"2002:7f00:1::1", true},             // 127.0.0.1
		{"2002:a9fe:a9fe::1", true},          // 169.254.169.254
		{"2002:a00:1:1::1", true},            // 10.0.0.1
		{"2002:c612:1::1", true},             // 198.18.0.1
		{"2002:808:808::1", false},           // 8.8.8.8
		{"2002:5db8:d822::5db8:d822", false}, // 93.184.216.34
		// Teredo (RFC 4380), refused outright: it hides the client's IPv4
		// address and reaches it through a relay.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", true},
		{"2001::1", true},
		{"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"2001:1::1", false},
		// Public.
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"93.184.216.34", false},
		{"2606:4700:4700::1111", false},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(c.addr)
			if got := privateAddress(ip); got != c.private {
				t.Errorf("privateAddress(%s) = %v, want %v", c.addr, got, c.private)
			}
		})
	}
	t.Run("invalid", func(t *testing.T) {
		if !privateAddress(netip.Addr{}) {
			t.Error("the zero Addr is not refused")
		}
	})
}

func TestCheckDial(t *testing.T) {
	cases := []struct {
		address string
		want    string // "" for allowed
	}{
		{"127.0.0.1:8080", "destination address 127.0.0.1 is private (allow_private = false)"},
		{"[::1]:443", "destination address ::1 is private (allow_private = false)"},
		{"169.254.169.254:80", "destination address 169.254.169.254 is private (allow_private = false)"},
		{"[::ffff:10.0.0.1]:80", "destination address ::ffff:10.0.0.1 is private (allow_private = false)"},
		{"93.184.216.34:443", ""},
		{"[2606:4700:4700::1111]:443", ""},
		{"localhost:80", `destination address "localhost:80" cannot be checked`},
	}
	for _, c := range cases {
		t.Run(c.address, func(t *testing.T) {
			err := checkDial("tcp", c.address, nil)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want == "":
			case err == nil:
				t.Fatalf("allowed, want %q", c.want)
			case !strings.HasPrefix(err.Error(), c.want):
				t.Fatalf("error %q, want %q", err, c.want)
			}
		})
	}
}

// TestDialerRefusesPrivate dials a real loopback server: refused without
// allow_private (also through a name that resolves to loopback, so the check
// is on the address dialled), reached with it.
func TestDialerRefusesPrivate(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	get := func(t *testing.T, url string, allow bool) error {
		d := &config.Destination{Name: "d", URL: url, AllowPrivate: allow}
		c := newClient(d, 5*time.Second, 1)
		t.Cleanup(c.CloseIdleConnections)
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	t.Run("refused", func(t *testing.T) {
		err := get(t, srv.URL, false)
		var pe *PrivateAddressError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v, want a *PrivateAddressError", err)
		}
		if got, want := describe(err, 5*time.Second), "destination address 127.0.0.1 is private (allow_private = false)"; got != want {
			t.Errorf("attempt error %q, want %q", got, want)
		}
	})
	t.Run("refused by name", func(t *testing.T) {
		err := get(t, "http://localhost:"+port+"/", false)
		var pe *PrivateAddressError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v, want a *PrivateAddressError", err)
		}
	})
	if n := hits.Load(); n != 0 {
		t.Fatalf("the receiver was reached %d times while refused", n)
	}
	t.Run("allowed", func(t *testing.T) {
		if err := get(t, srv.URL, true); err != nil {
			t.Fatal(err)
		}
		if n := hits.Load(); n != 1 {
			t.Fatalf("receiver reached %d times, want 1", n)
		}
	})
}
