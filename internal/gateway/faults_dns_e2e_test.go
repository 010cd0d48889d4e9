package gateway_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	adminapi "github.com/hookgate/hookgate/internal/api"
)

// fakeDNS is a DNS server on a loopback address, port 53, that knows one
// name (answering A 127.0.0.1) once told to, and answers NXDOMAIN to
// everything else: the DNS a gateway in the test's own resolv.conf sees,
// so no query leaves the machine.
type fakeDNS struct {
	addr  string
	conn  net.PacketConn
	name  string // lower case, rooted
	known atomic.Bool
	asked atomic.Int64 // queries for name
	wg    sync.WaitGroup
}

// startFakeDNS listens on UDP port 53 of an address in 127/8 other than
// 127.0.0.1 (so a local resolver there is left alone) and serves until the
// test ends.
func startFakeDNS(t *testing.T, name string) *fakeDNS {
	t.Helper()
	d := &fakeDNS{name: strings.ToLower(strings.TrimSuffix(name, ".")) + "."}
	var err error
	for _, ip := range []string{"127.53.0.1", "127.53.0.2", "127.53.0.3"} {
		if d.conn, err = net.ListenPacket("udp", ip+":53"); err == nil {
			d.addr = ip
			break
		}
	}
	if d.conn == nil {
		t.Fatalf("listen on UDP port 53 of 127.53.0.x for the test's DNS server (the tests run as root in CI): %v", err)
	}
	d.wg.Go(d.serve)
	t.Cleanup(func() {
		d.conn.Close()
		d.wg.Wait()
	})
	return d
}

func (d *fakeDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if reply := d.answer(buf[:n]); reply != nil {
			d.conn.WriteTo(reply, from)
		}
	}
}

// answer builds the reply to query q, or nil when q is not a one-question
// query it can read.
func (d *fakeDNS) answer(q []byte) []byte {
	if len(q) < 12 || q[4] != 0 || q[5] != 1 {
		return nil
	}
	var labels []string
	off := 12
	for {
		if off >= len(q) {
			return nil
		}
		l := int(q[off])
		off++
		if l == 0 {
			break
		}
		if l > 63 || off+l > len(q) {
			return nil
		}
		labels = append(labels, strings.ToLower(string(q[off:off+l])))
		off += l
	}
	if off+4 > len(q) {
		return nil
	}
	qtype := int(q[off])<<8 | int(q[off+1])
	question := q[12 : off+4]
	rcode, answers := byte(3), 0 // NXDOMAIN
	if strings.Join(labels, ".")+"." == d.name {
		d.asked.Add(1)
		if d.known.Load() {
			rcode = 0
			if qtype == 1 { // A
				answers = 1
			}
		}
	}
	// Header: the query's id; a response, authoritative, with the query's
	// RD bit; recursion available; the rcode; one question.
	r := []byte{q[0], q[1], 0x84 | q[2]&0x01, 0x80 | rcode, 0, 1, 0, byte(answers), 0, 0, 0, 0}
	r = append(r, question...)
	if answers == 1 {
		// The question's name (a pointer to offset 12), A, IN, TTL 0,
		// 127.0.0.1.
		r = append(r, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1)
	}
	return r
}

// startInOwnResolver runs the gateway binary on config in a private mount
// namespace whose /etc/resolv.conf names only dns (the machine's file is
// not touched), and waits until it is healthy.
func startInOwnResolver(t *testing.T, dns *fakeDNS, config, ingest, admin string) *gatewayProc {
	t.Helper()
	for _, tool := range []string{"unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the DNS fault test runs the gateway in a mount namespace of its own (util-linux, mount)", tool)
		}
	}
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver "+dns.addr+"\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &gatewayProc{ingest: ingest, admin: admin, logs: &logBuffer{}}
	// unshare and sh exec in turn: the process is the gateway itself.
	p.cmd = exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" /etc/resolv.conf && exec "$2" run -config "$3"`, "sh", resolv, binary, config)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		p.cmd.Wait()
		close(exited)
	}()
	for deadline := time.Now().Add(30 * time.Second); ; {
		select {
		case <-exited:
			t.Fatalf("the gateway (in its own mount namespace: needs root or CAP_SYS_ADMIN, as CI has) exited: %v\n%s",
				p.cmd.ProcessState, p.logs)
		default:
		}
		if status("http://"+admin+"/healthz") == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			<-exited
			t.Fatalf("the gateway did not become healthy; logs:\n%s", p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill()
			<-exited
		}
	})
	return p
}

