// The RFC 5155 example zone is signed with 512-bit RSA keys, which
// crypto/rsa rejects unless rsa1024min is off.

//go:debug rsa1024min=0

package dnssec

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
	"github.com/mxclient/mxclient/trustanchor"
)

// rfc5155Dir holds the RFC 5155 Appendix A zone and Appendix B responses.
var rfc5155Dir = filepath.Join("..", "testdata", "rfc5155")

// rfc5155Now lies inside the validity period of every signature of the
// RFC 5155 example zone, 2005-10-21 to 2015-04-20.
var rfc5155Now = time.Date(2010, time.January, 1, 0, 0, 0, 0, time.UTC)

// rfc5155Zone parses the Appendix A zone.
func rfc5155Zone(t *testing.T) []dns.RR {
	t.Helper()
	path := filepath.Join(rfc5155Dir, "example.zone")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, "example.", path)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		sortTypeBitmap(rr)
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return rrs
}

// sortTypeBitmap puts the type list of an NSEC3 record in numeric order.
// RFC 5155 prints lists such as "MX DNSKEY NS SOA NSEC3PARAM RRSIG";
// dns.NewRR keeps that order and dns.PackRR then rejects the record. On the
// wire the type bitmap is a set, in numeric order (RFC 5155 §3.2.1), which
// is the form a validator receives.
func sortTypeBitmap(rr dns.RR) {
	if n, ok := rr.(*dns.NSEC3); ok {
		slices.Sort(n.TypeBitMap)
		n.TypeBitMap = slices.Compact(n.TypeBitMap)
	}
}

// rfc5155Keys returns the DNSKEY RRset of the zone: the ZSK 40430 and the
// KSK 12708.
func rfc5155Keys(t *testing.T, zone []dns.RR) []*dns.DNSKEY {
	t.Helper()
	var keys []*dns.DNSKEY
	for _, rr := range zone {
		if k, ok := rr.(*dns.DNSKEY); ok {
			keys = append(keys, k)
		}
	}
	if len(keys) != 2 {
		t.Fatalf("example.zone has %d DNSKEY records, want 2", len(keys))
	}
	return keys
}

// rfc5155KSK returns the key signing key of the zone, the trust anchor of
// the tests.
func rfc5155KSK(t *testing.T, zone []dns.RR) *dns.DNSKEY {
	t.Helper()
	for _, k := range rfc5155Keys(t, zone) {
		if k.Flags&dns.SEP != 0 {
			if tag := k.KeyTag(); tag != 12708 {
				t.Fatalf("KSK key tag = %d, want 12708", tag)
			}
			return k
		}
	}
	t.Fatal("example.zone has no DNSKEY with the SEP flag")
	return nil
}

// rfc5155DNSKEYResponse is the authoritative answer to "example. DNSKEY":
// the DNSKEY RRset and its RRSIG from the zone.
func rfc5155DNSKEYResponse(zone []dns.RR) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion("example.", dns.TypeDNSKEY)
	m.Response, m.Authoritative = true, true
	for _, rr := range zone {
		switch x := rr.(type) {
		case *dns.DNSKEY:
			m.Answer = append(m.Answer, x)
		case *dns.RRSIG:
			if x.TypeCovered == dns.TypeDNSKEY {
				m.Answer = append(m.Answer, x)
			}
		}
	}
	return m
}

