package dane

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// maxZoneSize is the largest input ParseZone reads, in bytes. A TLSA line
// with a SHA2-256 digest is about 110 bytes and one with a full 4096-bit
// RSA certificate about 3 kB, so the limit leaves room for hundreds of
// records.
const maxZoneSize = 1 << 20

// maxZoneRecords is the largest number of records ParseZone returns. On
// the wire, the smallest TLSA record takes 14 bytes: the 1-byte root name
// as owner, 10 bytes of type, class, TTL and length, and the three 1-byte
// fields with empty data. A DNS message of at most 65,535 bytes, with its
// 12-byte header and a question, carries at most 4,679 of them, so no
// TLSA RRset that a lookup returns is larger than this limit.
const maxZoneRecords = 8192

// ParseError reports TLSA records in zone-file form that do not parse.
type ParseError struct {
	// File is the name given to ParseZone, usually a path.
	File string
	// Line is the 1-based line of a syntax error, or 0 when the error
	// concerns a whole record or the whole input.
	Line int
	// Record is the 1-based position of the record the error concerns,
	// or 0.
	Record int
	Err    error
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("dane: %s:%d: %v", e.File, e.Line, e.Err)
	case e.Record > 0:
		return fmt.Sprintf("dane: %s: record %d: %v", e.File, e.Record, e.Err)
	}
	return fmt.Sprintf("dane: %s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// tlsaLineForm ends messages about input that is not a TLSA record.
const tlsaLineForm = `a TLSA line has the form "_25._tcp.HOST. [TTL] IN TLSA USAGE SELECTOR ` +
	`MATCHINGTYPE HEXDATA", as dig TLSA prints it`

// ParseZone reads TLSA records in zone-file form (RFC 1035 §5.1), as dig
// and zone files write them. Comments, blank lines, parentheses across
// lines, $ORIGIN and $TTL are allowed, and so are records without TTL or
// class. Names without a final dot are relative to the root until a
// $ORIGIN line. Records that parse but are unusable, such as PKIX-EE(1)
// records, are returned: Classify sorts them out.
//
// ParseZone returns a *ParseError that names file for a record of another
// type or class, data that is not hexadecimal, a syntax error, input
// without any record, and input of more than maxZoneRecords records. It
// also rejects $GENERATE lines, which expand to thousands of records
// each, and $INCLUDE lines, which would read other files.
func ParseZone(r io.Reader, file string) ([]*dns.TLSA, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxZoneSize+1))
	if err != nil {
		return nil, &ParseError{File: file, Err: err}
	}
	if len(data) > maxZoneSize {
		return nil, &ParseError{File: file, Err: fmt.Errorf("larger than %d bytes", maxZoneSize)}
	}
	if err := checkDirectives(data, file); err != nil {
		return nil, err
	}

	zp := dns.NewZoneParser(bytes.NewReader(data), ".", "")
	// The TTL plays no part in matching, so a record may leave it out even
	// without a $TTL line.
	zp.SetDefaultTTL(0)
	var records []*dns.TLSA
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if len(records) == maxZoneRecords {
			return nil, &ParseError{File: file, Err: fmt.Errorf("more than %d records, more than "+
				"any DNS message can carry", maxZoneRecords)}
		}
		t, err := checkZoneRecord(rr)
		if err != nil {
			return nil, &ParseError{File: file, Record: len(records) + 1, Err: err}
		}
		records = append(records, t)
	}
	if err := zp.Err(); err != nil {
		msg, line := splitParserError(err)
		return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("%s; %s", msg, tlsaLineForm)}
	}
	if len(records) == 0 {
		return nil, &ParseError{File: file, Err: errors.New("no TLSA records found; " + tlsaLineForm)}
	}
	return records, nil
}

// rejectedDirectives are the zone-file directives that ParseZone rejects.
var rejectedDirectives = []string{"$GENERATE", "$INCLUDE"}

// checkDirectives returns a *ParseError for the first line of data that
// contains one of rejectedDirectives anywhere, even in a comment. The
// check errs on the side of rejection. The lexer of miekg/dns v1.1.73
// takes a directive only at the start of a line. But it drops "(", ")"
// and "\r" from a token, joins lines inside parentheses, and compares with
// strings.ToUpper, so "$Gen(\nerate" and "$ınclude" with a dotless i are
// directives too.
func checkDirectives(data []byte, file string) error {
	line := 1
	for i, c := range data {
		if c == '\n' {
			line++
		}
		if c != '$' {
			continue
		}
		for _, directive := range rejectedDirectives {
			if startsWithDirective(data[i:], directive) {
				return &ParseError{File: file, Line: line, Err: fmt.Errorf("%s is not allowed: give "+
					"each TLSA record on a line of its own; %s", directive, tlsaLineForm)}
			}
		}
	}
	return nil
}

// startsWithDirective reports whether text starts with directive, where
// the runes of text are compared as unicode.ToUpper maps them and the
// bytes that the miekg/dns lexer drops from a token are skipped.
func startsWithDirective(text []byte, directive string) bool {
	for _, want := range directive {
		for {
			r, size := utf8.DecodeRune(text)
			if size == 0 {
				return false
			}
			text = text[size:]
			if r == '(' || r == ')' || r == '\r' || r == '\n' {
				continue
			}
			if unicode.ToUpper(r) != want {
				return false
			}
			break
		}
	}
	return true
}

// checkZoneRecord returns rr as a TLSA record, or why it is not one. The
// error quotes the record, because the zone parser does not say on which
// line a record began.
func checkZoneRecord(rr dns.RR) (*dns.TLSA, error) {
	h := rr.Header()
	t, ok := rr.(*dns.TLSA)
	if !ok {
		return nil, fmt.Errorf("%s has type %s, but only TLSA records are allowed; "+
			"delete the line or comment it out with ';'", h.Name, dns.TypeToString[h.Rrtype])
	}
	if h.Class != dns.ClassINET {
		return nil, fmt.Errorf("%s TLSA %s has class %s, but TLSA records are class IN",
			h.Name, Record{TLSA: t}, dns.ClassToString[h.Class])
	}
	if _, err := hex.DecodeString(t.Certificate); err != nil {
		return nil, fmt.Errorf("%s TLSA %s: the certificate association data is not hexadecimal "+
			"(%v); copy the whole record again", h.Name, Record{TLSA: t}, err)
	}
	return t, nil
}

// parserPosition matches the position at the end of a miekg/dns parse
// error, such as ` at line: 6:15`.
var parserPosition = regexp.MustCompile(` at line: (\d+):\d+$`)

// splitParserError returns the text of a miekg/dns parse error without its
// "dns: " prefix and position, and the line of the position, or 0 when the
// message has none.
func splitParserError(err error) (msg string, line int) {
	msg = strings.TrimPrefix(err.Error(), "dns: ")
	m := parserPosition.FindStringSubmatchIndex(msg)
	if m == nil {
		return msg, 0
	}
	line, _ = strconv.Atoi(msg[m[2]:m[3]])
	return msg[:m[0]], line
}