// TestFaultReceiverDNS: the destination's URL names a host that the DNS
// (a test server, in the gateway's own resolv.conf) does not know yet:
// each attempt fails with "no such host" and is retried on schedule;
// once the name resolves (to 127.0.0.1, where the receiver listens) the
// next attempt of every delivery succeeds.
func TestFaultReceiverDNS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	t.Parallel()
	const host = "receiver.hookgate.test" // RFC 6761: never a real name
	dns := startFakeDNS(t, host)
	sk := newSink(t)
	u, err := url.Parse(sk.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ingest, admin := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.hcl")
	cfg := fmt.Sprintf(`gateway {
  listen           = %q
  admin_listen     = %q
  shutdown_timeout = "5s"
}
storage "embedded" { path = "data/hookgate.db" }
source "partner" {
  path = "/in/partner"
  verify "hmac" {
    header = "X-Signature"
    secret = "e2e-secret"
  }
}
destination "receiver" {
  url           = "http://%s:%s/hooks"
  allow_private = true
  timeout       = "2s"
  retry {
    schedule = ["1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s"]
  }
}
route "all" {
  source       = "partner"
  destinations = ["receiver"]
}
`, ingest, admin, host, u.Port())
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startInOwnResolver(t, dns, config, ingest, admin)

	const total = 5
	l := runFaultLoad(ingest, "dns", total, 1, 20*time.Millisecond, time.Now().Add(30*time.Second), identBody)
	l.wg.Wait()
	if l.acceptedN.Load() != total {
		t.Fatalf("%d of %d events accepted; logs:\n%s", l.acceptedN.Load(), total, p.logs)
	}
	var list adminapi.Deliveries
	waitUntil(t, 30*time.Second, "every delivery to fail twice with a DNS error", func() bool {
		list = adminapi.Deliveries{}
		if api(t, "GET", "http://"+admin+"/api/deliveries?destination=receiver", "", &list) != http.StatusOK || len(list.Deliveries) != total {
			return false
		}
		for _, d := range list.Deliveries {
			if d.Status != "retrying" || d.Attempts < 2 || !strings.Contains(d.LastError, "no such host") {
				return false
			}
		}
		return true
	})
	if n := sk.n.Load(); n != 0 {
		t.Fatalf("the receiver got %d requests while its name did not resolve", n)
	}
	t.Logf("%d queries for %s answered NXDOMAIN; e.g. %q", dns.asked.Load(), host, list.Deliveries[0].LastError)

	dns.known.Store(true)
	dups := waitDelivered(t, sk, &l.load, time.Now().Add(30*time.Second), p.logs.String)
	for _, d := range list.Deliveries {
		var got adminapi.Delivery
		waitUntil(t, 30*time.Second, "delivery "+d.ID+" recorded as delivered", func() bool {
			return api(t, "GET", "http://"+admin+"/api/deliveries/"+d.ID, "", &got) == http.StatusOK && got.Status == "delivered"
		})
		n := len(got.AttemptLog)
		if n < 3 || got.AttemptLog[n-1].StatusCode != http.StatusOK {
			t.Errorf("delivery %s: attempts %+v; want DNS failures, then 200", d.ID, got.AttemptLog)
			continue
		}
		for _, a := range got.AttemptLog[:n-1] {
			if !strings.Contains(a.Error, "no such host") {
				t.Errorf("delivery %s: a failed attempt's error is %q, want a DNS error", d.ID, a.Error)
			}
		}
	}
	t.Logf("all %d delivered once %s resolved; %d duplicate deliveries", total, host, dups)
}
