package smtptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"time"
)

// handshakeTimeout bounds the server's side of a TLS handshake.
const handshakeTimeout = time.Minute

// clientBufferSize is the read buffer for the client's octets; command
// lines longer than it are passed on in pieces.
const clientBufferSize = 64 << 10

// errStopped ends a connection that the Script hung up or stalled.
var errStopped = errors.New("smtptest: connection stopped by the script")

// conn is the front end of one connection. It sits between the client
// and go-smtp's server, which it talks to over a net.Pipe, and runs two
// pumps. readClient passes the client's octets to go-smtp and replies to
// STARTTLS itself. readServer passes go-smtp's replies to the client, or
// replaces them as the Script sets. Each reply is matched to its command
// through the queue of pending replies.
type conn struct {
	srv    *Server
	index  int
	script Script
	client net.Conn // the TCP connection
	pipe   net.Conn // the front end's end of the pipe
	peer   net.Conn // go-smtp's end of the pipe
	rec    *record

	done      chan struct{}
	closeOnce sync.Once

	// Used by readClient only.
	br        *bufio.Reader // the client's octets, decrypted after STARTTLS
	midLine   bool          // the last piece passed on ended inside a line
	content   contentScanner
	dataReply chan bool // whether readServer's reply to DATA started the content

	mu      sync.Mutex // guards the fields below, and writes to the client
	out     net.Conn   // client, or the TLS connection over it
	tlsOn   bool
	pending []pending
	stalled bool
}

// pending is a reply that the client waits for.
type pending struct {
	stage Stage
	// override replaces go-smtp's reply.
	override *Reply
}

func newConn(s *Server, client net.Conn, index int, script Script) *conn {
	pipe, peer := net.Pipe()
	c := &conn{
		srv:       s,
		index:     index,
		script:    script,
		client:    client,
		pipe:      pipe,
		peer:      peer,
		rec:       &record{limit: s.cfg.RecordLimit},
		done:      make(chan struct{}),
		br:        bufio.NewReaderSize(client, clientBufferSize),
		dataReply: make(chan bool, 1),
		out:       client,
		pending:   []pending{{stage: Greeting, override: script.Greeting}},
	}
	if tcp, ok := client.RemoteAddr().(*net.TCPAddr); ok {
		c.rec.c.Remote = tcp.AddrPort()
	}
	return c
}

// serve runs the two pumps until the connection ends.
func (c *conn) serve() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.readServer()
		if c.isStalled() {
			// go-smtp has ended, but a stalled server keeps the
			// connection open until the client closes it.
			<-c.done
		}
		c.close()
	}()
	c.readClient()
	c.close()
	wg.Wait()
	c.rec.update(func(r *Connection) { r.Done = true })
}

// close ends the connection on both sides.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.client.Close()
		c.pipe.Close()
	})
}

func (c *conn) tlsActive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tlsOn
}

// writeClient sends p to the client in one write.
func (c *conn) writeClient(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec.sent(p)
	_, err := c.out.Write(p)
	return err
}

func (c *conn) push(p pending) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = append(c.pending, p)
}

func (c *conn) pop() pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return pending{stage: Other}
	}
	p := c.pending[0]
	c.pending = c.pending[1:]
	return p
}

// stall stops the replies to the client for the rest of the connection.
func (c *conn) stall() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stalled = true
}

func (c *conn) isStalled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stalled
}

// readClient passes the client's octets to go-smtp: command lines one at
// a time, and message content in chunks up to the final dot.
func (c *conn) readClient() {
	for {
		line, err := c.br.ReadSlice('\n')
		if len(line) > 0 {
			c.rec.received(line)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			c.midLine = true
			if _, err := c.pipe.Write(line); err != nil {
				return
			}
			continue
		case err != nil:
			c.pipe.Write(line)
			return
		}
		if err := c.command(line); err != nil {
			return
		}
	}
}

