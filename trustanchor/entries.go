package trustanchor

import (
	"errors"
	"strings"
)

// entry is one record or directive of a zone file and the line it starts on.
type entry struct {
	line int
	text string
}

// splitEntries splits zone-file text into entries. An entry is one line,
// or several when parentheses continue it (RFC 1035 §5.1). Lines that
// contain only blanks or a comment belong to no entry, unless they lie
// inside parentheses. On error it also returns the line at fault.
func splitEntries(text string) ([]entry, int, error) {
	var (
		entries []entry
		current strings.Builder
		start   int
		depth   int
	)
	for i, line := range strings.Split(text, "\n") {
		number := i + 1
		line = strings.TrimSuffix(line, "\r")
		newDepth, content := scanLine(line, depth)
		if newDepth < 0 {
			return nil, number, errors.New("')' without a matching '('; " +
				"delete it or add the '(' that opens the record")
		}
		if depth == 0 {
			if !content {
				continue
			}
			start = number
			current.Reset()
		}
		current.WriteString(line)
		current.WriteByte('\n')
		depth = newDepth
		if depth == 0 {
			entries = append(entries, entry{line: start, text: current.String()})
		}
	}
	if depth > 0 {
		return nil, start, errors.New("'(' on this line is never closed; " +
			"add the ')' that ends the record")
	}
	return entries, 0, nil
}

// scanLine returns the parenthesis depth after line, given the depth
// before it, and whether the line contains anything other than blanks and
// a comment.
// It skips parentheses and semicolons that are quoted or escaped with a
// backslash, as RFC 1035 §5.1 does. A negative depth means a ')' closed
// more than was open.
func scanLine(line string, depth int) (int, bool) {
	content := false
	quoted := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			content = true
			i++
		case c == '"':
			content = true
			quoted = !quoted
		case quoted:
		case c == ';':
			return depth, content
		case c == '(':
			content = true
			depth++
		case c == ')':
			content = true
			depth--
			if depth < 0 {
				return depth, content
			}
		case c != ' ' && c != '\t':
			content = true
		}
	}
	return depth, content
}
