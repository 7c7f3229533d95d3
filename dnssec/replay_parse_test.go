package dnssec

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// This file parses Unbound's replay format (testdata/*.rpl in Unbound's
// source tree, read by its testbound program): a config block in
// unbound.conf syntax up to CONFIG_END, then a scenario of scripted server
// answers (RANGE) and client steps (STEP). Every keyword the parser does not
// implement is an error, so that a file never passes by having part of it
// ignored.

// replayFile is one parsed replay file.
type replayFile struct {
	name   string
	config replayConfig
	title  string
	ranges []*replayRange
	steps  []*replayStep
}

// replayRange holds the answers of the servers at addrs while the step
// number lies in [first, last]. A range without ADDRESS answers for every
// server.
type replayRange struct {
	line        int
	first, last int
	addrs       []netip.AddrPort
	entries     []*replayEntry
}

// replayEntry is one ENTRY_BEGIN … ENTRY_END block: a scripted answer with
// the rules for which queries it answers, or a client query or expected
// answer inside a STEP.
type replayEntry struct {
	line  int
	match replayMatch
	// copyID and copyQuery are the ADJUST keywords: take the message ID,
	// or the question section, from the query.
	copyID    bool
	copyQuery bool
	// msg holds the REPLY flags and rcode and the SECTION records.
	msg *dns.Msg
}

// replayMatch is the set of MATCH keywords of an entry.
type replayMatch struct {
	opcode, qtype, qname, subdomain bool
	// all compares a whole answer packet; ttl adds its TTLs. The runner
	// compares outcomes instead (see replay_check_test.go).
	all, ttl bool
	tcp, udp bool
	do       bool
	noEDNS   bool
	// ede is the extended DNS error code (RFC 8914) the answer must carry,
	// or -1.
	ede int
}

// Step kinds.
const (
	replayQuery       = "QUERY"
	replayCheckAnswer = "CHECK_ANSWER"
	replayTimePasses  = "TIME_PASSES"
	replayTraffic     = "TRAFFIC"
)

// replayStep is one STEP: a client query, an expected answer, a clock
// advance, or TRAFFIC (let pending queries run, a no-op here because every
// lookup finishes before the next step).
type replayStep struct {
	line   int
	number int
	kind   string
	entry  *replayEntry
	elapse time.Duration
}

// loadReplayFile reads and parses path.
func loadReplayFile(path string) (*replayFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseReplay(filepath.Base(path), string(data))
}

// parseReplay parses the text of a replay file named name.
func parseReplay(name, text string) (*replayFile, error) {
	r := &replayReader{name: name, lines: strings.Split(text, "\n")}
	f := &replayFile{name: name}
	cfg, err := parseReplayConfig(r)
	if err != nil {
		return nil, err
	}
	f.config = cfg
	if err := parseReplayScenario(r, f); err != nil {
		return nil, err
	}
	return f, nil
}

// replayReader hands out the lines of a replay file without comments and
// blank lines, with records continued in parentheses joined into one line.
type replayReader struct {
	name  string
	lines []string
	// pos is the index of the next line; line is the number of the last
	// line returned, for messages.
	pos  int
	line int
}

// next returns the next line with content. comments lists the characters
// that start a comment: ";" in the scenario, ";#" in the config block.
func (r *replayReader) next(comments string) (string, bool, error) {
	for r.pos < len(r.lines) {
		r.line = r.pos + 1
		text := stripReplayComment(r.lines[r.pos], comments)
		r.pos++
		depth := parenDepth(text)
		for depth > 0 && r.pos < len(r.lines) {
			more := stripReplayComment(r.lines[r.pos], comments)
			r.pos++
			text += " " + more
			depth = parenDepth(text)
		}
		if depth != 0 {
			return "", false, r.errorf("unbalanced parentheses")
		}
		if text = strings.TrimSpace(text); text != "" {
			return text, true, nil
		}
	}
	return "", false, nil
}

func (r *replayReader) errorf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", r.name, r.line, fmt.Sprintf(format, args...))
}

// stripReplayComment cuts line at the first comment character outside
// double quotes.
func stripReplayComment(line, comments string) string {
	quoted := false
	for i, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && strings.ContainsRune(comments, c):
			return line[:i]
		}
	}
	return line
}

func parenDepth(text string) int {
	depth, quoted := 0, false
	for _, c := range text {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && c == '(':
			depth++
		case !quoted && c == ')':
			depth--
		}
	}
	return depth
}