// command handles one command line from the client.
func (c *conn) command(line []byte) error {
	if c.midLine {
		c.midLine = false
		_, err := c.pipe.Write(line)
		return err
	}
	verb := commandVerb(line)
	switch {
	case verb == "STARTTLS" && c.offersTLS():
		return c.startTLS()
	case verb == "DATA" && c.script.DATA != nil && !c.isStalled():
		return c.writeClient(c.script.DATA.format())
	}

	c.push(c.pendingFor(verb, line))
	if _, err := c.pipe.Write(line); err != nil {
		return err
	}
	if verb != "DATA" {
		return nil
	}
	select {
	case inContent := <-c.dataReply:
		if inContent {
			return c.readContent()
		}
		return nil
	case <-c.done:
		return errStopped
	}
}

// pendingFor returns the reply that a command waits for, with the
// Script's replacement.
func (c *conn) pendingFor(verb string, line []byte) pending {
	stage := stageOfCommand(verb)
	p := pending{stage: stage}
	switch stage {
	case EHLO:
		p.override = c.script.EHLO
		if c.tlsActive() {
			p.override = c.script.EHLOAfterTLS
		}
	case HELO:
		p.override = c.script.HELO
	case MAIL:
		p.override = c.script.MAIL
	case RCPT:
		if r, ok := c.script.RCPT[forwardPath(line)]; ok {
			p.override = &r
		}
	}
	return p
}

// readContent passes message content to go-smtp up to and including the
// final dot, as go-smtp's reader finds it, and leaves the octets after it
// for readClient.
func (c *conn) readContent() error {
	if c.script.Stall == Content {
		<-c.done
		return errStopped
	}
	c.content = contentScanner{}
	for {
		if _, err := c.br.Peek(1); err != nil {
			return err
		}
		chunk, _ := c.br.Peek(c.br.Buffered())
		n, end := c.content.scan(chunk)
		c.rec.received(chunk[:n])
		if _, err := c.pipe.Write(chunk[:n]); err != nil {
			return err
		}
		c.br.Discard(n)
		if end {
			return nil
		}
	}
}

// offersTLS reports whether the server offers STARTTLS now.
func (c *conn) offersTLS() bool {
	return c.srv.cfg.TLS != nil && !c.script.NoSTARTTLS && !c.tlsActive()
}

// startTLS replies to STARTTLS and runs the handshake (RFC 3207 §4). The
// command never reaches go-smtp. The client's next EHLO does, and it
// resets go-smtp's session.
func (c *conn) startTLS() error {
	if c.script.Hangup == STARTTLS {
		return errStopped
	}
	if c.script.Stall == STARTTLS || c.isStalled() {
		c.stall()
		return nil
	}
	reply := []byte("220 2.0.0 Ready to start TLS\r\n")
	if r := c.script.STARTTLS; r != nil {
		reply = r.format()
		if r.Raw != "" || r.Code != 220 {
			return c.writeClient(reply)
		}
	}
	if err := c.writeClient(append(reply, c.script.Inject...)); err != nil {
		return err
	}
	switch {
	case c.script.Hangup == Handshake:
		return errStopped
	case c.script.Stall == Handshake:
		<-c.done
		return errStopped
	}

	// Octets that the client sent before the handshake are recorded, but
	// they must not reach the TLS layer.
	early, _ := c.br.Peek(c.br.Buffered())
	c.rec.received(early)
	c.br.Discard(len(early))
	tc := tls.Server(c.client, c.srv.cfg.TLS)
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.Handshake(); err != nil {
		c.rec.update(func(r *Connection) { r.HandshakeErr = err })
		return err
	}
	tc.SetDeadline(time.Time{})

	state := tc.ConnectionState()
	c.rec.update(func(r *Connection) { r.TLS = &state })
	c.mu.Lock()
	c.out = tc
	c.tlsOn = true
	c.mu.Unlock()
	c.br = bufio.NewReaderSize(tc, clientBufferSize)
	return nil
}

// readServer passes go-smtp's replies to the client, carrying out the
// Script.
func (c *conn) readServer() {
	br := bufio.NewReader(c.pipe)
	for {
		lines, err := readReplyLines(br)
		if err != nil {
			return
		}
		if err := c.reply(c.pop(), lines); err != nil {
			return
		}
	}
}

