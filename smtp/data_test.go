package smtp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/mxclient/mxclient/smtp/smtptest"
)

// normalize runs content through a dataWriter in one write.
func normalize(content string) (string, *dataWriter) {
	var out bytes.Buffer
	dw := newDataWriter(&out)
	dw.Write([]byte(content))
	dw.Close()
	return out.String(), dw
}

func TestDataWriter(t *testing.T) {
	long := strings.Repeat("a", 998)
	tests := []struct {
		name, in, want string
		folded         int
		stuffed        int64
	}{
		{"empty", "", "", 0, 0},
		{"LF", "a\nb\n", "a\r\nb\r\n", 0, 0},
		{"CRLF", "a\r\nb\r\n", "a\r\nb\r\n", 0, 0},
		{"bare CR", "a\rb\r", "a\r\nb\r\n", 0, 0},
		{"CR CR LF", "a\r\r\nb", "a\r\n\r\nb\r\n", 0, 0},
		{"LF CR", "a\n\rb", "a\r\n\r\nb\r\n", 0, 0},
		{"unterminated last line", "a\nb", "a\r\nb\r\n", 0, 0},
		{"dot line", "a\n.\nb\n", "a\r\n..\r\nb\r\n", 0, 1},
		{"leading dot", ".a\n..b\n", "..a\r\n...b\r\n", 0, 2},
		{"dot only", ".", "..\r\n", 0, 1},
		{"dot in a line", "a.b\n", "a.b\r\n", 0, 0},
		{"LF dot LF", "a\n.\nb", "a\r\n..\r\nb\r\n", 0, 1},
		{"CR dot CR", "a\r.\rb", "a\r\n..\r\nb\r\n", 0, 1},
		{"CRLF dot LF", "a\r\n.\nb", "a\r\n..\r\nb\r\n", 0, 1},
		{"LF dot CRLF", "a\n.\r\nb", "a\r\n..\r\nb\r\n", 0, 1},
		{"CRLF dot CR", "a\r\n.\rb", "a\r\n..\r\nb\r\n", 0, 1},
		{"line of 998 octets", long + "\n", long + "\r\n", 0, 0},
		{"line of 999 octets", long + "b\n", long + "\r\n b\r\n", 1, 0},
		{"line of 2000 octets", long + long + "cccc\n",
			long + "\r\n " + long[:997] + "\r\n " + "acccc\r\n", 1, 0},
		{"long line starting with a dot", "." + long + "\n", ".." + long[:997] + "\r\n a\r\n", 1, 1},
		{"fold before a dot", long + ".\n", long + "\r\n .\r\n", 1, 0},
		{"two long lines", long + "x\n" + long + "y", long + "\r\n x\r\n" + long + "\r\n y\r\n", 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dw := normalize(tt.in)
			if got != tt.want {
				t.Errorf("normalize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if dw.folded != tt.folded {
				t.Errorf("normalize(%q) folded %d lines, want %d", tt.in, dw.folded, tt.folded)
			}
			if dw.stuffed != tt.stuffed {
				t.Errorf("normalize(%q) added %d dots, want %d", tt.in, dw.stuffed, tt.stuffed)
			}

			// Every split into two writes gives the same output.
			for i := 0; i <= len(tt.in); i++ {
				var out bytes.Buffer
				dw := newDataWriter(&out)
				dw.Write([]byte(tt.in[:i]))
				dw.Write([]byte(tt.in[i:]))
				dw.Close()
				if out.String() != tt.want {
					t.Fatalf("normalize(%q) split at %d = %q, want %q", tt.in, i, out.String(), tt.want)
				}
			}
		})
	}
}

// smugglingInputs try to end DATA early and start a second transaction.
var smugglingInputs = []struct{ name, content string }{
	{"LF dot LF", "Subject: a\n\nbody\n.\nMAIL FROM:<evil@example.com>\nRCPT TO:<victim@example.net>\nDATA\nforged\n.\n"},
	{"CR dot CR", "Subject: a\r\rbody\r.\rMAIL FROM:<evil@example.com>\rRCPT TO:<victim@example.net>\rDATA\rforged\r.\r"},
	{"CRLF dot LF", "Subject: a\r\n\r\nbody\r\n.\nMAIL FROM:<evil@example.com>\r\n"},
	{"LF dot CRLF", "Subject: a\n\nbody\n.\r\nMAIL FROM:<evil@example.com>\r\n"},
	{"CRLF dot CR", "Subject: a\r\n\r\nbody\r\n.\rMAIL FROM:<evil@example.com>\r\n"},
	{"CR dot LF", "Subject: a\r\n\r\nbody\r.\nMAIL FROM:<evil@example.com>\r\n"},
	{"CRLF dot CRLF", "Subject: a\r\n\r\nbody\r\n.\r\nMAIL FROM:<evil@example.com>\r\n"},
	{"dot CRLF at the start", ".\r\nMAIL FROM:<evil@example.com>\r\n"},
	{"bare LF at the end", "Subject: a\n\nbody\n.\n"},
	{"NUL and dots", "a\x00\n.\x00\n..\n.\r\r\n"},
}