// parseReplayScenario parses SCENARIO_BEGIN … SCENARIO_END.
func parseReplayScenario(r *replayReader, f *replayFile) error {
	line, ok, err := r.next(";")
	if err != nil {
		return err
	}
	title, found := strings.CutPrefix(line, "SCENARIO_BEGIN")
	if !ok || !found {
		return r.errorf("SCENARIO_BEGIN missing after CONFIG_END")
	}
	f.title = strings.TrimSpace(title)
	for {
		line, ok, err := r.next(";")
		if err != nil {
			return err
		}
		if !ok {
			return r.errorf("SCENARIO_END missing")
		}
		fields := strings.Fields(line)
		switch fields[0] {
		case "RANGE_BEGIN":
			rng, err := parseReplayRange(r, fields)
			if err != nil {
				return err
			}
			f.ranges = append(f.ranges, rng)
		case "STEP":
			st, err := parseReplayStep(r, fields)
			if err != nil {
				return err
			}
			if n := len(f.steps); n > 0 && st.number <= f.steps[n-1].number {
				return r.errorf("STEP %d follows STEP %d; step numbers must increase", st.number, f.steps[n-1].number)
			}
			f.steps = append(f.steps, st)
		case "SCENARIO_END":
			if _, more, _ := r.next(";"); more {
				return r.errorf("text after SCENARIO_END")
			}
			return nil
		default:
			return r.errorf("unknown keyword %q in the scenario", fields[0])
		}
	}
}

// parseReplayRange parses RANGE_BEGIN first last, its ADDRESS lines and
// entries, up to RANGE_END.
func parseReplayRange(r *replayReader, fields []string) (*replayRange, error) {
	if len(fields) != 3 {
		return nil, r.errorf("RANGE_BEGIN needs a first and a last step number")
	}
	rng := &replayRange{line: r.line}
	var err1, err2 error
	rng.first, err1 = strconv.Atoi(fields[1])
	rng.last, err2 = strconv.Atoi(fields[2])
	if err1 != nil || err2 != nil || rng.first > rng.last {
		return nil, r.errorf("invalid step range %s %s", fields[1], fields[2])
	}
	for {
		line, ok, err := r.next(";")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, r.errorf("RANGE_END missing for the range of line %d", rng.line)
		}
		fields := strings.Fields(line)
		switch fields[0] {
		case "ADDRESS":
			if len(fields) != 2 {
				return nil, r.errorf("ADDRESS needs one address")
			}
			addr, err := parseReplayAddr(fields[1])
			if err != nil {
				return nil, r.errorf("%v", err)
			}
			rng.addrs = append(rng.addrs, addr)
		case "ENTRY_BEGIN":
			e, err := parseReplayEntry(r)
			if err != nil {
				return nil, err
			}
			rng.entries = append(rng.entries, e)
		case "RANGE_END":
			return rng, nil
		default:
			return nil, r.errorf("unknown keyword %q in a RANGE", fields[0])
		}
	}
}