// readRFC5155Response parses a response file of testdata/rfc5155: dig-style
// section markers, one record per line, and comments starting with ";".
func readRFC5155Response(t *testing.T, name string) *dns.Msg {
	t.Helper()
	path := filepath.Join(rfc5155Dir, name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	m := new(dns.Msg)
	sections := map[string]*[]dns.RR{
		";; ANSWER SECTION:":     &m.Answer,
		";; AUTHORITY SECTION:":  &m.Ns,
		";; ADDITIONAL SECTION:": &m.Extra,
	}
	var section *[]dns.RR
	inQuestion := false
	status := regexp.MustCompile(`status: ([A-Z]+)`)
	scanner := bufio.NewScanner(f)
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("%s:%d: %s", path, n, fmt.Sprintf(format, args...))
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, ";; ->>HEADER<<-"):
			match := status.FindStringSubmatch(line)
			if match == nil {
				fail("no status in %q", line)
			}
			rcode, ok := dns.StringToRcode[match[1]]
			if !ok {
				fail("unknown status in %q", line)
			}
			m.Rcode = rcode
		case strings.HasPrefix(line, ";; flags:"):
			flags := strings.Fields(strings.TrimPrefix(line, ";; flags:"))
			m.Response = slices.Contains(flags, "qr")
			m.Authoritative = slices.Contains(flags, "aa")
		case line == ";; QUESTION SECTION:":
			inQuestion, section = true, nil
		case sections[line] != nil:
			inQuestion, section = false, sections[line]
		case strings.HasPrefix(line, ";"):
		case inQuestion:
			fields := strings.Fields(line)
			qtype, ok := dns.StringToType[fields[len(fields)-1]]
			if len(fields) != 3 || fields[1] != "IN" || !ok {
				fail("question %q is not NAME IN TYPE", line)
			}
			m.SetQuestion(fields[0], qtype)
		case section != nil:
			rr, err := dns.NewRR(line)
			if err != nil {
				fail("%v", err)
			}
			sortTypeBitmap(rr)
			*section = append(*section, rr)
		default:
			fail("record %q outside a section", line)
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	if len(m.Question) != 1 {
		t.Fatalf("%s: no question", path)
	}
	return m
}

// rfc5155Source is a Source that returns fixed responses in process. A
// query it has no response for fails, which makes the lookup
// indeterminate. It records every query for failure messages.
type rfc5155Source struct {
	responses map[rfc5155Question]*dns.Msg

	mu      sync.Mutex
	queries []string
}

type rfc5155Question struct {
	name  string
	qtype uint16
}

func newRFC5155Source(responses ...*dns.Msg) *rfc5155Source {
	s := &rfc5155Source{responses: map[rfc5155Question]*dns.Msg{}}
	for _, m := range responses {
		q := m.Question[0]
		s.responses[rfc5155Question{dns.CanonicalName(q.Name), q.Qtype}] = m
	}
	return s
}

func (s *rfc5155Source) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	s.mu.Lock()
	s.queries = append(s.queries, name+" "+dns.TypeToString[qtype])
	s.mu.Unlock()
	m, ok := s.responses[rfc5155Question{dns.CanonicalName(name), qtype}]
	if !ok {
		return nil, fmt.Errorf("no RFC 5155 response for %s %s", name, dns.TypeToString[qtype])
	}
	// Each query gets a fresh message that went through wire form, as a
	// network Source returns it: the Validator lowers TTLs in place.
	wire, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("packing the RFC 5155 response for %s %s: %w", name, dns.TypeToString[qtype], err)
	}
	resp := new(dns.Msg)
	if err := resp.Unpack(wire); err != nil {
		return nil, fmt.Errorf("unpacking the RFC 5155 response for %s %s: %w", name, dns.TypeToString[qtype], err)
	}
	return resp, nil
}

