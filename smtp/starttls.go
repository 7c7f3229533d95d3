package smtp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// Categories of STARTTLS failures, for errors.Is.
var (
	// ErrTLSRequired marks a session that SessionConfig.RequireTLS
	// required to use TLS, but the server does not offer STARTTLS,
	// rejects it, or the handshake fails. A failed DANE authentication is
	// such a handshake failure, and errors.As also finds the
	// *dane.MismatchError in it.
	ErrTLSRequired = errors.New("smtp: TLS is required")
	// ErrTLSFailed marks a failed opportunistic handshake (RequireTLS not
	// set). The connection is closed; the caller may connect to the same
	// server again and deliver without STARTTLS.
	ErrTLSFailed = errors.New("smtp: opportunistic TLS handshake failed")
	// ErrResponseInjection marks a server that sent data after its 220
	// reply to STARTTLS and before the TLS handshake. An attacker on the
	// path can write such data before TLS begins, so the connection is
	// dropped (CVE-2021-38371 is this flaw in Exim's client).
	ErrResponseInjection = errors.New("smtp: STARTTLS response injection")
)

// categoryError is an error in a category for errors.Is, with its own
// message and, optionally, the error that caused it.
type categoryError struct {
	category error
	msg      string
	cause    error
}

func (e *categoryError) Error() string { return e.msg }

func (e *categoryError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.category}
	}
	return []error{e.category, e.cause}
}

// startTLS upgrades the session to TLS when the server offers STARTTLS
// (RFC 3207), and then sends EHLO again. Without RequireTLS, a server
// that does not offer STARTTLS or rejects it is used in plaintext.
func (s *Session) startTLS() error {
	if _, ok := s.Extension("STARTTLS"); !ok {
		if s.cfg.RequireTLS {
			return &categoryError{category: ErrTLSRequired,
				msg: "smtp: TLS is required, but the server does not offer STARTTLS"}
		}
		return nil
	}

	reply, err := s.command(s.cfg.Timeouts.STARTTLS, StageSTARTTLS, "STARTTLS")
	if err != nil {
		return err
	}
	if reply.Code != 220 {
		rejected := &ReplyError{Stage: StageSTARTTLS, Reply: reply}
		switch {
		case s.cfg.RequireTLS:
			return &categoryError{category: ErrTLSRequired, cause: rejected,
				msg: "smtp: TLS is required, but the server rejected STARTTLS: " + reply.String()}
		case s.broken != nil:
			return rejected
		}
		return nil
	}

	// CVE-2021-38371: nothing received before the handshake may be taken
	// for part of the TLS session. Whatever the buffer holds now arrived
	// with the 220 reply, before TLS.
	if n := s.r.Buffered(); n > 0 {
		injected, _ := s.r.Peek(min(n, 64))
		return s.fail(&categoryError{category: ErrResponseInjection,
			msg: fmt.Sprintf("smtp: STARTTLS response injection: the server sent %d octets (%q) "+
				"after its 220 reply to STARTTLS and before the TLS handshake, so the "+
				"connection is dropped (the attack of CVE-2021-38371)", n, injected)})
	}

	if err := s.handshake(); err != nil {
		return err
	}
	// RFC 3207 §4.2: the client must discard what it learnt from the
	// server before TLS and should send EHLO again.
	return s.hello()
}

// handshake runs the TLS handshake on the connection and switches the
// session to it.
func (s *Session) handshake() error {
	timeout := s.cfg.Timeouts.STARTTLS
	if err := s.setDeadline(timeout); err != nil {
		return s.fail(fmt.Errorf("smtp: TLS handshake: %w", err))
	}
	tc := tls.Client(s.raw, s.cfg.TLS)
	if err := tc.Handshake(); err != nil {
		return s.fail(s.handshakeError(timeout, err))
	}

	state := tc.ConnectionState()
	s.tlsState = &state
	s.conn = tc
	s.r.Reset(tc)
	s.w.Reset(tc)
	return nil
}

// handshakeError puts a failed handshake into its category. The end of
// the delivery's context is no TLS failure: retrying without TLS would
// not help.
func (s *Session) handshakeError(timeout time.Duration, err error) error {
	err = s.ioError("TLS handshake", timeout, err)
	if s.contextDone() {
		return err
	}
	if s.cfg.RequireTLS {
		return &categoryError{category: ErrTLSRequired, cause: err, msg: err.Error()}
	}
	return &categoryError{category: ErrTLSFailed, cause: err,
		msg: err.Error() + " (opportunistic TLS: the server may be retried without STARTTLS)"}
}

// rsaKeyExchange are the cipher suites with RSA key exchange and AES that
// crypto/tls lists as insecure, because they lack forward secrecy, and no
// longer offers by default. Opportunistic TLS offers them after all other
// suites, for servers that support nothing else; RC4, 3DES and the CBC
// suites with SHA-256 stay out.
var rsaKeyExchange = []uint16{
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA,
}

// OpportunisticTLS returns a client configuration for a server without
// usable TLSA records, where any TLS beats plaintext (RFC 7672 §1.3). It
// accepts any certificate, TLS 1.0 and later, and every cipher suite that
// crypto/tls does not mark insecure, followed by the suites with RSA key
// exchange, so that older servers can still be reached. serverName is
// sent as SNI.
func OpportunisticTLS(serverName string) *tls.Config {
	var suites []uint16
	for _, cs := range tls.CipherSuites() {
		suites = append(suites, cs.ID)
	}
	suites = append(suites, rsaKeyExchange...)
	return &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS10,
		CipherSuites:       suites,
	}
}
