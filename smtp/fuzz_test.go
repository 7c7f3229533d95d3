package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzReplyReader reads arbitrary server output as replies: it must never
// panic, and every reply it accepts must keep the syntax and the limits.
func FuzzReplyReader(f *testing.F) {
	for _, seed := range []string{
		"250 OK\r\n",
		"250-mx.example.net\r\n250-SIZE 1000\r\n250 STARTTLS\r\n",
		"550 5.1.1 no such user\r\n",
		"220\n",
		"250-a\r\n251 b\r\n",
		"250 " + strings.Repeat("x", 600) + "\r\n",
		strings.Repeat("250-x\r\n", 120),
		"\x00\xff\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var lines int
		rr := replyReader{
			r:      bufio.NewReaderSize(bytes.NewReader(data), 4096),
			onLine: func([]byte) { lines++ },
		}
		for {
			lines = 0
			reply, err := rr.read()
			if err != nil {
				return
			}
			if reply.Code < 200 || reply.Code > 559 {
				t.Fatalf("accepted reply code %d", reply.Code)
			}
			if n := len(reply.Lines); n == 0 || n > maxReplyLines || n != lines {
				t.Fatalf("reply has %d lines, the transcript saw %d", n, lines)
			}
			for _, l := range reply.Lines {
				if len(l) > maxReplyLine-4 {
					t.Fatalf("accepted a line of %d octets of text", len(l))
				}
			}
			if reply.Enhanced != "" && !strings.HasPrefix(reply.Lines[0], reply.Enhanced) {
				t.Fatalf("enhanced code %q is not at the start of %q", reply.Enhanced, reply.Lines[0])
			}
		}
	})
}

// FuzzParseEHLO parses arbitrary EHLO reply lines: every keyword it keeps
// must be valid and in upper case.
func FuzzParseEHLO(f *testing.F) {
	f.Add("mx.example.net\nSIZE 1000\n8bitmime\nSTARTTLS")
	f.Add("x\n-bad\n\n  \nAUTH PLAIN LOGIN")
	f.Fuzz(func(t *testing.T, reply string) {
		for keyword := range parseEHLO(strings.Split(reply, "\n")) {
			if !validKeyword(keyword) || keyword != strings.ToUpper(keyword) {
				t.Fatalf("kept the keyword %q", keyword)
			}
		}
	})
}

// FuzzDataWriter normalises arbitrary content, written in two pieces, and
// checks what goes on the wire. Nothing may end the data before the final
// dot, and CR and LF may come only as CRLF. No line may be longer than RFC
// 5321 allows, and no text may be lost.
func FuzzDataWriter(f *testing.F) {
	for _, seed := range []string{
		"", "a\nb", "\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n", ".\r\n", "..\n.",
		"\r\r\n\n\r", strings.Repeat("x", 2500), "." + strings.Repeat("y", 998) + "\n.",
	} {
		f.Add([]byte(seed), uint16(len(seed)/2))
	}
	f.Fuzz(func(t *testing.T, content []byte, split uint16) {
		cut := min(int(split), len(content))
		var out bytes.Buffer
		dw := newDataWriter(&out)
		dw.Write(content[:cut])
		dw.Write(content[cut:])
		dw.Close()
		checkNormalized(t, content, out.Bytes(), dw)
	})
}

// checkNormalized checks the output of a dataWriter for content.
func checkNormalized(t *testing.T, content, out []byte, dw *dataWriter) {
	t.Helper()
	// The DATA command's CRLF comes before the content, the final dot
	// after it.
	wire := append(append([]byte("\r\n"), out...), ".\r\n"...)
	if i := bytes.Index(wire, []byte("\r\n.\r\n")); i != len(wire)-5 {
		t.Fatalf("end of data at offset %d of %d: %q", i, len(wire), out)
	}
	for i, b := range out {
		if b == '\r' && (i+1 == len(out) || out[i+1] != '\n') {
			t.Fatalf("bare CR at %d: %q", i, out)
		}
		if b == '\n' && (i == 0 || out[i-1] != '\r') {
			t.Fatalf("bare LF at %d: %q", i, out)
		}
	}
	if len(out) > 0 && !bytes.HasSuffix(out, crlf) {
		t.Fatalf("output does not end with CRLF: %q", out)
	}

	// RFC 5321 §4.5.3.1.6: 1000 octets with CRLF, not counting a dot
	// added by stuffing.
	var text []byte
	for _, line := range bytes.Split(bytes.TrimSuffix(out, crlf), crlf) {
		if bytes.HasPrefix(line, []byte("..")) {
			line = line[1:]
		} else if bytes.HasPrefix(line, []byte(".")) {
			t.Fatalf("line %q starts with a dot that is not stuffed", line)
		}
		if len(line)+2 > 1000 {
			t.Fatalf("line of %d octets with CRLF", len(line)+2)
		}
		text = append(text, line...)
	}

	// The text without line breaks is the input's, plus one space per
	// fold.
	var want []byte
	for _, b := range content {
		if b != '\r' && b != '\n' {
			want = append(want, b)
		}
	}
	if dw.folded == 0 && !bytes.Equal(text, want) {
		t.Fatalf("text changed: got %q, want %q", text, want)
	}
	if len(text) < len(want) || (dw.folded == 0) != (len(text) == len(want)) {
		t.Fatalf("%d octets of text for %d of input, %d lines folded", len(text), len(want), dw.folded)
	}
}

// Regression tests for inputs that the fuzz targets found or that sit on
// the edges they probe.
func TestDataWriterEdges(t *testing.T) {
	for _, content := range []string{
		"\r",
		"\r\r",
		".",
		"\n.",
		strings.Repeat("z", 997) + "\r\n.",
		strings.Repeat("z", 998) + ".",
		strings.Repeat("z", 1996),
		strings.Repeat("z", 1997),
	} {
		for cut := 0; cut <= len(content); cut++ {
			var out bytes.Buffer
			dw := newDataWriter(&out)
			dw.Write([]byte(content[:cut]))
			dw.Write([]byte(content[cut:]))
			dw.Close()
			checkNormalized(t, []byte(content), out.Bytes(), dw)
		}
	}
}

func TestReplyReaderDoesNotReadPastReply(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("220 a\r\n250 b\r\n"))
	rr := replyReader{r: r}
	if reply, err := rr.read(); err != nil || reply.Code != 220 {
		t.Fatalf("first read = %v, %v", reply, err)
	}
	if reply, err := rr.read(); err != nil || reply.Code != 250 {
		t.Fatalf("second read = %v, %v", reply, err)
	}
	if _, err := rr.read(); err == nil || errors.Is(err, ErrMalformedReply) {
		t.Errorf("read at the end = %v, want the end of input", err)
	}
}
