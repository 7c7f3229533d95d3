package smtptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mxclient/mxclient/dane/danetest"
)

// rawClient speaks SMTP to a test server line by line.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, s *Server) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// reply reads one reply and returns its lines without line endings.
func (c *rawClient) reply() []string {
	c.t.Helper()
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading a reply after %q: %v", lines, err)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return lines
		}
	}
}

// cmd sends line and returns the reply's lines.
func (c *rawClient) cmd(line string) []string {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
	return c.reply()
}

func (c *rawClient) expect(line string, code string) []string {
	c.t.Helper()
	got := c.cmd(line)
	if !strings.HasPrefix(got[len(got)-1], code) {
		c.t.Fatalf("reply to %q = %q, want %s", line, got, code)
	}
	return got
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitDone waits until the server has seen the end of every connection.
func waitDone(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		done := true
		for _, c := range s.Connections() {
			done = done && c.Done
		}
		if done {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the server did not see the connections end within 5s")
}

func testTLS() *tls.Config {
	cert := danetest.NewSelfSigned(danetest.Options{DNSNames: []string{"mx.example.net"}})
	return &tls.Config{Certificates: []tls.Certificate{danetest.TLSCertificate(cert)}}
}

func TestServerTransaction(t *testing.T) {
	s := start(t, Config{TLS: testTLS(), MaxSize: 1 << 20})
	c := dial(t, s)
	if greeting := c.reply(); !strings.HasPrefix(greeting[0], "220 mx.smtptest.invalid") {
		t.Fatalf("greeting = %q", greeting)
	}
	ehlo := strings.Join(c.expect("EHLO client.example.org", "250"), "\n")
	for _, want := range []string{"250-8BITMIME", "SIZE 1048576", "250 STARTTLS"} {
		if !strings.Contains(ehlo, want) {
			t.Errorf("EHLO reply lacks %q:\n%s", want, ehlo)
		}
	}
	for _, absent := range []string{"PIPELINING", "CHUNKING", "SMTPUTF8"} {
		if strings.Contains(ehlo, absent) {
			t.Errorf("EHLO reply offers %s:\n%s", absent, ehlo)
		}
	}
	c.expect("MAIL FROM:<a@example.org> SIZE=20 BODY=8BITMIME", "250")
	c.expect("RCPT TO:<b@example.net>", "250")
	c.expect("DATA", "354")
	c.expect("Subject: x\r\n\r\n..dot\r\n.", "250")
	c.expect("QUIT", "221")
	s.Close()

	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("Messages() has %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "a@example.org" || len(m.To) != 1 || m.To[0] != "b@example.net" ||
		string(m.Data) != "Subject: x\r\n\r\n.dot\r\n" || m.SizeParam != 20 || m.Body != "8BITMIME" ||
		m.TLS || m.Helo != "client.example.org" {
		t.Errorf("message = %+v", m)
	}
	conns := s.Connections()
	want := "EHLO client.example.org\r\nMAIL FROM:<a@example.org> SIZE=20 BODY=8BITMIME\r\n" +
		"RCPT TO:<b@example.net>\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n"
	if got := string(conns[0].Received); got != want {
		t.Errorf("Received = %q, want %q", got, want)
	}
	if !bytes.HasPrefix(conns[0].Sent, []byte("220 ")) || !bytes.HasSuffix(conns[0].Sent, []byte("Bye\r\n")) {
		t.Errorf("Sent = %q", conns[0].Sent)
	}
	if !conns[0].Done {
		t.Error("connection not marked done after Close")
	}
}

func TestServerRecordsInsideTLS(t *testing.T) {
	s := start(t, Config{TLS: testTLS()})
	c := dial(t, s)
	c.reply()
	c.expect("EHLO client.example.org", "250")
	c.expect("STARTTLS", "220")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
	ehlo := strings.Join(c.expect("EHLO again.example.org", "250"), "\n")
	if strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("EHLO reply after TLS offers STARTTLS:\n%s", ehlo)
	}
	c.expect("MAIL FROM:<a@example.org>", "250")
	c.expect("RCPT TO:<b@example.net>", "250")
	c.expect("DATA", "354")
	c.expect("secret\r\n.", "250")
	c.expect("QUIT", "221")
	s.Close()

	conn := s.Connections()[0]
	if conn.TLS == nil {
		t.Fatal("Connection.TLS not set after STARTTLS")
	}
	if !bytes.Contains(conn.Received, []byte("\r\nDATA\r\nsecret\r\n.\r\n")) {
		t.Errorf("Received lacks the decrypted content:\n%q", conn.Received)
	}
	if m := s.Messages(); len(m) != 1 || !m[0].TLS || m[0].Helo != "again.example.org" {
		t.Errorf("Messages() = %+v, want one over TLS from again.example.org", m)
	}
}

func TestServerScriptedReplies(t *testing.T) {
	s := start(t, Config{Script: Script{
		Greeting: &Reply{Code: 220, Text: "first\nsecond"},
		MAIL:     &Reply{Code: 250, Text: "2.1.0 sender fine"},
		RCPT:     map[string]Reply{"gone@example.net": {Code: 550, Text: "5.1.1 gone"}},
	}})
	c := dial(t, s)
	if got := c.reply(); len(got) != 2 || got[0] != "220-first" || got[1] != "220 second" {
		t.Errorf("greeting = %q", got)
	}
	c.expect("EHLO client.example.org", "250")
	if got := c.cmd("MAIL FROM:<a@example.org>"); got[0] != "250 2.1.0 sender fine" {
		t.Errorf("reply to MAIL = %q", got)
	}
	if got := c.cmd("RCPT TO:<gone@example.net>"); got[0] != "550 5.1.1 gone" {
		t.Errorf("reply to RCPT = %q", got)
	}
	c.expect("RCPT TO:<b@example.net>", "250")
	c.expect("DATA", "354")
	c.expect("x\r\n.", "250")
	s.Close()
	if m := s.Messages(); len(m) != 1 || len(m[0].To) != 1 || m[0].To[0] != "b@example.net" {
		t.Errorf("Messages() = %+v, want one for b@example.net only", m)
	}
}

func TestServerScriptedDATAAndEndOfData(t *testing.T) {
	s := start(t, Config{Script: Script{EndOfData: &Reply{Code: 554, Text: "5.7.1 no"}}})
	c := dial(t, s)
	c.reply()
	c.expect("EHLO client.example.org", "250")
	c.expect("MAIL FROM:<a@example.org>", "250")
	c.expect("RCPT TO:<b@example.net>", "250")
	c.expect("DATA", "354")
	c.expect("x\r\n.", "554 5.7.1 no")
	// The session goes on: a second transaction is accepted.
	s.SetScript(Script{DATA: &Reply{Code: 451, Text: "4.3.0 not now"}})
	c.expect("MAIL FROM:<a@example.org>", "250")
	c.expect("RCPT TO:<b@example.net>", "250")
	c.expect("DATA", "354")
	c.expect("y\r\n.", "554")

	// A new connection gets the new script.
	c2 := dial(t, s)
	c2.reply()
	c2.expect("EHLO client.example.org", "250")
	c2.expect("MAIL FROM:<a@example.org>", "250")
	c2.expect("RCPT TO:<b@example.net>", "250")
	c2.expect("DATA", "451 4.3.0 not now")
	c2.expect("QUIT", "221")
	s.Close()
	if m := s.Messages(); len(m) != 0 {
		t.Errorf("Messages() = %+v, want none", m)
	}
}

func TestServerInjection(t *testing.T) {
	s := start(t, Config{TLS: testTLS(), Script: Script{Inject: "250 injected\r\n"}})
	c := dial(t, s)
	c.reply()
	c.expect("EHLO client.example.org", "250")
	c.expect("STARTTLS", "220")
	line, err := c.r.ReadString('\n')
	if err != nil || line != "250 injected\r\n" {
		t.Errorf("after the 220 reply: %q, %v; want the injected line", line, err)
	}
	c.conn.Close()
	s.Close()
	if sent := s.Connections()[0].Sent; !bytes.HasSuffix(sent, []byte("TLS\r\n250 injected\r\n")) {
		t.Errorf("Sent = %q", sent)
	}
}

func TestServerHangupAfterFinalDot(t *testing.T) {
	s := start(t, Config{Script: Script{Hangup: EndOfData}})
	c := dial(t, s)
	c.reply()
	c.expect("EHLO client.example.org", "250")
	c.expect("MAIL FROM:<a@example.org>", "250")
	c.expect("RCPT TO:<b@example.net>", "250")
	c.expect("DATA", "354")
	io.WriteString(c.conn, "x\r\n.\r\n")
	if b, err := c.r.ReadByte(); err != io.EOF {
		t.Errorf("after the final dot: %q, %v; want the connection closed", b, err)
	}
	s.Close()
	if m := s.Messages(); len(m) != 1 {
		t.Errorf("Messages() has %d messages, want the one accepted before the hangup", len(m))
	}
}

func TestServerStall(t *testing.T) {
	s := start(t, Config{Script: Script{Stall: MAIL}})
	c := dial(t, s)
	c.reply()
	c.expect("EHLO client.example.org", "250")
	io.WriteString(c.conn, "MAIL FROM:<a@example.org>\r\n")
	c.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.r.ReadByte(); err == nil {
		t.Error("the server replied to MAIL while stalled")
	}
	io.WriteString(c.conn, "QUIT\r\n")
	c.conn.Close()
	waitDone(t, s)
	s.Close()
	if got := string(s.Connections()[0].Received); !strings.HasSuffix(got, "QUIT\r\n") {
		t.Errorf("a stalled server stopped recording: %q", got)
	}
}

func TestServerLongReplyAndRaw(t *testing.T) {
	long := strings.Repeat("x", 2000)
	s := start(t, Config{Script: Script{
		EHLO: &Reply{Code: 250, Text: "mx\n" + long},
		HELO: &Reply{Raw: "garbage without a code"},
	}})
	c := dial(t, s)
	c.reply()
	if got := c.cmd("EHLO client.example.org"); len(got) != 2 || got[1] != "250 "+long {
		t.Errorf("EHLO reply has %d lines", len(got))
	}
	io.WriteString(c.conn, "HELO client.example.org\r\n")
	c.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	raw, _ := io.ReadAll(c.r)
	if string(raw) != "garbage without a code" {
		t.Errorf("raw reply = %q", raw)
	}
}

func TestServerRecordLimit(t *testing.T) {
	s := start(t, Config{RecordLimit: 10, DiscardContent: true})
	c := dial(t, s)
	c.reply()
	c.expect("EHLO client.example.org", "250")
	c.expect("MAIL FROM:<a@example.org>", "250")
	c.expect("RCPT TO:<b@example.net>", "250")
	c.expect("DATA", "354")
	c.expect("content\r\n.", "250")
	s.Close()
	conn := s.Connections()[0]
	if len(conn.Received) != 10 || !conn.Truncated {
		t.Errorf("Received has %d octets, truncated %v; want 10, true", len(conn.Received), conn.Truncated)
	}
	m := s.Messages()[0]
	if m.Data != nil || m.Size != 9 {
		t.Errorf("message with DiscardContent: %d octets kept, size %d; want none, 9", len(m.Data), m.Size)
	}
}

func TestStartAddresses(t *testing.T) {
	if _, err := Start(Config{Addr: netip.MustParseAddr("192.0.2.1")}); err == nil {
		t.Error("Start on a non-loopback address succeeded")
	}
	s := start(t, Config{})
	if a := s.Addr().Addr(); !a.Is4() || a.As4()[0] != 127 || a.As4()[1] == 0 || s.Addr().Port() == 0 {
		t.Errorf("Addr() = %v, want 127.X.Y.Z with X ≠ 0 and a port", s.Addr())
	}
	fixed := start(t, Config{Addr: netip.MustParseAddr("127.0.0.1")})
	if fixed.Addr().Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("Addr() = %v, want 127.0.0.1", fixed.Addr())
	}
}

// TestContentScanner checks that the front end ends message content
// where go-smtp's reader does: at a line of one dot after CRLF.
func TestContentScanner(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		done bool
	}{
		{".\r\nQUIT", 3, true},
		{"a\r\n.\r\nQUIT", 6, true},
		{"a\n.\nb", 5, false},
		{"a\r.\rb", 5, false},
		{"a\r\r\n.\r\n", 7, false},
		{"a\r\n..\r\n.\r\n", 10, true},
		{"a\r\n.\r\r\n.\r\n", 10, false},
	}
	for _, tt := range tests {
		var s contentScanner
		n, done := s.scan([]byte(tt.in))
		if n != tt.n || done != tt.done {
			t.Errorf("scan(%q) = %d, %v; want %d, %v", tt.in, n, done, tt.n, tt.done)
		}
		// Byte by byte gives the same end.
		s = contentScanner{}
		for i := range len(tt.in) {
			if _, done := s.scan([]byte{tt.in[i]}); done {
				if !tt.done || i+1 != tt.n {
					t.Errorf("scan(%q) byte by byte ended at %d", tt.in, i+1)
				}
				break
			}
		}
	}
}
