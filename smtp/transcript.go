package smtp

import (
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"
)

// transcript writes the dialogue of a session, one line per command or
// reply line, to an optional writer. Servers are untrusted, so control
// characters and invalid UTF-8 are escaped before they reach a terminal.
type transcript struct{ w io.Writer }

func (t transcript) sent(line string) { t.write(">>> ", []byte(line)) }

func (t transcript) received(line []byte) { t.write("<<< ", line) }

// write writes one line. Its error is ignored: the transcript is for
// people, and delivery must go on when its output is closed.
func (t transcript) write(prefix string, line []byte) {
	if t.w == nil {
		return
	}
	b := make([]byte, 0, len(prefix)+len(line)+1)
	b = append(b, prefix...)
	b = appendSanitized(b, line)
	b = append(b, '\n')
	t.w.Write(b)
}

// sanitize returns b as a string with control characters and invalid
// UTF-8 escaped, for messages and the transcript.
func sanitize(b []byte) string { return string(appendSanitized(nil, b)) }

func appendSanitized(dst, b []byte) []byte {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size == 1:
			dst = fmt.Appendf(dst, `\x%02x`, b[0])
		case r == '\\':
			dst = append(dst, `\\`...)
		case r == ' ' || unicode.IsGraphic(r):
			dst = append(dst, b[:size]...)
		case r < 0x80:
			dst = fmt.Appendf(dst, `\x%02x`, r)
		default:
			dst = fmt.Appendf(dst, `\u%04x`, r)
		}
		b = b[size:]
	}
	return dst
}
