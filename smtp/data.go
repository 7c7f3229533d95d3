package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrMaybeDelivered marks a connection lost, or a reply that could not be
// read, after the final dot was sent. The server may have accepted the
// message, so trying again may deliver it twice.
var ErrMaybeDelivered = errors.New("smtp: the message may have been delivered")

// maxLineContent is the longest text line that is sent unchanged: RFC
// 5321 §4.5.3.1.6 allows 1000 octets with the CRLF, not counting a dot
// added for transparency.
const maxLineContent = 998

// dataBufferSize is the size of the writes of message content to the
// connection; each of them has to finish within Timeouts.DataBlock.
const dataBufferSize = 64 << 10

// Data sends the message of the current transaction: the DATA command,
// then the content of msg in the form that dataWriter describes, then the
// final dot, and it waits for the server's reply to the end of data. It
// returns nil only after a 2xx reply.
//
// A connection lost while the content is sent, or a read error on msg,
// closes the connection before the final dot, so the server discards what
// it received. When the reply after the final dot cannot be read, the
// error is in the category ErrMaybeDelivered.
func (s *Session) Data(msg *Message) error {
	reply, err := s.command(s.cfg.Timeouts.DATA, StageDATA, "DATA")
	if err != nil {
		return err
	}
	if reply.Code != 354 {
		return &ReplyError{Stage: StageDATA, Reply: reply}
	}

	if err := s.sendContent(msg); err != nil {
		return err
	}

	reply, err = s.readReply(s.cfg.Timeouts.DataEnd, StageEndOfData)
	if err != nil {
		return &categoryError{category: ErrMaybeDelivered, cause: err,
			msg: err.Error() + "; the server received the whole message and may have delivered it"}
	}
	if !reply.Positive() {
		return &ReplyError{Stage: StageEndOfData, Reply: reply}
	}
	s.utf8 = false
	return nil
}

// sendContent writes the content of msg and the final dot.
func (s *Session) sendContent(msg *Message) error {
	content, err := msg.Open()
	if err != nil {
		return s.fail(fmt.Errorf("smtp: opening the message: %w", err))
	}
	defer content.Close()

	conn := &blockWriter{s: s, timeout: s.cfg.Timeouts.DataBlock}
	bw := bufio.NewWriterSize(conn, dataBufferSize)
	dw := newDataWriter(bw)
	buf := make([]byte, dataBufferSize)
	for {
		n, rerr := content.Read(buf)
		if _, err := dw.Write(buf[:n]); err != nil {
			return s.fail(s.ioError("sending the message", conn.timeout, err))
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return s.fail(fmt.Errorf("smtp: reading the message: %w; the connection is closed "+
				"before the end of data, so the server discards the partial message", rerr))
		}
	}
	dw.Close()
	bw.WriteString(".\r\n")
	if err := bw.Flush(); err != nil {
		return s.fail(s.ioError("sending the message", conn.timeout, err))
	}
	s.tr.sent(".")
	return nil
}

// blockWriter writes message content to the session's connection, each
// write within the data block timeout (RFC 5321 §4.5.3.2.5).
type blockWriter struct {
	s       *Session
	timeout time.Duration
}

func (w *blockWriter) Write(p []byte) (int, error) {
	if err := w.s.setDeadline(w.timeout); err != nil {
		return 0, err
	}
	return w.s.conn.Write(p)
}

// dataWriter turns message content into the text that goes between the
// DATA command and the final dot (RFC 5321 §4.5.2 and §2.3.8):
//
//   - LF, CRLF and a bare CR each end a line, written as CRLF, so that
//     every CR on the wire is followed by LF and every LF follows a CR;
//   - a line that starts with a dot gets a second dot (dot-stuffing);
//   - a line longer than 998 octets is folded: after every 998 octets
//     comes CRLF and a space, as Postfix does (smtp_line_length_limit),
//     which keeps header fields valid but changes other text;
//   - Close ends an unterminated last line with CRLF.
//
// Together these make "CRLF . CRLF" impossible before the final dot, so
// that no input can end the data early and smuggle a second message
// (SMTP smuggling), whichever line endings the server accepts.
type dataWriter struct {
	w io.Writer
	// lineLen is the number of octets written on the current output
	// line, without a dot added by stuffing.
	lineLen int
	// pendingCR is set after a CR whose line end is not yet written,
	// because an LF may follow it in the next Write.
	pendingCR bool
	// lineFolded is set once the current input line has been folded.
	lineFolded bool
	// folded counts the input lines that were folded.
	folded int
	// stuffed counts the dots added by dot-stuffing.
	stuffed int64
}

func newDataWriter(w io.Writer) *dataWriter { return &dataWriter{w: w} }

var crlf = []byte("\r\n")

// Write writes the normalised form of p. The counts in d are exact only
// after Close.
func (d *dataWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if d.pendingCR {
			d.pendingCR = false
			if err := d.endLine(); err != nil {
				return 0, err
			}
			if p[0] == '\n' {
				p = p[1:]
				continue
			}
		}
		switch p[0] {
		case '\r':
			d.pendingCR = true
			p = p[1:]
			continue
		case '\n':
			if err := d.endLine(); err != nil {
				return 0, err
			}
			p = p[1:]
			continue
		}
		text, err := d.writeText(p)
		if err != nil {
			return 0, err
		}
		p = p[text:]
	}
	return n, nil
}

// writeText writes the text at the start of p, up to the next CR or LF or
// to the end of the room on the current line, and returns its length.
func (d *dataWriter) writeText(p []byte) (int, error) {
	if d.lineLen == maxLineContent {
		if err := d.fold(); err != nil {
			return 0, err
		}
	}
	if d.lineLen == 0 && p[0] == '.' {
		if _, err := d.w.Write([]byte{'.'}); err != nil {
			return 0, err
		}
		d.stuffed++
	}
	span := p[:min(len(p), maxLineContent-d.lineLen)]
	if i := indexLineBreak(span); i >= 0 {
		span = span[:i]
	}
	// A CRLF after the text is written with it, in one call.
	if end := len(span); end+1 < len(p) && p[end] == '\r' && p[end+1] == '\n' {
		if _, err := d.w.Write(p[:end+2]); err != nil {
			return 0, err
		}
		d.lineLen = 0
		d.lineFolded = false
		return end + 2, nil
	}
	if _, err := d.w.Write(span); err != nil {
		return 0, err
	}
	d.lineLen += len(span)
	return len(span), nil
}

// indexLineBreak returns the index of the first CR or LF in p, or -1.
func indexLineBreak(p []byte) int {
	lf := bytes.IndexByte(p, '\n')
	search := p
	if lf >= 0 {
		search = p[:lf]
	}
	if cr := bytes.IndexByte(search, '\r'); cr >= 0 {
		return cr
	}
	return lf
}

// fold ends a full output line and starts its continuation with a space,
// so the continuation never needs dot-stuffing.
func (d *dataWriter) fold() error {
	if !d.lineFolded {
		d.lineFolded = true
		d.folded++
	}
	if _, err := d.w.Write([]byte("\r\n ")); err != nil {
		return err
	}
	d.lineLen = 1
	return nil
}

func (d *dataWriter) endLine() error {
	d.lineLen = 0
	d.lineFolded = false
	_, err := d.w.Write(crlf)
	return err
}

// Close writes the end of the last line when the content does not end
// with a line break. It does not write the final dot.
func (d *dataWriter) Close() error {
	if d.pendingCR || d.lineLen > 0 {
		d.pendingCR = false
		return d.endLine()
	}
	return nil
}
