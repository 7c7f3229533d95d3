package smtp

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mxclient/mxclient/smtp/smtptest"
)

// socks5Server is a minimal SOCKS5 proxy (RFC 1928) without
// authentication that records each CONNECT request and connects only to
// loopback addresses.
type socks5Server struct {
	ln       net.Listener
	mu       sync.Mutex
	requests []socks5Request
	wg       sync.WaitGroup
}

// socks5Request is a CONNECT request as the proxy received it.
type socks5Request struct {
	AddrType byte // 1 IPv4, 3 domain name, 4 IPv6
	Addr     netip.AddrPort
}

func startSOCKS5(t *testing.T) *socks5Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &socks5Server{ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *socks5Server) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// Greeting: version, number of methods, methods; the reply picks
	// "no authentication".
	head := make([]byte, 2)
	if _, err := io.ReadFull(c, head); err != nil || head[0] != 5 {
		return
	}
	if _, err := io.ReadFull(c, make([]byte, head[1])); err != nil {
		return
	}
	c.Write([]byte{5, 0})

	// Request: version, CONNECT, reserved, address type, address, port.
	req := make([]byte, 4)
	if _, err := io.ReadFull(c, req); err != nil || req[1] != 1 {
		return
	}
	var addr netip.Addr
	switch req[3] {
	case 1, 4:
		ip := make([]byte, 4)
		if req[3] == 4 {
			ip = make([]byte, 16)
		}
		io.ReadFull(c, ip)
		addr, _ = netip.AddrFromSlice(ip)
	case 3:
		n := make([]byte, 1)
		io.ReadFull(c, n)
		io.ReadFull(c, make([]byte, n[0]))
	}
	port := make([]byte, 2)
	io.ReadFull(c, port)
	target := netip.AddrPortFrom(addr, binary.BigEndian.Uint16(port))
	p.mu.Lock()
	p.requests = append(p.requests, socks5Request{AddrType: req[3], Addr: target})
	p.mu.Unlock()

	if req[3] == 3 || !addr.IsLoopback() {
		c.Write([]byte{5, 2, 0, 1, 0, 0, 0, 0, 0, 0}) // connection not allowed
		return
	}
	up, err := net.Dial("tcp", target.String())
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0}) // connection refused
		return
	}
	defer up.Close()
	c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 0})
	c.SetDeadline(time.Time{})
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); up.Close(); done <- struct{}{} }()
	go func() { io.Copy(c, up); c.Close(); done <- struct{}{} }()
	<-done
	<-done
}

func (p *socks5Server) Requests() []socks5Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]socks5Request(nil), p.requests...)
}

