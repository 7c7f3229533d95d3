// Package smtptest runs SMTP servers on loopback addresses for the tests
// of an SMTP client and for `mxclient demo`. It is to package smtp what
// net/http/httptest is to net/http, and it does not import package smtp
// or package testing.
//
// A Server is emersion/go-smtp's server behind a front end of this
// package. go-smtp parses the commands, removes the dot-stuffing and
// hands over the messages. The front end, which the client talks to,
// replies to STARTTLS and runs the TLS handshake with the certificate in
// Config.TLS. It records every octet the client sends, decrypted after
// STARTTLS, and every octet of the replies. It also carries out a Script,
// which go-smtp cannot do itself. A Script sets chosen replies at each
// stage, octets injected after the 220 reply to STARTTLS, no STARTTLS, a
// hangup instead of a reply, or a stall. Its replies may have lines of
// any length and number.
//
// The server offers 8BITMIME, ENHANCEDSTATUSCODES and SIZE, STARTTLS
// when it has a TLS configuration, and SMTPUTF8 when configured to. It
// does not offer PIPELINING or CHUNKING: the front end matches replies to
// commands one at a time, and it tells message content from commands only
// after the DATA command.
//
// Network safety: a Server listens only on a loopback address, and it
// never opens a connection itself.
//
// BUG: go-smtp parses the SIZE parameter of MAIL as a 32-bit number, so
// a client that declares a message of 4 GiB or more gets a 501 reply.
package smtptest
