package smtp

import "time"

// Timeouts limit each stage of an SMTP session. A zero field takes its
// value from DefaultTimeouts. The deadline of the context given to
// NewSession caps all of them, so a delivery as a whole can have a
// deadline of its own.
type Timeouts struct {
	// Connect limits opening the connection. Session does not use it,
	// because the connection exists before NewSession: the caller gives
	// Dial a context with this timeout.
	Connect time.Duration
	// Greeting limits the wait for the server's greeting.
	Greeting time.Duration
	// EHLO limits the reply to EHLO, and to HELO after a rejected EHLO.
	EHLO time.Duration
	// STARTTLS limits the reply to STARTTLS and, separately, the TLS
	// handshake that follows it.
	STARTTLS time.Duration
	// MAIL limits the reply to MAIL.
	MAIL time.Duration
	// RCPT limits the reply to each RCPT.
	RCPT time.Duration
	// DATA limits the reply to the DATA command.
	DATA time.Duration
	// DataBlock limits each write of message content to the connection,
	// so that a server that stops reading cannot hold the client forever.
	DataBlock time.Duration
	// DataEnd limits the wait for the reply after the final dot.
	DataEnd time.Duration
	// RSET limits the reply to RSET.
	RSET time.Duration
	// QUIT limits the reply to QUIT.
	QUIT time.Duration
}

// DefaultTimeouts are the timeouts of RFC 5321 §4.5.3.2 where it gives
// one: 5 minutes for the greeting, MAIL and RCPT, 2 minutes for the
// DATA command, 3 minutes per data block and 10 minutes after the final
// dot. For the other stages, which the RFC leaves open, they follow
// Postfix's defaults (smtp_connect_timeout, smtp_helo_timeout,
// smtp_starttls_timeout, smtp_rset_timeout and smtp_quit_timeout in
// Postfix 3.x).
var DefaultTimeouts = Timeouts{
	Connect:   30 * time.Second,
	Greeting:  5 * time.Minute,
	EHLO:      5 * time.Minute,
	STARTTLS:  5 * time.Minute,
	MAIL:      5 * time.Minute,
	RCPT:      5 * time.Minute,
	DATA:      2 * time.Minute,
	DataBlock: 3 * time.Minute,
	DataEnd:   10 * time.Minute,
	RSET:      20 * time.Second,
	QUIT:      5 * time.Minute,
}

// withDefaults returns t with every zero field taken from
// DefaultTimeouts.
func (t Timeouts) withDefaults() Timeouts {
	fill := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	d := DefaultTimeouts
	fill(&t.Connect, d.Connect)
	fill(&t.Greeting, d.Greeting)
	fill(&t.EHLO, d.EHLO)
	fill(&t.STARTTLS, d.STARTTLS)
	fill(&t.MAIL, d.MAIL)
	fill(&t.RCPT, d.RCPT)
	fill(&t.DATA, d.DATA)
	fill(&t.DataBlock, d.DataBlock)
	fill(&t.DataEnd, d.DataEnd)
	fill(&t.RSET, d.RSET)
	fill(&t.QUIT, d.QUIT)
	return t
}
