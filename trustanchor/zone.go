package trustanchor

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"
)

// zoneCopyFix ends messages about a DS or DNSKEY line that was damaged on
// its way into the file.
const zoneCopyFix = "copy the whole line again from ldns-key2ds -n, dig DS or dig DNSKEY"

// zoneLineForm ends messages about a line that does not parse as a record.
const zoneLineForm = `a trust anchor line has the form "OWNER [TTL] IN DS KEYTAG ALGORITHM ` +
	`DIGESTTYPE DIGEST" or "OWNER [TTL] IN DNSKEY FLAGS 3 ALGORITHM PUBLICKEY"`

// ParseZone reads trust anchors from zone-file text (RFC 1035 §5.1) that
// contains DS and DNSKEY records for any owner names, as ldns-key2ds -n,
// dig DS and dig DNSKEY print them. Comments, blank lines, records that
// parentheses continue over several lines, and the $ORIGIN and $TTL
// directives are allowed. Names without a trailing dot are relative to the
// root until a $ORIGIN line changes the origin. A record of any other type
// is an error, and so is input without any record. The name is used in
// errors and in each anchor's Source.
func ParseZone(r io.Reader, name string) ([]Anchor, error) {
	data, err := readInput(r, name)
	if err != nil {
		return nil, err
	}
	return parseZone(data, name)
}

func parseZone(data []byte, name string) ([]Anchor, error) {
	entries, line, err := splitEntries(string(data))
	if err != nil {
		return nil, &ParseError{File: name, Line: line, Err: err}
	}

	z := zoneState{origin: "."}
	var anchors []Anchor
	for _, e := range entries {
		a, err := z.parseEntry(e.text)
		if err != nil {
			return nil, &ParseError{File: name, Line: e.line, Err: err}
		}
		if a != nil {
			a.Source = fmt.Sprintf("%s:%d", name, e.line)
			anchors = append(anchors, *a)
		}
	}
	if len(anchors) == 0 {
		return nil, &ParseError{File: name, Err: errors.New(
			"no DS or DNSKEY records found; add the lines that ldns-key2ds -n, dig DS or dig DNSKEY print")}
	}
	return anchors, nil
}

// zoneState is the parsing state that earlier lines of a zone file pass to
// later ones.
type zoneState struct {
	// origin is the absolute name that completes relative names.
	origin string
	// ttlDirective is the last $TTL line, or "".
	ttlDirective string
	// owner is the owner name of the previous record, which a line that
	// starts with a blank repeats.
	owner string
}

// parseEntry parses one record or directive. It returns a nil anchor for a
// directive.
func (z *zoneState) parseEntry(text string) (*Anchor, error) {
	if strings.HasPrefix(text, "$") {
		return nil, z.directive(text)
	}
	if text[0] == ' ' || text[0] == '\t' {
		if z.owner == "" {
			return nil, errors.New("the line starts with a blank, which repeats the owner name of " +
				"the record before it, but there is none; write the owner name first")
		}
		text = z.owner + text
	}

	// Each entry gets its own parser, so that an error belongs to the entry
	// whose line number the caller reports. The parser leaves $INCLUDE off.
	zp := dns.NewZoneParser(strings.NewReader(z.ttlDirective+text), z.origin, "")
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("%s; %s", zoneParserMessage(err), zoneLineForm)
	}
	if !ok {
		return nil, fmt.Errorf("no record on the line; %s", zoneLineForm)
	}
	if _, more := zp.Next(); more {
		return nil, fmt.Errorf("more than one record on the line; %s", zoneLineForm)
	}
	z.owner = rr.Header().Name
	return anchorFromRR(rr)
}

func anchorFromRR(rr dns.RR) (*Anchor, error) {
	h := rr.Header()
	if h.Class != dns.ClassINET {
		return nil, fmt.Errorf("record has class %s, but trust anchors are class IN records",
			dns.ClassToString[h.Class])
	}
	switch rr := rr.(type) {
	case *dns.DS:
		if err := checkDS(rr, zoneCopyFix); err != nil {
			return nil, err
		}
		return &Anchor{DS: rr}, nil
	case *dns.DNSKEY:
		if err := checkDNSKEY(rr, zoneCopyFix); err != nil {
			return nil, err
		}
		return &Anchor{DNSKEY: rr}, nil
	}
	return nil, fmt.Errorf("%s record, but a trust anchor file may hold only DS and DNSKEY records; "+
		"delete the line or comment it out with ';'", dns.TypeToString[h.Rrtype])
}

// directive applies a $ORIGIN or $TTL line.
func (z *zoneState) directive(text string) error {
	fields := strings.Fields(text)
	if i := strings.IndexByte(text, ';'); i >= 0 {
		fields = strings.Fields(text[:i])
	}
	switch strings.ToUpper(fields[0]) {
	case "$ORIGIN":
		if len(fields) != 2 {
			return errors.New("$ORIGIN needs exactly one domain name, such as $ORIGIN example.net.")
		}
		origin, ok := absoluteName(fields[1], z.origin)
		if !ok {
			return fmt.Errorf("$ORIGIN %q is not a valid domain name; "+
				"write one such as $ORIGIN example.net.", fields[1])
		}
		z.origin = origin
	case "$TTL":
		if len(fields) != 2 {
			return errors.New("$TTL needs exactly one TTL, such as $TTL 3600")
		}
		zp := dns.NewZoneParser(strings.NewReader(text), z.origin, "")
		zp.Next()
		if err := zp.Err(); err != nil {
			return fmt.Errorf("%s; write the TTL in seconds, such as $TTL 3600", zoneParserMessage(err))
		}
		z.ttlDirective = "$TTL " + fields[1] + "\n"
	case "$INCLUDE":
		return errors.New("$INCLUDE is not allowed in a trust anchor file, so that every anchor " +
			"is visible in the file itself; paste the included records in its place")
	default:
		return fmt.Errorf("unknown directive %s; a trust anchor file may use only $ORIGIN and $TTL",
			fields[0])
	}
	return nil
}

// absoluteName completes a relative name with origin the way a zone file
// does. The name "@" means the origin itself.
func absoluteName(name, origin string) (string, bool) {
	if name == "@" {
		return origin, true
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return "", false
	}
	if dns.IsFqdn(name) {
		return name, true
	}
	if origin == "." {
		return name + ".", true
	}
	return name + "." + origin, true
}

// zoneParserMessage returns the text of a miekg/dns parse error without
// its "dns: " prefix and without its position, which counts lines in the
// single entry that was parsed rather than in the file.
func zoneParserMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "dns: ")
	if i := strings.LastIndex(msg, " at line: "); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
