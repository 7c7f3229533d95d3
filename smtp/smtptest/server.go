package smtptest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// DefaultRecordLimit is the number of octets that a server records per
// connection and direction when Config.RecordLimit is zero.
const DefaultRecordLimit = 64 << 20

// bindAttempts is how many random loopback addresses Start tries when
// Config.Addr is not set and the port is taken.
const bindAttempts = 20

// Config configures a Server.
type Config struct {
	// Addr is the loopback address to listen on. The zero value picks a
	// random address 127.X.Y.Z, so that servers of one test can share a
	// port. Addresses outside loopback are rejected.
	Addr netip.Addr
	// Port is the TCP port; zero lets the kernel choose one.
	Port uint16
	// Domain is the server's name in its greeting and EHLO reply.
	// Default "mx.smtptest.invalid".
	Domain string
	// TLS is the server configuration for STARTTLS, with the certificate
	// to present. Nil means that the server does not offer STARTTLS.
	TLS *tls.Config
	// MaxSize is the limit that the server announces with SIZE and
	// enforces. Zero announces SIZE without a limit.
	MaxSize int64
	// SMTPUTF8 makes the server offer SMTPUTF8.
	SMTPUTF8 bool
	// Script makes the server misbehave; SetScript changes it for later
	// connections.
	Script Script
	// RecordLimit is the number of octets recorded per connection and
	// direction: zero means DefaultRecordLimit, a negative value none.
	RecordLimit int64
	// DiscardContent makes the server keep only the size and SHA-256
	// digest of accepted messages, for messages too large for memory.
	DiscardContent bool
	// Logf, when not nil, receives the errors that go-smtp's server logs.
	Logf func(format string, args ...any)
}

// Server is an SMTP server on a loopback address, built on go-smtp's
// server with a front end that records the dialogue and carries out the
// Script.
type Server struct {
	cfg  Config
	ln   net.Listener
	addr netip.AddrPort
	smtp *gosmtp.Server
	// pipes hands go-smtp its end of each connection's pipe.
	pipes *pipeListener

	mu       sync.Mutex
	script   Script
	conns    []*conn
	byPipe   map[net.Conn]*conn // go-smtp's end of the pipe → connection
	messages []Message
	closed   bool

	wg sync.WaitGroup
}

// Start starts a server. Close stops it.
func Start(cfg Config) (*Server, error) {
	if cfg.Addr.IsValid() && !cfg.Addr.IsLoopback() {
		return nil, fmt.Errorf("smtptest: %s is not a loopback address", cfg.Addr)
	}
	if cfg.Domain == "" {
		cfg.Domain = "mx.smtptest.invalid"
	}
	if cfg.RecordLimit == 0 {
		cfg.RecordLimit = DefaultRecordLimit
	}
	ln, err := listen(cfg.Addr, cfg.Port)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		ln:     ln,
		addr:   ln.Addr().(*net.TCPAddr).AddrPort(),
		pipes:  newPipeListener(ln.Addr()),
		script: cfg.Script,
		byPipe: make(map[net.Conn]*conn),
	}
	s.smtp = s.newGoSMTP()

	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.smtp.Serve(s.pipes)
	}()
	go func() {
		defer s.wg.Done()
		s.accept()
	}()
	return s, nil
}

// newGoSMTP configures go-smtp's server. The front end adds STARTTLS and
// removes the extensions that it does not carry out, so go-smtp itself
// gets no TLS configuration.
func (s *Server) newGoSMTP() *gosmtp.Server {
	srv := gosmtp.NewServer(backend{s: s})
	srv.Domain = s.cfg.Domain
	srv.MaxMessageBytes = s.cfg.MaxSize
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = log.New(logWriter{s.cfg.Logf}, "smtptest: ", 0)
	return srv
}

// listen binds a TCP listener on addr, or on a random 127.X.Y.Z address
// with X ≠ 0 when addr is the zero value.
func listen(addr netip.Addr, port uint16) (net.Listener, error) {
	if addr.IsValid() {
		return net.Listen("tcp", netip.AddrPortFrom(addr, port).String())
	}
	var lastErr error
	for range bindAttempts {
		a := netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(254)), byte(rand.IntN(256)),
			byte(1 + rand.IntN(254))})
		ln, err := net.Listen("tcp4", netip.AddrPortFrom(a, port).String())
		if err == nil {
			return ln, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("smtptest: binding a loopback address failed %d times: %w", bindAttempts, lastErr)
}

// accept serves each connection in its own goroutine.
func (s *Server) accept() {
	for {
		client, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			client.Close()
			return
		}
		c := newConn(s, client, len(s.conns), s.script)
		s.conns = append(s.conns, c)
		s.byPipe[c.peer] = c
		s.wg.Add(1)
		s.mu.Unlock()

		go func() {
			defer s.wg.Done()
			c.serve()
		}()
		if !s.pipes.deliver(c.peer) {
			c.close()
		}
	}
}

// connFor returns the connection whose pipe go-smtp reads.
func (s *Server) connFor(peer net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byPipe[peer]
}

// Addr returns the address the server listens on.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// SetScript sets the script for connections accepted from now on.
func (s *Server) SetScript(script Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = script
}

// Messages returns the messages the server accepted, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

func (s *Server) addMessage(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
}

// Connections returns what the server recorded of each connection, in
// the order they were accepted.
func (s *Server) Connections() []Connection {
	s.mu.Lock()
	conns := append([]*conn(nil), s.conns...)
	s.mu.Unlock()
	out := make([]Connection, len(conns))
	for i, c := range conns {
		out[i] = c.rec.snapshot()
	}
	return out
}

// Received returns the octets received on all connections, one
// connection after the other, as the SMTP layer read them: decrypted
// after STARTTLS.
func (s *Server) Received() []byte {
	var all []byte
	for _, c := range s.Connections() {
		all = append(all, c.Received...)
	}
	return all
}

// Close closes the listener and every connection, and waits until all
// of the server's goroutines have ended, so that the records are final.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conns := append([]*conn(nil), s.conns...)
	s.mu.Unlock()

	err := s.ln.Close()
	for _, c := range conns {
		c.close()
	}
	// go-smtp closes the listener only once Serve has registered it,
	// which may not have happened yet.
	s.pipes.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := s.smtp.Shutdown(ctx); serr != nil && !errors.Is(serr, gosmtp.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	s.wg.Wait()
	return err
}

// pipeListener is the net.Listener through which go-smtp accepts the
// front end's pipes.
type pipeListener struct {
	addr   net.Addr
	conns  chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newPipeListener(addr net.Addr) *pipeListener {
	return &pipeListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// deliver hands c to go-smtp, and reports false when the listener is
// closed.
func (l *pipeListener) deliver(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return l.addr }

// logWriter passes go-smtp's log lines to Config.Logf.
type logWriter struct {
	logf func(format string, args ...any)
}

func (w logWriter) Write(p []byte) (int, error) {
	if w.logf != nil {
		w.logf("%s", p)
	}
	return len(p), nil
}
