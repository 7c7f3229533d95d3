package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// Stages of a session, as ReplyError.Stage names them.
const (
	StageGreeting  = "greeting"
	StageEHLO      = "EHLO"
	StageHELO      = "HELO"
	StageSTARTTLS  = "STARTTLS"
	StageMAIL      = "MAIL"
	StageRCPT      = "RCPT"
	StageDATA      = "DATA"
	StageEndOfData = "end of data"
	StageRSET      = "RSET"
	StageQUIT      = "QUIT"
)

// Short names for the package's own use.
const (
	stageGreeting = StageGreeting
	stageEHLO     = StageEHLO
	stageHELO     = StageHELO
)

// Categories of session errors, for errors.Is.
var (
	// ErrInvalidAddress marks an envelope address or EHLO name that cannot
	// be put into an SMTP command: it contains a control character or an
	// angle bracket, or it is too long.
	ErrInvalidAddress = errors.New("smtp: invalid address")
	// ErrMessageTooLarge marks a message larger than the limit that the
	// server announces with the SIZE extension (RFC 1870 §4). Mail returns
	// it without sending MAIL.
	ErrMessageTooLarge = errors.New("smtp: message exceeds the server's size limit")
	// ErrSMTPUTF8Required marks a transaction that needs SMTPUTF8 (RFC
	// 6531) with a server that does not offer it.
	ErrSMTPUTF8Required = errors.New("smtp: the server does not offer SMTPUTF8")
)

// SessionConfig configures a Session.
type SessionConfig struct {
	// Helo is the client's name for EHLO and HELO: a fully qualified
	// domain name or an address literal.
	Helo string
	// TLS is the client configuration for STARTTLS, with ServerName set.
	// For DANE it comes from dane.Verifier.TLSConfig, whose
	// VerifyConnection authenticates the server; for opportunistic TLS,
	// from OpportunisticTLS. Nil means never to issue STARTTLS.
	TLS *tls.Config
	// RequireTLS makes NewSession fail with ErrTLSRequired when the server
	// does not offer STARTTLS or rejects it, and makes a failed handshake
	// an ErrTLSRequired error instead of ErrTLSFailed. It needs TLS.
	RequireTLS bool
	// Transcript, when not nil, receives the dialogue: "<<< " and each
	// line received, ">>> " and each line sent, one per line. The message
	// content is never written, only the final dot. Write errors are
	// ignored, so that a closed output never aborts a session.
	Transcript io.Writer
	// Timeouts limit the stages of the session.
	Timeouts Timeouts
}

// Session is one SMTP connection to a mail exchanger, from the greeting
// to QUIT. Its methods follow the commands of RFC 5321 §4.1 and must be
// called one at a time.
type Session struct {
	cfg  SessionConfig
	ctx  context.Context
	raw  net.Conn // the connection as dialled: deadlines are set on it
	conn net.Conn // raw, or the *tls.Conn over it after STARTTLS
	r    *bufio.Reader
	w    *bufio.Writer
	rr   replyReader
	tr   transcript

	tlsState  *tls.ConnectionState
	ext       map[string]string
	utf8      bool // the current transaction declared SMTPUTF8
	lastReply Reply
	// broken, once set, is why the connection cannot carry another
	// command: an I/O error, a timeout, or a 421 reply.
	broken error

	stopAfterFunc func() bool
	mu            sync.Mutex // guards canceled and closed
	canceled      bool
	closed        bool
}