// deliverThrough runs a whole session with DANE through d.
func deliverThrough(t *testing.T, srv *smtptest.Server, d Dialer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := Dial(ctx, srv.Addr(), d)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	s, err := NewSession(ctx, conn, SessionConfig{Helo: testHelo, TLS: daneTLS(t), RequireTLS: true,
		Timeouts: testTimeouts})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	if err := transact(s, testFrom, []string{testTo}, newMessage(t, "Subject: proxied\n\nbody\n")); err != nil {
		t.Fatalf("transaction: %v", err)
	}
	if err := s.Quit(); err != nil {
		t.Errorf("Quit = %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !msgs[0].TLS {
		t.Fatalf("server messages = %+v, want one over TLS", msgs)
	}
}

func TestDialSOCKS5(t *testing.T) {
	proxy := startSOCKS5(t)
	srv := startReceiver(t, smtptest.Config{})
	d, err := NewSOCKS5Dialer("socks5://" + proxy.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	deliverThrough(t, srv, d)
	want := []socks5Request{{AddrType: 1, Addr: srv.Addr()}}
	if got := proxy.Requests(); !slices.Equal(got, want) {
		t.Errorf("CONNECT requests = %+v, want %+v", got, want)
	}
}

func TestDialSOCKS5Refused(t *testing.T) {
	proxy := startSOCKS5(t)
	d, err := NewSOCKS5Dialer("socks5://" + proxy.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// A loopback port that nothing listens on: the proxy reports the
	// refused connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	_, err = Dial(context.Background(), closed, d)
	if err == nil || !strings.Contains(err.Error(), "through SOCKS5 proxy") {
		t.Errorf("Dial through the proxy to a closed port = %v, want a SOCKS5 error", err)
	}
	if _, err := d.DialContext(context.Background(), "tcp", "mx.example.net:25"); err == nil {
		t.Error("the SOCKS5 dialer accepted a host name")
	}
}

func TestNewSOCKS5DialerRejects(t *testing.T) {
	for _, u := range []string{
		"http://127.0.0.1:1080", "socks5://127.0.0.1", "socks5://:1080", "socks5h://127.0.0.1:1080",
		"socks5://127.0.0.1:1080/path", "127.0.0.1:1080",
	} {
		if _, err := NewSOCKS5Dialer(u); err == nil {
			t.Errorf("NewSOCKS5Dialer(%q) succeeded", u)
		}
	}
}

func TestProxyCommandSocat(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		skipMissingTool(t, "socat not found (Debian package socat)")
	}
	srv := startReceiver(t, smtptest.Config{})
	d, err := NewProxyCommand("socat - TCP:%h:%p")
	if err != nil {
		t.Fatal(err)
	}
	deliverThrough(t, srv, d)
}

func TestProxyCommandSocatIPv6(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		skipMissingTool(t, "socat not found (Debian package socat)")
	}
	cert, _ := testCerts()
	srv, err := smtptest.Start(smtptest.Config{Addr: netip.IPv6Loopback(), Domain: mxName,
		TLS: serverTLS(cert)})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	d, err := NewProxyCommand("socat - TCP6:%h:%p")
	if err != nil {
		t.Fatal(err)
	}
	deliverThrough(t, srv, d)
}

func TestProxyCommandArgs(t *testing.T) {
	v4 := netip.MustParseAddrPort("192.0.2.1:25")
	v6 := netip.MustParseAddrPort("[2001:db8::1]:25")
	mapped := netip.MustParseAddrPort("[::ffff:192.0.2.1]:25")
	tests := []struct {
		command string
		addr    netip.AddrPort
		want    []string
	}{
		{"ssh -W %h:%p relay", v4, []string{"ssh", "-W", "192.0.2.1:25", "relay"}},
		{"ssh -W %h:%p relay", v6, []string{"ssh", "-W", "[2001:db8::1]:25", "relay"}},
		{"ssh -W %h:%p relay", mapped, []string{"ssh", "-W", "192.0.2.1:25", "relay"}},
		{"nc -X 5 %h %p", v4, []string{"nc", "-X", "5", "192.0.2.1", "25"}},
		{`cmd 'a b' "c d" e\ f`, v4, []string{"cmd", "a b", "c d", "e f"}},
		{`cmd '%h' "x\"y\\z" '' ""`, v4, []string{"cmd", "192.0.2.1", `x"y\z`, "", ""}},
		{"  cmd\t100%%  ", v4, []string{"cmd", "100%"}},
		{`cmd $HOME;ls |x $(id) ` + "`id`", v4, []string{"cmd", "$HOME;ls", "|x", "$(id)", "`id`"}},
	}
	for _, tt := range tests {
		p, err := NewProxyCommand(tt.command)
		if err != nil {
			t.Errorf("NewProxyCommand(%q) = %v", tt.command, err)
			continue
		}
		if diff := cmp.Diff(tt.want, p.Args(tt.addr)); diff != "" {
			t.Errorf("NewProxyCommand(%q).Args(%v) (-want +got):\n%s", tt.command, tt.addr, diff)
		}
	}
}

func TestNewProxyCommandRejects(t *testing.T) {
	for _, command := range []string{
		"", "   ", "cmd 'open", `cmd "open`, `cmd \`, "cmd %x", "cmd %", "cmd\nrm -rf /",
	} {
		if _, err := NewProxyCommand(command); err == nil {
			t.Errorf("NewProxyCommand(%q) succeeded", command)
		}
	}
}

// TestProxyCommandNoShell passes shell syntax to echo, which prints it
// back unchanged because no shell interprets it.
func TestProxyCommandNoShell(t *testing.T) {
	p, err := NewProxyCommand("echo %h:%p $HOME;true `id` $(id) > /dev/null")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := Dial(context.Background(), netip.MustParseAddrPort("[2001:db8::25]:2525"), p)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	want := "[2001:db8::25]:2525 $HOME;true `id` $(id) > /dev/null\n"
	if string(got) != want {
		t.Errorf("the command printed %q, want %q", got, want)
	}
}

func TestProxyCommandCloseKillsChild(t *testing.T) {
	p, err := NewProxyCommand("sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := Dial(context.Background(), netip.MustParseAddrPort("127.0.0.1:25"), p)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := conn.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Close took %v", elapsed)
	}
	state := conn.(*commandConn).cmd.ProcessState
	if state == nil {
		t.Fatal("Close did not wait for the command")
	}
	if state.Success() {
		t.Error("the command ended normally, want it killed")
	}
}

func TestProxyCommandDeadline(t *testing.T) {
	p, err := NewProxyCommand("sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := Dial(context.Background(), netip.MustParseAddrPort("127.0.0.1:25"), p)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(100 * time.Millisecond))
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Read after the deadline = %v, want a timeout", err)
	}
}

func TestProxyCommandMissingProgram(t *testing.T) {
	p, err := NewProxyCommand("/nonexistent/mxclient-proxy %h")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Dial(context.Background(), netip.MustParseAddrPort("127.0.0.1:25"), p)
	if err == nil || !strings.Contains(err.Error(), "starting the proxy command") {
		t.Errorf("Dial = %v, want an error starting the command", err)
	}
}

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	_, err = Dial(context.Background(), addr, nil)
	if err == nil || !strings.Contains(err.Error(), "smtp: connecting to "+addr.String()) {
		t.Errorf("Dial to a closed port = %v, want an error naming %s", err, addr)
	}
	if _, err := Dial(context.Background(), netip.AddrPort{}, nil); err == nil {
		t.Error("Dial to the zero address succeeded")
	}
}