// TestRFC5155Hashes computes the NSEC3 hashes that RFC 5155 lists with
// salt aabbccdd and 12 iterations: the "H(name) = hash" comments of
// Appendix A (in example.zone) and of the Appendix B responses.
func TestRFC5155Hashes(t *testing.T) {
	comment := regexp.MustCompile(`;+ *H\(([^)]+)\)\s*(?:;\s*)?=\s*([0-9a-v]{32})`)
	files, err := filepath.Glob(filepath.Join(rfc5155Dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, path := range files {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range comment.FindAllStringSubmatch(string(text), -1) {
			if h, ok := want[m[1]]; ok && h != m[2] {
				t.Errorf("%s: H(%s) = %s, but another file gives %s", filepath.Base(path), m[1], m[2], h)
			}
			want[m[1]] = m[2]
		}
	}
	// Appendix A lists these twelve names; Appendix B adds the names its
	// proofs hash.
	appendixA := []string{"example", "a.example", "ai.example", "ns1.example", "ns2.example", "w.example",
		"*.w.example", "x.w.example", "y.w.example", "x.y.w.example", "xx.example",
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example"}
	for _, name := range appendixA {
		if _, ok := want[name]; !ok {
			t.Errorf("no H(%s) comment in %s", name, rfc5155Dir)
		}
	}

	params := &dns.NSEC3{Hash: dns.SHA1, Iterations: 12, Salt: "aabbccdd"}
	for name, hash := range want {
		t.Run(name, func(t *testing.T) {
			l := &lookup{limits: DefaultLimits(), hashes: map[nsec3HashKey]string{}}
			got, err := l.nsec3Hash(name+".", params)
			if err != nil {
				t.Fatalf("nsec3Hash(%s.): %v", name, err)
			}
			if got != hash {
				t.Errorf("nsec3Hash(%s.) = %s, want %s", name, got, hash)
			}
		})
	}
}

// TestRFC5155ZoneSignatures verifies every RRSIG of the Appendix A zone
// with the zone's keys. It guards the transcription of example.zone, and
// the RSASHA1-NSEC3-SHA1 path of dnscrypto with 512-bit keys.
func TestRFC5155ZoneSignatures(t *testing.T) {
	zone := rfc5155Zone(t)
	keys := rfc5155Keys(t, zone)
	verified := 0
	for _, set := range groupRRsets(zone) {
		for _, sig := range set.sigs {
			name := fmt.Sprintf("%s %s by %d", set.name, dns.TypeToString[set.rtype], sig.KeyTag)
			t.Run(name, func(t *testing.T) {
				for _, k := range keys {
					if k.KeyTag() != sig.KeyTag {
						continue
					}
					if err := dnscrypto.Verify(sig, k, set.rrs); err != nil {
						t.Fatalf("Verify = %v, want nil", err)
					}
					verified++
					return
				}
				t.Fatalf("no DNSKEY with key tag %d", sig.KeyTag)
			})
		}
	}
	// 30 RRSIGs: 5 at the apex, 12 over the NSEC3 records and 13 over the
	// other RRsets. The NS RRsets of the delegations a.example and c.example
	// and their glue are unsigned (RFC 4035 §2.2).
	if verified != 30 {
		t.Errorf("verified %d RRSIGs, want 30", verified)
	}
}

// TestRFC5155ResponsesMatchZone checks that every record of the Appendix B
// responses is a record of the Appendix A zone, the B.4 answer after
// undoing its wildcard expansion. The -extra.txt answer from the unsigned
// zone c.example is not in the RFC and is left out.
func TestRFC5155ResponsesMatchZone(t *testing.T) {
	inZone := map[string]bool{}
	for _, rr := range rfc5155Zone(t) {
		inZone[rr.String()] = true
	}
	files, err := filepath.Glob(filepath.Join(rfc5155Dir, "b*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 9 {
		t.Errorf("found %d response files in %s, want 9", len(files), rfc5155Dir)
	}
	for _, path := range files {
		name := filepath.Base(path)
		if name == "b3-mc.c.example-mx-extra.txt" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			m := readRFC5155Response(t, name)
			for _, rr := range slices.Concat(m.Answer, m.Ns, m.Extra) {
				rr = dns.Copy(rr)
				if rr.Header().Name == "a.z.w.example." {
					rr.Header().Name = "*.w.example."
				}
				if !inZone[rr.String()] {
					t.Errorf("%s is not a record of example.zone", rr)
				}
			}
		})
	}
}

// rfc5155Case is one lookup against the RFC 5155 example zone.
type rfc5155Case struct {
	name  string
	files []string
	qname string
	qtype uint16
	now   time.Time

	security Security
	rcode    int
	answer   []string
	// reason is the Reason of the BogusError when security is Bogus.
	reason Reason
}

// TestRFC5155Responses looks up the questions of RFC 5155 Appendix B
// through a Validator whose only trust anchor is the example. KSK, with the
// published responses as its Source.
//
// Every NSEC3 record of the example zone has the opt-out flag set. RFC 5155
// §9.2 forbids the AD bit on "a response containing a closest (provable)
// encloser proof in which the NSEC3 RR that covers the 'next closer' name
// has the Opt-Out bit set": such a span may hide an unsigned delegation, so
// the proof holds only for signed names. Those responses are insecure, not
// secure. That covers B.1, B.3, B.4 and B.5; B.2 and B.2.1 rest on an NSEC3
// record that matches the query name and are secure.
func TestRFC5155Responses(t *testing.T) {
	cases := []rfc5155Case{
		{
			name:  "B.1 name error",
			files: []string{"b1-name-error.txt"},
			qname: "a.c.x.w.example.", qtype: dns.TypeA,
			security: Insecure, rcode: dns.RcodeNameError,
		},
		{
			name:  "B.2 no data error",
			files: []string{"b2-no-data.txt"},
			qname: "ns1.example.", qtype: dns.TypeMX,
			security: Secure, rcode: dns.RcodeSuccess,
		},
		{
			name:  "B.2.1 no data error, empty non-terminal",
			files: []string{"b2.1-no-data-empty-non-terminal.txt"},
			qname: "y.w.example.", qtype: dns.TypeA,
			security: Secure, rcode: dns.RcodeSuccess,
		},
		{
			// A recursive resolver returns no referrals, but another Source
			// may. The NSEC3 records prove only that no signed name
			// c.example exists.
			name:  "B.3 referral to an opt-out unsigned zone",
			files: []string{"b3-referral-opt-out.txt"},
			qname: "mc.c.example.", qtype: dns.TypeMX,
			security: Insecure, rcode: dns.RcodeSuccess,
		},
		{
			// RFC 5155 §8.6: no NSEC3 matches c.example and the one covering
			// the next closer name has the opt-out flag, so c.example may be
			// an unsigned delegation and its DS absence is insecure.
			name:  "B.3 DS of the opt-out delegation",
			files: []string{"b3-c.example-ds-extra.txt"},
			qname: "c.example.", qtype: dns.TypeDS,
			security: Insecure, rcode: dns.RcodeSuccess,
		},
		{
			// The answer from inside the unsigned zone has no RRSIG; the
			// validator must find the unsigned delegation c.example by
			// asking for its DS and accept the answer as insecure.
			name:  "B.3 answer from the unsigned child zone",
			files: []string{"b3-mc.c.example-mx-extra.txt", "b3-c.example-ds-extra.txt"},
			qname: "mc.c.example.", qtype: dns.TypeMX,
			security: Insecure, rcode: dns.RcodeSuccess,
			answer: []string{"mc.c.example. 3600 IN MX 50 mx.c.example."},
		},
		{
			// RFC 5155 §8.8: the RRSIG labels field names the wildcard and
			// the NSEC3 covering the next closer name z.w.example proves
			// that no signed z.w.example exists. The covering record has
			// the opt-out flag, so an unsigned delegation z.w.example could
			// exist and a.z.w.example would then lie below a zone cut.
			name:  "B.4 wildcard expansion",
			files: []string{"b4-wildcard-expansion.txt"},
			qname: "a.z.w.example.", qtype: dns.TypeMX,
			security: Insecure, rcode: dns.RcodeSuccess,
			answer: []string{"a.z.w.example. 3600 IN MX 1 ai.example."},
		},
		{
			// RFC 5155 §8.7: a closest encloser proof for a.z.w.example
			// (w.example matches, z.w.example is covered by an opt-out
			// NSEC3) and the NSEC3 of *.w.example without AAAA.
			name:  "B.5 wildcard no data error",
			files: []string{"b5-wildcard-no-data.txt"},
			qname: "a.z.w.example.", qtype: dns.TypeAAAA,
			security: Insecure, rcode: dns.RcodeSuccess,
		},
		{
			// The DS RRset of example. belongs to the parent zone, the
			// root, so only the root can deny it; the NSEC3 record here
			// comes from the child apex (RFC 6840 §4.4). No trust anchor
			// covers the root in this test, so the answer is insecure.
			name:  "B.6 DS child zone no data error",
			files: []string{"b6-ds-child-zone-no-data.txt"},
			qname: "example.", qtype: dns.TypeDS,
			security: Insecure, rcode: dns.RcodeSuccess,
		},
		{
			name:  "B.2 after the signatures expired",
			files: []string{"b2-no-data.txt"},
			qname: "ns1.example.", qtype: dns.TypeMX,
			now:      time.Date(2015, time.April, 21, 0, 0, 0, 0, time.UTC),
			security: Bogus, rcode: dns.RcodeServerFailure, reason: ReasonSignatureExpired,
		},
		{
			name:  "B.2 before the signatures were made",
			files: []string{"b2-no-data.txt"},
			qname: "ns1.example.", qtype: dns.TypeMX,
			now:      time.Date(2005, time.October, 20, 0, 0, 0, 0, time.UTC),
			security: Bogus, rcode: dns.RcodeServerFailure, reason: ReasonSignatureNotYetValid,
		},
	}
	zone := rfc5155Zone(t)
	anchor := trustanchor.Anchor{DNSKEY: rfc5155KSK(t, zone), Source: "RFC 5155 Appendix A"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			responses := []*dns.Msg{rfc5155DNSKEYResponse(zone)}
			for _, file := range tc.files {
				responses = append(responses, readRFC5155Response(t, file))
			}
			res, src := lookupRFC5155(t, tc, anchor, responses)
			checkRFC5155Result(t, tc, res, src)
		})
	}
}