// NewSession starts an SMTP session on conn, which it owns from then on.
// It reads the greeting and sends EHLO, or HELO when EHLO is rejected with
// anything but 421. When cfg.TLS is set and the server offers STARTTLS,
// it sends STARTTLS and then EHLO again. Cancelling ctx, or its deadline,
// aborts the session at whatever stage it is.
//
// On error, conn is closed. A rejected greeting, EHLO or HELO returns a
// *ReplyError. A STARTTLS failure returns an error in the category
// ErrTLSRequired when cfg.RequireTLS is set, ErrTLSFailed for a failed
// opportunistic handshake, or ErrResponseInjection. Without RequireTLS, a
// server that does not offer STARTTLS or rejects it is used in plaintext.
func NewSession(ctx context.Context, conn net.Conn, cfg SessionConfig) (*Session, error) {
	if err := checkHelo(cfg.Helo); err != nil {
		conn.Close()
		return nil, err
	}
	if cfg.RequireTLS && cfg.TLS == nil {
		conn.Close()
		return nil, errors.New("smtp: SessionConfig.RequireTLS is set without a TLS configuration")
	}
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	s := &Session{
		cfg:  cfg,
		ctx:  ctx,
		raw:  conn,
		conn: conn,
		r:    bufio.NewReaderSize(conn, 4096),
		w:    bufio.NewWriter(conn),
		tr:   transcript{w: cfg.Transcript},
	}
	s.rr = replyReader{r: s.r, onLine: s.tr.received}
	s.stopAfterFunc = context.AfterFunc(ctx, s.interrupt)

	if err := s.open(); err != nil {
		s.abort()
		return nil, err
	}
	return s, nil
}

// open runs the session up to the point where MAIL may be sent.
func (s *Session) open() error {
	reply, err := s.readReply(s.cfg.Timeouts.Greeting, StageGreeting)
	if err != nil {
		return err
	}
	// RFC 5321 §3.1: a server that accepts the connection greets with
	// 220, one that does not with 554, and §3.8 adds 421 for a server
	// that is shutting down.
	if reply.Code != 220 {
		return &ReplyError{Stage: StageGreeting, Reply: reply}
	}

	if err := s.hello(); err != nil {
		return err
	}
	if s.cfg.TLS == nil {
		return nil
	}
	return s.startTLS()
}

// TLS returns the state of the TLS connection, and false when the session
// is not protected by TLS.
func (s *Session) TLS() (tls.ConnectionState, bool) {
	if s.tlsState == nil {
		return tls.ConnectionState{}, false
	}
	return *s.tlsState, true
}

// LastReply returns the last reply the server sent, such as the 250 reply
// to the end of data, which often carries the server's queue ID.
func (s *Session) LastReply() Reply { return s.lastReply }

// MailOptions describe a message to Mail, which adds the MAIL parameters
// of the extensions that the server offers and the message needs.
type MailOptions struct {
	// Size is the message's size in octets (Message.Size), declared with
	// SIZE= when the server offers SIZE (RFC 1870). Zero declares nothing.
	Size int64
	// EightBit marks content with octets above 127 (Message.Has8Bit). It
	// adds BODY=8BITMIME when the server offers 8BITMIME (RFC 6152); a
	// server without it receives the content unchanged, and telling the
	// user is the caller's task.
	EightBit bool
	// UTF8 marks a transaction that needs SMTPUTF8 (RFC 6531): an address
	// or a header field in UTF-8. A reverse-path with non-ASCII
	// characters sets it implicitly.
	UTF8 bool
}

// Mail starts a mail transaction with the reverse-path from; "" is the
// null reverse-path <>. It returns ErrMessageTooLarge or
// ErrSMTPUTF8Required, without sending anything, when the server's
// extensions rule the message out, and a *ReplyError when the server
// rejects the command.
func (s *Session) Mail(from string, opt MailOptions) error {
	if err := checkAddress("reverse-path", from); err != nil {
		return err
	}
	utf8 := opt.UTF8 || !isASCII(from)
	if _, ok := s.Extension("SMTPUTF8"); utf8 && !ok {
		return fmt.Errorf("%w, which the message needs for non-ASCII addresses or headers",
			ErrSMTPUTF8Required)
	}

	cmd := "MAIL FROM:<" + from + ">"
	if limit, ok := s.sizeLimit(); ok && opt.Size > 0 {
		if limit > 0 && opt.Size > limit {
			return fmt.Errorf("%w: the message has %d octets, the server accepts at most %d",
				ErrMessageTooLarge, opt.Size, limit)
		}
		cmd += " SIZE=" + strconv.FormatInt(opt.Size, 10)
	}
	if _, ok := s.Extension("8BITMIME"); ok && opt.EightBit {
		cmd += " BODY=8BITMIME"
	}
	if utf8 {
		cmd += " SMTPUTF8"
	}

	reply, err := s.command(s.cfg.Timeouts.MAIL, StageMAIL, cmd)
	if err != nil {
		return err
	}
	if !reply.Positive() {
		return &ReplyError{Stage: StageMAIL, Reply: reply}
	}
	s.utf8 = utf8
	return nil
}

