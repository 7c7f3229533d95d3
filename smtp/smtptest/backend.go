package smtptest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"

	gosmtp "github.com/emersion/go-smtp"
)

// errScripted stops go-smtp from acting on a command that the Script
// rejects. The client never sees it: the front end sends the Script's
// reply instead.
var errScripted = &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 0, 0},
	Message: "rejected by the script"}

// backend is go-smtp's view of the server: it records the transactions
// and rejects what the Script rejects.
type backend struct{ s *Server }

func (b backend) NewSession(gc *gosmtp.Conn) (gosmtp.Session, error) {
	c := b.s.connFor(gc.Conn())
	if c == nil {
		return nil, errors.New("smtptest: go-smtp accepted a connection the front end does not know")
	}
	return &session{c: c, gc: gc}, nil
}

// session is one go-smtp session, which lasts until the next EHLO after
// STARTTLS or the end of the connection.
type session struct {
	c   *conn
	gc  *gosmtp.Conn
	msg *Message
}

func (s *session) Reset() { s.msg = nil }

func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *gosmtp.MailOptions) error {
	if s.c.script.MAIL.rejects() {
		return errScripted
	}
	s.msg = &Message{
		Conn:      s.c.index,
		Helo:      s.gc.Hostname(),
		From:      from,
		SizeParam: opts.Size,
		Body:      string(opts.Body),
		UTF8:      opts.UTF8,
	}
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if r, ok := s.c.script.RCPT[to]; ok && r.rejects() {
		return errScripted
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

// Data reads the content, and records the message unless the Script
// rejects it at the end of data.
func (s *session) Data(r io.Reader) error {
	h := sha256.New()
	var content *bytes.Buffer
	w := io.Writer(h)
	if !s.c.srv.cfg.DiscardContent {
		content = new(bytes.Buffer)
		w = io.MultiWriter(h, content)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		return err
	}
	if s.c.script.EndOfData.rejects() {
		return errScripted
	}

	m := *s.msg
	m.To = append([]string(nil), s.msg.To...)
	m.Size = n
	copy(m.SHA256[:], h.Sum(nil))
	m.TLS = s.c.tlsActive()
	if content != nil {
		m.Data = content.Bytes()
	}
	s.c.srv.addMessage(m)
	return nil
}