// TestRFC5155AlteredResponse changes a record that the B.2 proof rests on:
// the signature over it must then fail.
func TestRFC5155AlteredResponse(t *testing.T) {
	zone := rfc5155Zone(t)
	anchor := trustanchor.Anchor{DNSKEY: rfc5155KSK(t, zone), Source: "RFC 5155 Appendix A"}
	resp := readRFC5155Response(t, "b2-no-data.txt")
	for _, rr := range resp.Ns {
		if n, ok := rr.(*dns.NSEC3); ok {
			// Claim that ns1.example has no A record either.
			n.TypeBitMap = slices.DeleteFunc(n.TypeBitMap, func(t uint16) bool { return t == dns.TypeA })
		}
	}
	tc := rfc5155Case{
		name: "B.2 with A removed from the NSEC3 type bitmap", qname: "ns1.example.", qtype: dns.TypeA,
		security: Bogus, rcode: dns.RcodeServerFailure, reason: ReasonSignatureInvalid,
	}
	resp.Question[0].Qtype = dns.TypeA
	res, src := lookupRFC5155(t, tc, anchor, []*dns.Msg{rfc5155DNSKEYResponse(zone), resp})
	checkRFC5155Result(t, tc, res, src)
}

func lookupRFC5155(t *testing.T, tc rfc5155Case, anchor trustanchor.Anchor, responses []*dns.Msg) (*Result, *rfc5155Source) {
	t.Helper()
	now := tc.now
	if now.IsZero() {
		now = rfc5155Now
	}
	src := newRFC5155Source(responses...)
	v, err := New(Config{Source: src, Anchors: []trustanchor.Anchor{anchor}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Lookup(context.Background(), tc.qname, tc.qtype)
	if err != nil {
		t.Fatalf("Lookup(%s %s): %v", tc.qname, dns.TypeToString[tc.qtype], err)
	}
	return res, src
}

func checkRFC5155Result(t *testing.T, tc rfc5155Case, res *Result, src *rfc5155Source) {
	t.Helper()
	query := tc.qname + " " + dns.TypeToString[tc.qtype]
	if res.Security != tc.security {
		t.Errorf("Lookup(%s) = %s, want %s\nreason: %v\nqueries: %s\nchain:\n%s", query, res.Security,
			tc.security, res.Reason, strings.Join(src.queries, ", "), chainText(res.Chain))
	}
	if res.Rcode != tc.rcode {
		t.Errorf("Lookup(%s).Rcode = %s, want %s", query, dns.RcodeToString[res.Rcode], dns.RcodeToString[tc.rcode])
	}
	var got []string
	for _, rr := range res.Answer {
		got = append(got, rr.String())
	}
	want := slices.Clone(tc.answer)
	for i, text := range want {
		want[i] = mustRFC5155RR(t, text).String()
	}
	if !slices.Equal(got, want) {
		t.Errorf("Lookup(%s).Answer = %q, want %q", query, got, want)
	}

	switch tc.security {
	case Bogus:
		var be *BogusError
		if !errors.As(res.Reason, &be) {
			t.Fatalf("Lookup(%s).Reason = %v, want a *BogusError", query, res.Reason)
		}
		if be.Reason != tc.reason {
			t.Errorf("Lookup(%s) bogus reason = %q, want %q (%v)", query, be.Reason, tc.reason, be)
		}
	case Insecure:
		var ir *InsecureReason
		if !errors.As(res.Reason, &ir) {
			t.Errorf("Lookup(%s).Reason = %v, want an *InsecureReason", query, res.Reason)
		}
	case Secure:
		if res.Reason != nil {
			t.Errorf("Lookup(%s).Reason = %v, want nil", query, res.Reason)
		}
	}
}

func mustRFC5155RR(t *testing.T, text string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(text)
	if err != nil {
		t.Fatalf("dns.NewRR(%q): %v", text, err)
	}
	return rr
}

func chainText(steps []Step) string {
	var b strings.Builder
	for _, s := range steps {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	return b.String()
}