// sizeLimit returns the SIZE extension's limit, 0 for none, and whether
// the server offers SIZE at all (RFC 1870 §3).
func (s *Session) sizeLimit() (int64, bool) {
	param, ok := s.Extension("SIZE")
	if !ok {
		return 0, false
	}
	limit, err := strconv.ParseInt(param, 10, 64)
	if err != nil || limit < 0 {
		return 0, true
	}
	return limit, true
}

// Rcpt adds the forward-path to to the transaction. It returns a
// *ReplyError when the server rejects the recipient.
func (s *Session) Rcpt(to string) error {
	if err := checkAddress("forward-path", to); err != nil {
		return err
	}
	if to == "" {
		return fmt.Errorf("%w: empty forward-path", ErrInvalidAddress)
	}
	if !isASCII(to) && !s.utf8 {
		if _, ok := s.Extension("SMTPUTF8"); !ok {
			return fmt.Errorf("%w, which the recipient %q needs", ErrSMTPUTF8Required, to)
		}
		return fmt.Errorf("smtp: recipient %q needs SMTPUTF8, but MAIL did not declare it "+
			"(set MailOptions.UTF8)", to)
	}
	reply, err := s.command(s.cfg.Timeouts.RCPT, StageRCPT, "RCPT TO:<"+to+">")
	if err != nil {
		return err
	}
	if !reply.Positive() {
		return &ReplyError{Stage: StageRCPT, Reply: reply}
	}
	return nil
}

// Reset aborts the current mail transaction with RSET, so that the
// session can start another one.
func (s *Session) Reset() error {
	reply, err := s.command(s.cfg.Timeouts.RSET, StageRSET, "RSET")
	if err != nil {
		return err
	}
	if !reply.Positive() {
		return &ReplyError{Stage: StageRSET, Reply: reply}
	}
	s.utf8 = false
	return nil
}

// Quit ends the session with QUIT and closes the connection. When the
// connection is already unusable, it only closes it.
func (s *Session) Quit() error {
	defer s.Close()
	if s.broken != nil {
		return nil
	}
	reply, err := s.command(s.cfg.Timeouts.QUIT, StageQUIT, "QUIT")
	if err != nil {
		return err
	}
	if !reply.Positive() {
		return &ReplyError{Stage: StageQUIT, Reply: reply}
	}
	return nil
}

// Close closes the connection without QUIT. It may be called more than
// once.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.stopAfterFunc()
	err := s.conn.Close()
	if s.broken != nil {
		// fail has closed the connection already.
		return nil
	}
	s.broken = errors.New("smtp: session closed")
	return err
}

// abort ends a session that NewSession could not open: politely with QUIT
// when the server is still in step with the client, otherwise by closing
// the connection.
func (s *Session) abort() {
	if s.broken == nil {
		s.cfg.Timeouts.QUIT = min(s.cfg.Timeouts.QUIT, 10*time.Second)
		s.Quit()
		return
	}
	s.Close()
}

// command sends one command line and reads the reply to it.
func (s *Session) command(timeout time.Duration, stage, line string) (Reply, error) {
	if err := s.writeLine(timeout, stage, line); err != nil {
		return Reply{}, err
	}
	return s.readReply(timeout, stage)
}

