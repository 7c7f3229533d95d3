package smtptest

import (
	"fmt"
	"strings"
)

// Stage is a point in a session where the server replies, or where a
// Script can make it hang up or stall.
type Stage int

const (
	// None is no stage: Script.Hangup and Script.Stall are off.
	None Stage = iota
	// Greeting is the server's first reply.
	Greeting
	// EHLO is the reply to EHLO.
	EHLO
	// HELO is the reply to HELO.
	HELO
	// STARTTLS is the reply to STARTTLS.
	STARTTLS
	// Handshake is the TLS handshake after the 220 reply to STARTTLS.
	Handshake
	// MAIL is the reply to MAIL.
	MAIL
	// RCPT is the reply to RCPT.
	RCPT
	// DATA is the reply to the DATA command.
	DATA
	// Content is the message content after the 354 reply: a server that
	// stalls there stops reading.
	Content
	// EndOfData is the reply after the final dot.
	EndOfData
	// QUIT is the reply to QUIT.
	QUIT
	// Other is the reply to any other command.
	Other
)

var stageNames = [...]string{
	None:      "none",
	Greeting:  "greeting",
	EHLO:      "EHLO",
	HELO:      "HELO",
	STARTTLS:  "STARTTLS",
	Handshake: "TLS handshake",
	MAIL:      "MAIL",
	RCPT:      "RCPT",
	DATA:      "DATA",
	Content:   "content",
	EndOfData: "end of data",
	QUIT:      "QUIT",
	Other:     "other command",
}

func (s Stage) String() string {
	if s < 0 || int(s) >= len(stageNames) {
		return fmt.Sprintf("Stage(%d)", int(s))
	}
	return stageNames[s]
}

// stageOfCommand returns the stage of the reply to a command.
func stageOfCommand(verb string) Stage {
	switch verb {
	case "EHLO":
		return EHLO
	case "HELO":
		return HELO
	case "STARTTLS":
		return STARTTLS
	case "MAIL":
		return MAIL
	case "RCPT":
		return RCPT
	case "DATA":
		return DATA
	case "QUIT":
		return QUIT
	}
	return Other
}

// Reply is a reply that a Script puts in place of the server's own.
type Reply struct {
	// Code is the reply code.
	Code int
	// Text is the reply text. Each "\n" in it starts another line of a
	// multi-line reply, so a Reply can have as many lines, and lines as
	// long, as a test needs.
	Text string
	// Raw, when not empty, is sent byte for byte in place of Code and
	// Text, for replies that break the syntax: missing CRLF, mixed codes,
	// garbage.
	Raw string
}

// format returns the reply as it goes on the wire.
func (r Reply) format() []byte {
	if r.Raw != "" {
		return []byte(r.Raw)
	}
	lines := strings.Split(r.Text, "\n")
	var b strings.Builder
	for i, l := range lines {
		sep := '-'
		if i == len(lines)-1 {
			sep = ' '
		}
		fmt.Fprintf(&b, "%03d%c%s\r\n", r.Code, sep, l)
	}
	return []byte(b.String())
}

// rejects reports whether the reply refuses the command, so that the
// server must not act on it.
func (r *Reply) rejects() bool {
	return r != nil && (r.Raw != "" || r.Code < 200 || r.Code >= 400)
}

// Script makes the server misbehave, or behave in a chosen way, at chosen
// stages. The zero Script is a well-behaved server. A Reply that rejects
// a command (code 400 or more, or a Raw reply) also stops go-smtp from
// acting on it: a rejected recipient gets no copy, a message rejected at
// the end of data is not recorded as accepted.
type Script struct {
	// Greeting replaces the 220 greeting.
	Greeting *Reply
	// EHLO replaces the reply to EHLO before STARTTLS, extensions
	// included: the server offers exactly what its lines list.
	EHLO *Reply
	// EHLOAfterTLS replaces the reply to EHLO after STARTTLS.
	EHLOAfterTLS *Reply
	// HELO replaces the reply to HELO.
	HELO *Reply
	// NoSTARTTLS makes the server neither offer nor accept STARTTLS,
	// even with a TLS configuration.
	NoSTARTTLS bool
	// STARTTLS replaces the 220 reply to STARTTLS. With a code other
	// than 220, STARTTLS is refused and the session goes on in
	// plaintext.
	STARTTLS *Reply
	// Inject is sent in the same write as the 220 reply to STARTTLS,
	// before the handshake, as an attacker on the path would send it
	// (STARTTLS response injection).
	Inject string
	// MAIL replaces the reply to MAIL.
	MAIL *Reply
	// RCPT replaces the reply to RCPT for the recipients it lists, keyed
	// by the address without angle brackets.
	RCPT map[string]Reply
	// DATA replaces the 354 reply to DATA; the server then stays in
	// command mode.
	DATA *Reply
	// EndOfData replaces the reply after the final dot.
	EndOfData *Reply
	// Hangup is the stage at which the server closes the connection
	// instead of replying. Hangup: EndOfData closes it after the final
	// dot, with the message accepted.
	Hangup Stage
	// Stall is the stage at which the server stops replying (and, at
	// Content or Handshake, stops reading) but keeps the connection open
	// until the client closes it or the server is closed.
	Stall Stage
}