// reply sends go-smtp's reply lines, or what replaces them, for p.
func (c *conn) reply(p pending, lines [][]byte) error {
	inContent := false
	if p.stage == DATA {
		inContent = bytes.HasPrefix(lines[0], []byte("354"))
		defer func() { c.dataReply <- inContent }()
	}
	switch {
	case c.isStalled():
		inContent = false
		return nil
	case c.script.Hangup == p.stage:
		inContent = false
		return errStopped
	case c.script.Stall == p.stage:
		inContent = false
		c.stall()
		return nil
	}

	out := bytes.Join(lines, nil)
	switch {
	case p.override != nil:
		out = p.override.format()
	case p.stage == EHLO && bytes.HasPrefix(lines[0], []byte("250")):
		out = c.rewriteEHLO(lines)
	}
	if inContent {
		c.push(pending{stage: EndOfData, override: c.script.EndOfData})
	}
	if err := c.writeClient(out); err != nil {
		return err
	}
	if inContent && c.script.Hangup == Content {
		return errStopped
	}
	return nil
}

// rewriteEHLO removes from go-smtp's EHLO reply the extensions that the
// front end does not carry out, and adds STARTTLS when it is offered.
func (c *conn) rewriteEHLO(lines [][]byte) []byte {
	texts := []string{strings.TrimRight(string(lines[0][4:]), "\r\n")}
	for _, l := range lines[1:] {
		text := strings.TrimRight(string(l[4:]), "\r\n")
		keyword, _, _ := strings.Cut(text, " ")
		switch strings.ToUpper(keyword) {
		case "PIPELINING", "CHUNKING", "BINARYMIME", "STARTTLS":
			continue
		case "SMTPUTF8":
			if !c.srv.cfg.SMTPUTF8 {
				continue
			}
		}
		texts = append(texts, text)
	}
	if c.offersTLS() {
		texts = append(texts, "STARTTLS")
	}
	return Reply{Code: 250, Text: strings.Join(texts, "\n")}.format()
}

// readReplyLines reads one reply from go-smtp, whose lines are well formed.
func readReplyLines(br *bufio.Reader) ([][]byte, error) {
	var lines [][]byte
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		if len(line) < 4 {
			return nil, errors.New("smtptest: go-smtp sent a reply line without a code")
		}
		lines = append(lines, line)
		if line[3] != '-' {
			return lines, nil
		}
	}
}

// commandVerb returns the command of a command line in upper case.
func commandVerb(line []byte) string {
	text := strings.TrimRight(string(line), "\r\n")
	verb, _, _ := strings.Cut(text, " ")
	return strings.ToUpper(verb)
}

// forwardPath returns the address between the angle brackets of a RCPT
// command line.
func forwardPath(line []byte) string {
	_, rest, ok := strings.Cut(string(line), "<")
	if !ok {
		return ""
	}
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

// contentScanner finds the final dot of message content the way
// go-smtp's reader does: a line of one dot that follows CRLF, or that
// starts the content.
type contentScanner struct{ state int }

const (
	atLineStart = iota // the initial state
	afterDot           // a dot at the start of a line
	afterDotCR         // a dot and CR at the start of a line
	afterCR            // a CR elsewhere
	inLine             // other text
)

// scan returns the number of octets of p that belong to the content, the
// final dot included, and whether the final dot is among them.
func (s *contentScanner) scan(p []byte) (int, bool) {
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch {
		case s.state == inLine && b != '\r':
			// Only a CR can change the state: skip to the next one.
			j := bytes.IndexByte(p[i:], '\r')
			if j < 0 {
				return len(p), false
			}
			i += j
			s.state = afterCR
		case s.state == afterDotCR && b == '\n':
			s.state = atLineStart
			return i + 1, true
		case s.state == afterCR && b == '\n':
			s.state = atLineStart
		case s.state == atLineStart && b == '.':
			s.state = afterDot
		case s.state == afterDot && b == '\r':
			s.state = afterDotCR
		case (s.state == atLineStart || s.state == inLine) && b == '\r':
			s.state = afterCR
		default:
			s.state = inLine
		}
	}
	return len(p), false
}
