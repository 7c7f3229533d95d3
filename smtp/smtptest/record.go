package smtptest

import (
	"crypto/tls"
	"net/netip"
	"sync"
)

// Connection is the record that a server keeps of one connection.
type Connection struct {
	// Remote is the client's address.
	Remote netip.AddrPort
	// Received holds the octets the client sent, as the SMTP layer read
	// them: decrypted after STARTTLS, so a test can check what a client
	// sent inside TLS. A STARTTLS command and anything the client sent
	// before the handshake are included.
	Received []byte
	// Sent holds the octets the server sent outside the TLS records.
	Sent []byte
	// Truncated is set when Received or Sent reached the record limit.
	Truncated bool
	// TLS is the state of the TLS connection after STARTTLS, or nil.
	TLS *tls.ConnectionState
	// HandshakeErr is the server's error from a failed TLS handshake.
	HandshakeErr error
	// Done is set once the connection is closed.
	Done bool
}

// record is a Connection being recorded.
type record struct {
	limit int64
	mu    sync.Mutex
	c     Connection
}

func (r *record) received(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.c.Received = r.appendLimited(r.c.Received, p)
}

func (r *record) sent(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.c.Sent = r.appendLimited(r.c.Sent, p)
}

func (r *record) appendLimited(dst, p []byte) []byte {
	if r.limit < 0 {
		return dst
	}
	room := r.limit - int64(len(dst))
	if int64(len(p)) > room {
		p = p[:max(room, 0)]
		r.c.Truncated = true
	}
	return append(dst, p...)
}

func (r *record) update(f func(c *Connection)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.c)
}

func (r *record) snapshot() Connection {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.c
	c.Received = append([]byte(nil), r.c.Received...)
	c.Sent = append([]byte(nil), r.c.Sent...)
	return c
}

// Message is a message that a server accepted.
type Message struct {
	// Conn is the index of the connection in Server.Connections.
	Conn int
	// Helo is the name the client gave in its latest EHLO or HELO.
	Helo string
	// From is the reverse-path, without angle brackets.
	From string
	// To are the accepted forward-paths, without angle brackets.
	To []string
	// Data is the content as the server received it, with CRLF line
	// endings, without dot-stuffing and without the final dot. It is
	// nil when Config.DiscardContent is set.
	Data []byte
	// Size is the length of the content.
	Size int64
	// SHA256 is the SHA-256 digest of the content.
	SHA256 [32]byte
	// TLS is set when the message came over TLS.
	TLS bool
	// SizeParam, Body and UTF8 are the MAIL parameters SIZE=, BODY= and
	// SMTPUTF8; zero values when the client did not send them.
	SizeParam int64
	Body      string
	UTF8      bool
}