func TestSmugglingOnTheWire(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		for _, tt := range smugglingInputs {
			name := tt.name
			if useTLS {
				name += " over TLS"
			}
			t.Run(name, func(t *testing.T) {
				srv := startReceiver(t, smtptest.Config{})
				cfg := SessionConfig{}
				if useTLS {
					cfg = SessionConfig{TLS: daneTLS(t), RequireTLS: true}
				}
				s := mustOpenSession(t, srv, cfg)
				if err := transact(s, testFrom, []string{testTo}, newMessage(t, tt.content)); err != nil {
					t.Fatalf("transaction: %v", err)
				}
				s.Quit()
				srv.Close()

				wire := contentReceived(t, srv)
				checkWireContent(t, wire)
				// After the only end of data, the server read nothing but QUIT.
				received := srv.Received()
				if !bytes.HasSuffix(received, append(wire, "QUIT\r\n"...)) {
					t.Errorf("the server read more than QUIT after the end of data:\n%q", received)
				}
				msgs := srv.Messages()
				if len(msgs) != 1 {
					t.Fatalf("the server accepted %d messages, want 1", len(msgs))
				}
				want, _ := normalize(tt.content)
				want = strings.ReplaceAll("\n"+want, "\n..", "\n.")[1:]
				if string(msgs[0].Data) != want {
					t.Errorf("message received\n got %q\nwant %q", msgs[0].Data, want)
				}
			})
		}
	}
}

// checkWireContent checks what a client sent after the 354 reply, up to
// and including the final dot: the final dot is the only end of data,
// and every CR and LF are part of a CRLF.
func checkWireContent(t *testing.T, wire []byte) {
	t.Helper()
	withCommand := append([]byte("\r\n"), wire...)
	if i := bytes.Index(withCommand, []byte("\r\n.\r\n")); i != len(withCommand)-5 {
		t.Errorf("end of data at offset %d of %d octets:\n%q", i, len(withCommand), wire)
	}
	for i, b := range wire {
		if b == '\r' && (i+1 == len(wire) || wire[i+1] != '\n') {
			t.Fatalf("bare CR at offset %d: %q", i, wire)
		}
		if b == '\n' && (i == 0 || wire[i-1] != '\r') {
			t.Fatalf("bare LF at offset %d: %q", i, wire)
		}
	}
}

func TestLongLineFolded(t *testing.T) {
	line := strings.Repeat("0123456789", 200_000) // 2 MB
	content := "Subject: long\n\n" + line + "\nend\n"
	msg := newMessage(t, content)
	if got := msg.FoldedLines(); got != 1 {
		t.Errorf("FoldedLines() = %d, want 1", got)
	}

	srv := startReceiver(t, smtptest.Config{})
	s := mustOpenSession(t, srv, SessionConfig{TLS: daneTLS(t), RequireTLS: true})
	if err := transact(s, testFrom, []string{testTo}, msg); err != nil {
		t.Fatalf("transaction: %v", err)
	}
	s.Quit()
	srv.Close()

	wire := contentReceived(t, srv)
	checkWireContent(t, wire)
	for i, l := range bytes.Split(wire, []byte("\r\n")) {
		if len(l) > maxLineContent {
			t.Fatalf("line %d has %d octets, more than %d", i, len(l), maxLineContent)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the server accepted %d messages, want 1", len(msgs))
	}
	unfolded := strings.ReplaceAll(string(msgs[0].Data), "\r\n ", "")
	if want := "Subject: long\r\n\r\n" + line + "\r\nend\r\n"; unfolded != want {
		t.Errorf("the unfolded message differs from the input (%d octets, want %d)", len(unfolded), len(want))
	}
	if got := int64(len(msgs[0].Data)); got != msg.Size() {
		t.Errorf("Size() = %d, but %d octets arrived", msg.Size(), got)
	}
}

// errReader returns data, then err.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestMessageShortenedBeforeData(t *testing.T) {
	path := t.TempDir() + "/message"
	content := strings.Repeat("line of the message\n", 10_000)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msg, err := ReadMessage(f, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(len(content)/2)); err != nil {
		t.Fatal(err)
	}

	srv := startReceiver(t, smtptest.Config{})
	s := mustOpenSession(t, srv, SessionConfig{})
	err = transact(s, testFrom, []string{testTo}, msg)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Data with a shortened file = %v, want io.ErrUnexpectedEOF", err)
	}
	if errors.Is(err, ErrMaybeDelivered) {
		t.Errorf("Data = %v, which claims the server may have the message", err)
	}
	srv.Close()
	if bytes.Contains(srv.Received(), []byte("\r\n.\r\n")) {
		t.Error("the client ended the data of a partial message")
	}
	if got := len(srv.Messages()); got != 0 {
		t.Errorf("the server accepted %d messages, want none", got)
	}
}

func TestDataWriterErrors(t *testing.T) {
	for _, in := range []string{"abc", "\n", "\r\n", ".", strings.Repeat("x", 1500)} {
		dw := newDataWriter(&failAfter{n: 0})
		_, err := dw.Write([]byte(in))
		if err == nil {
			err = dw.Close()
		}
		if err == nil {
			t.Errorf("writing %q to a failing writer succeeded", in)
		}
	}
}

// failAfter accepts n writes, then fails.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, fmt.Errorf("write failed")
	}
	w.n--
	return len(p), nil
}