// parseReplayAddr parses an address in the forms Unbound's files use: IP,
// or IP@PORT. The port defaults to 53.
func parseReplayAddr(s string) (netip.AddrPort, error) {
	host, portText, hasPort := strings.Cut(strings.Trim(s, `"`), "@")
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("invalid address %q", s)
	}
	port := uint64(53)
	if hasPort {
		if port, err = strconv.ParseUint(portText, 10, 16); err != nil || port == 0 {
			return netip.AddrPort{}, fmt.Errorf("invalid port in %q", s)
		}
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// parseReplayStep parses a STEP line and, for QUERY and CHECK_ANSWER, the
// entry that follows it.
func parseReplayStep(r *replayReader, fields []string) (*replayStep, error) {
	if len(fields) < 3 {
		return nil, r.errorf("STEP needs a number and a kind")
	}
	n, err := strconv.Atoi(fields[1])
	if err != nil || n < 0 {
		return nil, r.errorf("invalid step number %q", fields[1])
	}
	st := &replayStep{line: r.line, number: n, kind: fields[2]}
	args := fields[3:]
	switch st.kind {
	case replayQuery, replayCheckAnswer:
		if len(args) != 0 {
			return nil, r.errorf("STEP %s takes no arguments, got %q", st.kind, strings.Join(args, " "))
		}
		line, ok, err := r.next(";")
		if err != nil {
			return nil, err
		}
		if !ok || line != "ENTRY_BEGIN" {
			return nil, r.errorf("STEP %d %s must be followed by ENTRY_BEGIN", n, st.kind)
		}
		if st.entry, err = parseReplayEntry(r); err != nil {
			return nil, err
		}
		if len(st.entry.msg.Question) != 1 {
			return nil, r.errorf("the entry of STEP %d needs exactly one question", n)
		}
	case replayTimePasses:
		if len(args) != 2 || args[0] != "ELAPSE" {
			return nil, r.errorf("TIME_PASSES supports only ELAPSE SECONDS")
		}
		secs, err := strconv.ParseFloat(args[1], 64)
		if err != nil || secs < 0 {
			return nil, r.errorf("invalid ELAPSE %q", args[1])
		}
		st.elapse = time.Duration(secs * float64(time.Second))
	case replayTraffic:
		if len(args) != 0 {
			return nil, r.errorf("STEP TRAFFIC takes no arguments")
		}
	default:
		return nil, r.errorf("unsupported step kind %q", st.kind)
	}
	return st, nil
}

// replayKeyword matches the first field of a line that is a keyword rather
// than a record: capital letters and underscores, no dot.
var replayKeyword = regexp.MustCompile(`^[A-Z][A-Z_]*$`)

// parseReplayEntry parses the lines after ENTRY_BEGIN up to ENTRY_END.
func parseReplayEntry(r *replayReader) (*replayEntry, error) {
	e := &replayEntry{line: r.line, match: replayMatch{ede: -1}, msg: new(dns.Msg)}
	section := ""
	for {
		line, ok, err := r.next(";")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, r.errorf("ENTRY_END missing for the entry of line %d", e.line)
		}
		fields := strings.Fields(line)
		if !replayKeyword.MatchString(fields[0]) {
			if err := addReplayRecord(e.msg, section, line); err != nil {
				return nil, r.errorf("%v", err)
			}
			continue
		}
		switch fields[0] {
		case "MATCH":
			err = e.match.parse(fields[1:])
		case "ADJUST":
			err = e.parseAdjust(fields[1:])
		case "REPLY":
			err = parseReplyFlags(e.msg, fields[1:])
		case "SECTION":
			if len(fields) != 2 || !slices.Contains([]string{"QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL"}, fields[1]) {
				err = fmt.Errorf("SECTION needs one of QUESTION, ANSWER, AUTHORITY, ADDITIONAL")
			}
			section = fields[len(fields)-1]
		case "ENTRY_END":
			return e, nil
		default:
			err = fmt.Errorf("unknown keyword %q in an entry", fields[0])
		}
		if err != nil {
			return nil, r.errorf("%v", err)
		}
	}
}

func (m *replayMatch) parse(words []string) error {
	for _, w := range words {
		if code, ok := strings.CutPrefix(w, "ede="); ok {
			n, err := strconv.ParseUint(code, 10, 16)
			if err != nil {
				return fmt.Errorf("invalid MATCH %s", w)
			}
			m.ede = int(n)
			continue
		}
		flag := map[string]*bool{
			"opcode": &m.opcode, "qtype": &m.qtype, "qname": &m.qname, "subdomain": &m.subdomain,
			"all": &m.all, "ttl": &m.ttl, "TCP": &m.tcp, "UDP": &m.udp, "DO": &m.do, "noedns": &m.noEDNS,
		}[w]
		if flag == nil {
			return fmt.Errorf("unknown MATCH keyword %q", w)
		}
		*flag = true
	}
	return nil
}

func (e *replayEntry) parseAdjust(words []string) error {
	for _, w := range words {
		switch w {
		case "copy_id":
			e.copyID = true
		case "copy_query":
			e.copyQuery = true
		default:
			return fmt.Errorf("unknown ADJUST keyword %q", w)
		}
	}
	return nil
}

