package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dane/danetest"
	"github.com/mxclient/mxclient/smtp/smtptest"
)

// mxName is the name of the test servers' certificates.
const mxName = "mx.example.net"

// testHelo is the EHLO name of the test client.
const testHelo = "client.example.org"

// testCert is a certificate for mxName; otherCert is one that no TLSA
// record in the tests matches.
var (
	certOnce            sync.Once
	testCert, otherCert *danetest.Cert

	rsaOnce sync.Once
	rsaLeaf *danetest.Cert
)

func testCerts() (*danetest.Cert, *danetest.Cert) {
	certOnce.Do(func() {
		testCert = danetest.NewSelfSigned(danetest.Options{DNSNames: []string{mxName}})
		otherCert = danetest.NewSelfSigned(danetest.Options{DNSNames: []string{mxName}})
	})
	return testCert, otherCert
}

// serverTLS returns a server configuration that presents cert.
func serverTLS(cert *danetest.Cert) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{danetest.TLSCertificate(cert)}}
}

// daneTLS returns a client configuration that accepts only testCert, by
// a DANE-EE record, as a delivery with usable TLSA records does.
func daneTLS(t *testing.T) *tls.Config {
	t.Helper()
	cert, _ := testCerts()
	rr, err := dane.NewTLSA(dane.OwnerName(mxName, 25), dane.DANEEE, dane.SelectorSPKI,
		dane.MatchingSHA256, cert.Cert)
	if err != nil {
		t.Fatal(err)
	}
	v := &dane.Verifier{Set: dane.Classify([]*dns.TLSA{rr}), BaseDomain: mxName + "."}
	cfg, _ := v.TLSConfig()
	return cfg
}

// startReceiver starts an smtptest server that presents testCert, unless
// cfg sets another configuration, and closes it when the test ends.
func startReceiver(t testing.TB, cfg smtptest.Config) *smtptest.Server {
	t.Helper()
	if cfg.TLS == nil {
		cert, _ := testCerts()
		cfg.TLS = serverTLS(cert)
	}
	cfg.Domain = mxName
	srv, err := smtptest.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// quickTimeouts are short stage timeouts for tests of stalled servers,
// long enough for the stages before the stall on a loaded machine.
var quickTimeouts = Timeouts{
	Greeting: 500 * time.Millisecond, EHLO: 500 * time.Millisecond,
	STARTTLS: 500 * time.Millisecond, MAIL: 500 * time.Millisecond,
	RCPT: 500 * time.Millisecond, DATA: 500 * time.Millisecond,
	DataBlock: 500 * time.Millisecond, DataEnd: 500 * time.Millisecond,
	RSET: 500 * time.Millisecond, QUIT: 500 * time.Millisecond,
}

// testTimeouts keep a broken test from hanging for the default minutes.
var testTimeouts = Timeouts{
	Greeting: 10 * time.Second, EHLO: 10 * time.Second, STARTTLS: 10 * time.Second,
	MAIL: 10 * time.Second, RCPT: 10 * time.Second, DATA: 10 * time.Second,
	DataBlock: 10 * time.Second, DataEnd: 10 * time.Second, RSET: 10 * time.Second,
	QUIT: 10 * time.Second,
}

// openSession dials srv and starts a session with cfg, whose Helo and Timeouts
// have test defaults. The session is closed when the test ends.
func openSession(t *testing.T, srv *smtptest.Server, cfg SessionConfig) (*Session, error) {
	t.Helper()
	if cfg.Helo == "" {
		cfg.Helo = testHelo
	}
	if cfg.Timeouts == (Timeouts{}) {
		cfg.Timeouts = testTimeouts
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	conn, err := Dial(ctx, srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(ctx, conn, cfg)
	if s != nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// mustOpenSession is openSession for sessions that must start.
func mustOpenSession(t *testing.T, srv *smtptest.Server, cfg SessionConfig) *Session {
	t.Helper()
	s, err := openSession(t, srv, cfg)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	return s
}

// newMessage returns a Message with content, spooled in a test directory.
func newMessage(t *testing.T, content string) *Message {
	t.Helper()
	m, err := ReadMessage(strings.NewReader(content), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// sizedMessage returns a message of size octets or a little less, in
// lines of 73 octets, without holding it in memory.
func sizedMessage(t *testing.T, size int) *Message {
	t.Helper()
	const line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\n"
	n := max(1, size/len(line))
	r := io.LimitReader(&repeatReader{pattern: []byte(line)}, int64(n*len(line)))
	m, err := ReadMessage(r, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// repeatReader repeats pattern without end.
type repeatReader struct {
	pattern []byte
	off     int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.pattern[r.off:])
		n += c
		r.off = (r.off + c) % len(r.pattern)
	}
	return n, nil
}

// transact runs one transaction on s.
func transact(s *Session, from string, to []string, msg *Message) error {
	opt := MailOptions{Size: msg.Size(), EightBit: msg.Has8Bit()}
	if err := s.Mail(from, opt); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := s.Rcpt(rcpt); err != nil {
			return err
		}
	}
	return s.Data(msg)
}

// contentReceived returns what the client sent between the 354 reply
// and the end of the final dot on the first connection: the raw octets
// of the DATA phase, dot-stuffing included.
func contentReceived(t *testing.T, srv *smtptest.Server) []byte {
	t.Helper()
	conns := srv.Connections()
	if len(conns) == 0 {
		t.Fatal("the server recorded no connection")
	}
	raw := conns[0].Received
	start := bytes.Index(raw, []byte("DATA\r\n"))
	if start < 0 {
		t.Fatalf("the client sent no DATA command; received:\n%s", raw)
	}
	raw = raw[start+len("DATA\r\n"):]
	end := bytes.Index(raw, []byte("\r\n.\r\n"))
	if end < 0 {
		if bytes.HasPrefix(raw, []byte(".\r\n")) {
			return raw[:3]
		}
		t.Fatalf("no end of data after DATA; received:\n%q", raw)
	}
	return raw[:end+5]
}

// skipMissingTool skips the test because something from Debian is missing,
// unless MXCLIENT_REQUIRE_TOOLS=1, which CI sets after installing the tools.
func skipMissingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("MXCLIENT_REQUIRE_TOOLS") == "1" {
		t.Fatalf(format+" (MXCLIENT_REQUIRE_TOOLS=1 turns this skip into a failure)", args...)
	}
	t.Skipf(format, args...)
}
