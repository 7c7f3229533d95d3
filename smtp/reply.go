package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Limits on one reply from a server, so that a hostile server cannot make
// the client buffer without bound.
const (
	// maxReplyLine is the longest reply line accepted, counting the reply
	// code and the CRLF (RFC 5321 §4.5.3.1.5).
	maxReplyLine = 512
	// maxReplyLines is the most lines one reply may have. RFC 5321 sets no
	// limit; an EHLO reply has one line per extension, and 100 is several
	// times what real servers send.
	maxReplyLines = 100
)

// ErrMalformedReply is the category, for errors.Is, of every reply that
// breaks the syntax of RFC 5321 §4.2 or the limits above. Examples are a
// line without a valid reply code, lines whose codes differ, a line over
// 512 octets, and too many lines.
var ErrMalformedReply = errors.New("smtp: malformed reply")

// Reply is one reply from an SMTP server.
type Reply struct {
	// Code is the three-digit reply code (RFC 5321 §4.2).
	Code int
	// Enhanced is the enhanced status code (RFC 3463) at the start of the
	// first line, such as "5.1.1", or "" when the reply has none.
	Enhanced string
	// Lines are the texts of the reply lines, each without its reply code,
	// separator and CRLF. An enhanced status code stays in the text.
	Lines []string
}

// String formats r on one line: the code followed by the texts of all
// lines, separated by spaces.
func (r Reply) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%03d", r.Code)
	for _, l := range r.Lines {
		if l != "" {
			b.WriteByte(' ')
			b.WriteString(l)
		}
	}
	return b.String()
}

// Positive reports whether r is a positive completion reply (2xx).
func (r Reply) Positive() bool { return r.Code/100 == 2 }

// ReplyError is a reply that refused what the client asked for: a 4xx or
// 5xx reply, or any reply other than the one the protocol expects at that
// point, such as 250 to DATA.
type ReplyError struct {
	// Stage is what the server replied to: "greeting", "EHLO", "HELO",
	// "STARTTLS", "MAIL", "RCPT", "DATA", "end of data", "RSET" or "QUIT".
	Stage string
	Reply
}

func (e *ReplyError) Error() string {
	if e.Stage == stageGreeting {
		return "smtp: greeting: " + e.Reply.String()
	}
	return fmt.Sprintf("smtp: reply to %s: %s", e.Stage, e.Reply)
}

// Temporary reports whether the reply is a transient negative completion
// reply (4xx), after which the same request may succeed later.
func (e *ReplyError) Temporary() bool { return e.Code/100 == 4 }

// Permanent reports whether the reply is a permanent negative completion
// reply (5xx).
func (e *ReplyError) Permanent() bool { return e.Code/100 == 5 }

// formatError is a reply that breaks the syntax or the limits.
type formatError struct{ reason string }

func (e *formatError) Error() string { return "malformed reply: " + e.reason }

func (e *formatError) Is(target error) bool { return target == ErrMalformedReply }

func malformed(format string, args ...any) error {
	return &formatError{reason: fmt.Sprintf(format, args...)}
}

// replyReader reads replies from a server. It needs a bufio.Reader of at
// least maxReplyLine octets.
type replyReader struct {
	r *bufio.Reader
	// onLine, when not nil, receives each line as it was read, without
	// its line ending, for the transcript.
	onLine func(line []byte)
}

// read reads one reply, which may span several lines (RFC 5321 §4.2.1).
func (rr *replyReader) read() (Reply, error) {
	var reply Reply
	for n := 1; ; n++ {
		line, err := rr.readLine(n)
		if err != nil {
			return Reply{}, err
		}
		code, last, text, err := parseReplyLine(line)
		if err != nil {
			return Reply{}, malformed("line %d: %v", n, err)
		}
		if n == 1 {
			reply.Code = code
			reply.Enhanced = parseEnhanced(code, text)
		} else if code != reply.Code {
			return Reply{}, malformed("line %d has the code %03d, but the reply began with %03d",
				n, code, reply.Code)
		}
		reply.Lines = append(reply.Lines, text)
		if last {
			return reply, nil
		}
		if n == maxReplyLines {
			return Reply{}, malformed("more than %d lines", maxReplyLines)
		}
	}
}

// readLine reads reply line n and returns it without its line ending. It
// accepts a bare LF as well as CRLF, as most clients do.
func (rr *replyReader) readLine(n int) ([]byte, error) {
	line, err := rr.r.ReadSlice('\n')
	if len(line) > maxReplyLine || errors.Is(err, bufio.ErrBufferFull) {
		return nil, malformed("line %d is longer than %d octets (RFC 5321 §4.5.3.1.5)", n, maxReplyLine)
	}
	if err != nil {
		if len(line) > 0 {
			return nil, fmt.Errorf("connection ended inside reply line %d %q: %w",
				n, sanitize(line), err)
		}
		return nil, err
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	if rr.onLine != nil {
		rr.onLine(line)
	}
	return line, nil
}

// parseReplyLine splits a reply line into its code, whether it is the last
// line of the reply, and its text. RFC 5321 §4.2 allows codes whose first
// digit is 2 to 5 and whose second digit is 0 to 5; 1xx replies do not
// exist in SMTP.
func parseReplyLine(line []byte) (code int, last bool, text string, err error) {
	if len(line) < 3 {
		return 0, false, "", fmt.Errorf("%q has no reply code", sanitize(line))
	}
	d0, d1, d2 := line[0], line[1], line[2]
	if d0 < '2' || d0 > '5' || d1 < '0' || d1 > '5' || d2 < '0' || d2 > '9' {
		return 0, false, "", fmt.Errorf("%q does not start with a reply code", sanitize(line))
	}
	code = int(d0-'0')*100 + int(d1-'0')*10 + int(d2-'0')
	switch {
	case len(line) == 3:
		return code, true, "", nil
	case line[3] == ' ':
		return code, true, string(line[4:]), nil
	case line[3] == '-':
		return code, false, string(line[4:]), nil
	}
	return 0, false, "", fmt.Errorf("%q has neither a space nor a hyphen after the reply code",
		sanitize(line))
}

// parseEnhanced returns the enhanced status code at the start of text, or
// "" when there is none. RFC 3463 §2 defines it as class "." subject "."
// detail, each of one to three digits, and RFC 2034 §4 requires the class
// to equal the first digit of the reply code.
func parseEnhanced(code int, text string) string {
	word, _, _ := strings.Cut(text, " ")
	class, rest, ok := strings.Cut(word, ".")
	if !ok || class != fmt.Sprint(code/100) {
		return ""
	}
	subject, detail, ok := strings.Cut(rest, ".")
	if !ok || !isDigits(subject, 3) || !isDigits(detail, 3) {
		return ""
	}
	return word
}

// isDigits reports whether s is one to max ASCII digits.
func isDigits(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