// writeLine sends one command line.
func (s *Session) writeLine(timeout time.Duration, stage, line string) error {
	if s.broken != nil {
		return s.broken
	}
	if err := s.setDeadline(timeout); err != nil {
		return s.fail(fmt.Errorf("smtp: sending %s: %w", stage, err))
	}
	s.tr.sent(line)
	s.w.WriteString(line)
	s.w.WriteString("\r\n")
	if err := s.w.Flush(); err != nil {
		return s.fail(s.ioError("sending "+stage, timeout, err))
	}
	return nil
}

// readReply reads the reply to stage. A 421 reply (RFC 5321 §3.8) means
// that the server closes the connection, so no further command is sent.
func (s *Session) readReply(timeout time.Duration, stage string) (Reply, error) {
	if s.broken != nil {
		return Reply{}, s.broken
	}
	op := "reading the reply to " + stage
	if stage == StageGreeting {
		op = "reading the greeting"
	}
	if err := s.setDeadline(timeout); err != nil {
		return Reply{}, s.fail(fmt.Errorf("smtp: %s: %w", op, err))
	}
	reply, err := s.rr.read()
	if err != nil {
		return Reply{}, s.fail(s.ioError(op, timeout, err))
	}
	s.lastReply = reply
	if reply.Code == 421 {
		s.broken = &ReplyError{Stage: stage, Reply: reply}
	}
	return reply, nil
}

// fail records err as the reason the connection is unusable, closes the
// connection so that the server cannot take a partial message for a
// complete one, and returns err.
func (s *Session) fail(err error) error {
	if s.broken == nil {
		s.broken = err
	}
	s.raw.Close()
	return err
}

// setDeadline sets the connection's deadline to timeout from now, or to
// the context's deadline when that comes first.
func (s *Session) setDeadline(timeout time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.canceled {
		return context.Cause(s.ctx)
	}
	t := time.Now().Add(timeout)
	if d, ok := s.ctx.Deadline(); ok && d.Before(t) {
		t = d
	}
	return s.raw.SetDeadline(t)
}

// interrupt unblocks any I/O in progress when the context is done.
func (s *Session) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.canceled = true
	s.raw.SetDeadline(time.Unix(1, 0))
}

// ioError describes a failed read or write: the end of the context, a
// stage timeout, the server closing the connection, or another error.
func (s *Session) ioError(op string, timeout time.Duration, err error) error {
	if s.contextDone() {
		cause := context.Cause(s.ctx)
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		return fmt.Errorf("smtp: %s: %w", op, cause)
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("smtp: %s: timed out after %v: %w", op, timeout, err)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("smtp: %s: the server closed the connection: %w", op, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("smtp: %s: %w", op, err)
}

// contextDone reports whether the session's context is cancelled or its
// deadline has passed, which a connection deadline may notice a moment
// before the context does.
func (s *Session) contextDone() bool {
	d, ok := s.ctx.Deadline()
	return s.ctx.Err() != nil || ok && !time.Now().Before(d)
}

// checkHelo rejects an EHLO name that cannot form a command line.
func checkHelo(name string) error {
	if name == "" {
		return fmt.Errorf("%w: the EHLO name is empty", ErrInvalidAddress)
	}
	if len(name) > 255 {
		return fmt.Errorf("%w: the EHLO name has %d octets, more than 255", ErrInvalidAddress, len(name))
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == 0x7f {
			return fmt.Errorf("%w: the EHLO name %q contains %q", ErrInvalidAddress, name, c)
		}
	}
	return nil
}

// checkAddress rejects an address that cannot go between the angle
// brackets of MAIL or RCPT: control characters could end the command
// line and start another (command injection), and RFC 5321 §4.5.3.1.3
// limits a path, brackets included, to 256 octets.
func checkAddress(what, addr string) error {
	if len(addr)+2 > 256 {
		return fmt.Errorf("%w: the %s has %d octets, more than the 254 that RFC 5321 §4.5.3.1.3 allows",
			ErrInvalidAddress, what, len(addr))
	}
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c < ' ' || c == 0x7f || c == '<' || c == '>' {
			return fmt.Errorf("%w: the %s %q contains %q", ErrInvalidAddress, what, addr, c)
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