// parseReplyFlags sets the header flags, opcode and rcode of a REPLY line.
// DO adds an EDNS0 OPT record with the DO bit.
func parseReplyFlags(m *dns.Msg, words []string) error {
	for _, w := range words {
		flag := map[string]*bool{
			"QR": &m.Response, "AA": &m.Authoritative, "TC": &m.Truncated, "RD": &m.RecursionDesired,
			"RA": &m.RecursionAvailable, "AD": &m.AuthenticatedData, "CD": &m.CheckingDisabled,
		}[w]
		if flag != nil {
			*flag = true
			continue
		}
		if w == "DO" {
			m.SetEdns0(4096, true)
			continue
		}
		if op, ok := dns.StringToOpcode[w]; ok {
			m.Opcode = op
			continue
		}
		if w == "NOTIMPL" {
			// Unbound's spelling of NOTIMP.
			w = "NOTIMP"
		}
		if rcode, ok := dns.StringToRcode[w]; ok {
			m.Rcode = rcode
			continue
		}
		return fmt.Errorf("unknown REPLY keyword %q", w)
	}
	return nil
}

// addReplayRecord adds one record line to the named section of m.
func addReplayRecord(m *dns.Msg, section, line string) error {
	if section == "" {
		return fmt.Errorf("record %q outside a SECTION", line)
	}
	if section == "QUESTION" {
		q, err := parseReplayQuestion(line)
		if err != nil {
			return err
		}
		m.Question = append(m.Question, q)
		return nil
	}
	rr, err := dns.NewRR(line)
	if err != nil {
		return fmt.Errorf("invalid record: %v", err)
	}
	if rr == nil {
		return fmt.Errorf("no record in %q", line)
	}
	if rr, err = keepGenericRdata(rr, line); err != nil {
		return err
	}
	sortReplayTypeBitmap(rr)
	switch section {
	case "ANSWER":
		m.Answer = append(m.Answer, rr)
	case "AUTHORITY":
		m.Ns = append(m.Ns, rr)
	case "ADDITIONAL":
		m.Extra = append(m.Extra, rr)
	}
	return nil
}

// keepGenericRdata returns rr with the exact octets of rdata written in
// the generic form of RFC 3597 §5 ("\# LENGTH HEX"). dns.NewRR converts
// such rdata to the record's type and may drop octets on the way: an A
// record of five octets becomes a valid one of four. The files use the
// generic form for malformed records, so the runner keeps their octets
// and lets the wire form show the damage.
func keepGenericRdata(rr dns.RR, line string) (dns.RR, error) {
	fields := strings.Fields(line)
	at := slices.Index(fields, `\#`)
	if at < 0 || at+2 > len(fields) {
		return rr, nil
	}
	length, err := strconv.Atoi(fields[at+1])
	rdata := strings.Join(fields[at+2:], "")
	if err != nil || len(rdata) != 2*length {
		return nil, fmt.Errorf("record %q: generic rdata length does not match its octets", line)
	}
	h := *rr.Header()
	return &dns.RFC3597{Hdr: h, Rdata: strings.ToLower(rdata)}, nil
}

// sortReplayTypeBitmap puts the type list of an NSEC or NSEC3 record in the
// ascending order of the wire form (RFC 4034 §4.1.2): the files write some
// lists unordered, and the signatures cover the wire form.
func sortReplayTypeBitmap(rr dns.RR) {
	switch r := rr.(type) {
	case *dns.NSEC:
		slices.Sort(r.TypeBitMap)
		r.TypeBitMap = slices.Compact(r.TypeBitMap)
	case *dns.NSEC3:
		slices.Sort(r.TypeBitMap)
		r.TypeBitMap = slices.Compact(r.TypeBitMap)
	}
}

// parseReplayQuestion parses "NAME [CLASS] TYPE".
func parseReplayQuestion(line string) (dns.Question, error) {
	fields := strings.Fields(line)
	if len(fields) == 3 {
		if fields[1] != "IN" {
			return dns.Question{}, fmt.Errorf("question %q: only class IN is supported", line)
		}
		fields = []string{fields[0], fields[2]}
	}
	if len(fields) != 2 {
		return dns.Question{}, fmt.Errorf("question %q is not NAME [CLASS] TYPE", line)
	}
	if _, ok := dns.IsDomainName(fields[0]); !ok {
		return dns.Question{}, fmt.Errorf("question %q: invalid name", line)
	}
	qtype, ok := dns.StringToType[strings.ToUpper(fields[1])]
	if !ok {
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(fields[1]), "TYPE"), 10, 16)
		if err != nil || !strings.HasPrefix(strings.ToUpper(fields[1]), "TYPE") {
			return dns.Question{}, fmt.Errorf("question %q: unknown type", line)
		}
		qtype = uint16(n)
	}
	return dns.Question{Name: dns.Fqdn(fields[0]), Qtype: qtype, Qclass: dns.ClassINET}, nil
}
