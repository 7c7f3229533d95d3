package smtp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Message is the content of a message to deliver, read once from its
// input and read again, from the start, for every delivery attempt. It
// keeps the content in a file, never in memory: the input itself when
// that is a regular file, otherwise a spool file.
type Message struct {
	file    *os.File
	start   int64 // offset of the content in file
	length  int64 // octets of content as read
	spool   string
	spooled bool // file is a spool file that Close closes and removes

	size    int64
	has8Bit bool
	folded  int
}

// ReadMessage reads a message to the end of r. When r is an *os.File for
// a regular file that supports seeking, such as standard input
// redirected from a file, the content stays there and is read again from
// its current offset for each attempt. That file must not change until
// Close. Any other input is copied to a temporary file in spoolDir (the
// system's temporary directory when empty), which Close removes.
//
// A read error on r, or a failure to write the spool file, is returned
// and no Message is made, so nothing of a partial message is ever sent.
// Memory use does not depend on the size of the message.
func ReadMessage(r io.Reader, spoolDir string) (*Message, error) {
	if f, ok := r.(*os.File); ok {
		if start, ok := seekableStart(f); ok {
			m := &Message{file: f, start: start}
			if err := m.scan(f, nil); err != nil {
				return nil, fmt.Errorf("smtp: reading the message from %s: %w", f.Name(), err)
			}
			return m, nil
		}
	}
	return spoolMessage(r, spoolDir)
}

// seekableStart returns the current offset of f when f is a regular file
// that supports seeking.
func seekableStart(f *os.File) (int64, bool) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	start, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, false
	}
	return start, true
}

// spoolMessage copies r to a new file in dir. On systems that allow
// removing an open file, such as Linux, the file is unlinked at once, so
// that nothing is left behind even when the process is killed. Elsewhere
// Close removes it.
func spoolMessage(r io.Reader, dir string) (*Message, error) {
	f, err := os.CreateTemp(dir, "mxclient-spool-*")
	if err != nil {
		return nil, fmt.Errorf("smtp: creating a spool file for the message: %w", err)
	}
	m := &Message{file: f, spooled: true}
	if os.Remove(f.Name()) != nil {
		m.spool = f.Name()
	}
	if err := m.scan(r, f); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// scan reads the content from r to its end, copies it to spool when that
// is not nil, and records the facts that Size, Has8Bit and FoldedLines
// report.
func (m *Message) scan(r io.Reader, spool io.Writer) error {
	var wire countingWriter
	dw := newDataWriter(&wire)
	buf := make([]byte, dataBufferSize)
	for {
		n, rerr := r.Read(buf)
		chunk := buf[:n]
		if spool != nil {
			if _, err := spool.Write(chunk); err != nil {
				return fmt.Errorf("smtp: writing the message to the spool file: %w", err)
			}
		}
		m.length += int64(n)
		m.has8Bit = m.has8Bit || has8Bit(chunk)
		dw.Write(chunk)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("smtp: reading the message: %w", rerr)
		}
	}
	dw.Close()
	m.size = wire.n - dw.stuffed
	m.folded = dw.folded
	return nil
}

// Size returns the size of the message as the SIZE extension counts it
// (RFC 1870 §4): octets as sent, with CRLF line endings and folded lines,
// without dot-stuffing and the final dot.
func (m *Message) Size() int64 { return m.size }

// Has8Bit reports whether the content has octets above 127, which need
// BODY=8BITMIME (RFC 6152).
func (m *Message) Has8Bit() bool { return m.has8Bit }

// FoldedLines returns the number of lines longer than 998 octets that
// Session.Data folds, for a warning to the user.
func (m *Message) FoldedLines() int { return m.folded }

// Open returns a reader of the content from its start. Readers from
// several calls are independent. When the file has become shorter than
// the content that ReadMessage read, the reader fails with
// io.ErrUnexpectedEOF instead of ending early, so that a shortened
// message is never sent as if it were complete.
func (m *Message) Open() (io.ReadCloser, error) {
	if m.file == nil {
		return nil, errors.New("smtp: message is closed")
	}
	return &contentReader{r: io.NewSectionReader(m.file, m.start, m.length), left: m.length}, nil
}

// contentReader reads exactly left octets.
type contentReader struct {
	r    io.Reader
	left int64
}

func (c *contentReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err == io.EOF && c.left > 0 {
		err = fmt.Errorf("the message file ended %d octets early: %w", c.left, io.ErrUnexpectedEOF)
	}
	return n, err
}

func (c *contentReader) Close() error { return nil }

// Close removes the spool file. An input file that the message was read
// from is left open for its owner.
func (m *Message) Close() error {
	if m.file == nil || !m.spooled {
		m.file = nil
		return nil
	}
	err := m.file.Close()
	if m.spool != "" {
		if rerr := os.Remove(m.spool); err == nil {
			err = rerr
		}
	}
	m.file = nil
	return err
}

// countingWriter counts the octets written to it and discards them.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// has8Bit reports whether p has an octet above 127, eight octets at a
// time.
func has8Bit(p []byte) bool {
	const high = 0x8080808080808080
	for len(p) >= 8 {
		if binary.LittleEndian.Uint64(p)&high != 0 {
			return true
		}
		p = p[8:]
	}
	for _, b := range p {
		if b >= 0x80 {
			return true
		}
	}
	return false
}
