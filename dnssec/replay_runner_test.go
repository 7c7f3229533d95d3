package dnssec

import (
	"context"
	"crypto/dsa"
	"crypto/rand"
	"crypto/sha1"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// Tests of the replay runner itself: its parser, its in-process servers,
// its outcome mapping and its DSA verifier.

// replaySample is a small replay file in Unbound's format. Its parts are
// replaced by the parser tests below.
const replaySample = `; config options
server:
	trust-anchor: "example.com. 3600 IN DS 2854 3 1 46e4ffc6e9a4793b488954bd3f0cc6af0dfb201b"
	val-override-date: "20070916134226"
	qname-minimisation: "no"
	fake-sha1: yes # comments after a hash mark
stub-zone:
	name: "."
	stub-addr: 193.0.14.129
CONFIG_END

SCENARIO_BEGIN A sample scenario
RANGE_BEGIN 0 100
	ADDRESS 193.0.14.129
ENTRY_BEGIN
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
www.example.com. IN A
SECTION ANSWER
www.example.com. IN A 10.20.30.40
ENTRY_END
ENTRY_BEGIN
MATCH opcode subdomain
ADJUST copy_id copy_query
REPLY QR NXDOMAIN
SECTION QUESTION
example.com. IN A
SECTION AUTHORITY
example.com. IN NSEC ( zzz.example.com.
	SOA NS A NSEC )
ENTRY_END
RANGE_END

STEP 1 QUERY
ENTRY_BEGIN
REPLY RD DO
SECTION QUESTION
www.example.com. IN A
ENTRY_END
STEP 2 TIME_PASSES ELAPSE 0.5
STEP 10 CHECK_ANSWER
ENTRY_BEGIN
MATCH all ede=6
REPLY QR RD RA AD DO NOERROR
SECTION QUESTION
www.example.com. IN A
SECTION ANSWER
www.example.com. IN A 10.20.30.40
ENTRY_END
SCENARIO_END
`

func TestReplayParseSample(t *testing.T) {
	f, err := parseReplay("sample.rpl", replaySample)
	if err != nil {
		t.Fatalf("parseReplay(sample) = %v", err)
	}

	if len(f.config.anchors) != 1 || f.config.anchors[0].DS == nil || f.config.anchors[0].DS.KeyTag != 2854 {
		t.Errorf("anchors = %v, want the DS with key tag 2854", f.config.anchors)
	}
	if want := time.Date(2007, 9, 16, 13, 42, 26, 0, time.UTC); !f.config.date.Equal(want) {
		t.Errorf("date = %v, want %v", f.config.date, want)
	}
	if f.config.qnameMinimisation {
		t.Error("qnameMinimisation = true, want false")
	}
	if len(f.config.zones) != 1 || f.config.zones[0].name != "." || f.config.zones[0].addrs[0].String() != "193.0.14.129:53" {
		t.Errorf("zones = %+v, want the root stub at 193.0.14.129:53", f.config.zones)
	}

	if f.title != "A sample scenario" {
		t.Errorf("title = %q, want %q", f.title, "A sample scenario")
	}
	if len(f.ranges) != 1 || len(f.ranges[0].entries) != 2 {
		t.Fatalf("ranges = %d, want 1 with 2 entries", len(f.ranges))
	}
	nsec, ok := f.ranges[0].entries[1].msg.Ns[0].(*dns.NSEC)
	if !ok || nsec.NextDomain != "zzz.example.com." {
		t.Errorf("record in parentheses = %v, want an NSEC to zzz.example.com.", f.ranges[0].entries[1].msg.Ns[0])
	}
	if ok && !isSortedTypes(nsec.TypeBitMap) {
		t.Errorf("NSEC types = %v, want them sorted", nsec.TypeBitMap)
	}

	if len(f.steps) != 3 || f.steps[1].elapse != 500*time.Millisecond {
		t.Errorf("steps = %d, TIME_PASSES = %v; want 3 steps and 500ms", len(f.steps), f.steps[1].elapse)
	}
	if check := f.steps[2].entry; !check.match.all || check.match.ede != 6 || !check.msg.AuthenticatedData {
		t.Errorf("CHECK_ANSWER match = %+v, AD = %v; want all, ede=6 and AD", check.match, check.msg.AuthenticatedData)
	}
}

func isSortedTypes(types []uint16) bool {
	for i := 1; i < len(types); i++ {
		if types[i-1] >= types[i] {
			return false
		}
	}
	return true
}

func TestReplayParseRejectsUnknownKeywords(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"server option", "fake-sha1: yes", "serve-stale: yes", `unsupported server option serve-stale`},
		{"ignored option with another value", `qname-minimisation: "no"`, "harden-referral-path: yes", "harden-referral-path"},
		{"stub option", "stub-addr: 193.0.14.129", "stub-host: ns.example.", `unknown stub-zone option "stub-host"`},
		{"scenario keyword", "RANGE_BEGIN 0 100", "HEX_RANGE 0 100", `unknown keyword "HEX_RANGE" in the scenario`},
		{"range keyword", "\tADDRESS 193.0.14.129", "\tTARGET 193.0.14.129", `unknown keyword "TARGET" in a RANGE`},
		{"entry keyword", "MATCH opcode qtype qname", "HEX_ANSWER_BEGIN", `unknown keyword "HEX_ANSWER_BEGIN" in an entry`},
		{"match keyword", "MATCH opcode qtype qname", "MATCH opcode serial=3", `unknown MATCH keyword "serial=3"`},
		{"adjust keyword", "ADJUST copy_id copy_query", "ADJUST copy_id sleep=10", `unknown ADJUST keyword "sleep=10"`},
		{"reply keyword", "REPLY QR AA NOERROR", "REPLY QR XX NOERROR", `unknown REPLY keyword "XX"`},
		{"step kind", "STEP 2 TIME_PASSES ELAPSE 0.5", "STEP 2 CHECK_OUT_QUERY", `unsupported step kind "CHECK_OUT_QUERY"`},
		{"time passes form", "STEP 2 TIME_PASSES ELAPSE 0.5", "STEP 2 TIME_PASSES EVAL ${x}", "TIME_PASSES supports only ELAPSE"},
		{"missing config end", "CONFIG_END", "", `config line "SCENARIO_BEGIN A sample scenario" is not KEY: VALUE`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(replaySample, tt.old, tt.new, 1)
			if text == replaySample {
				t.Fatalf("the sample has no %q", tt.old)
			}
			_, err := parseReplay("sample.rpl", text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseReplay = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestReplayParseKeepsGenericRdata(t *testing.T) {
	m := new(dns.Msg)
	if err := addReplayRecord(m, "ANSWER", `www.example.com. IN A \# 5 0102030405`); err != nil {
		t.Fatal(err)
	}
	if _, err := wireRoundTrip(m); err == nil {
		t.Error("a five-octet A record survived the wire form, want an error")
	}
}

func TestReplayExchange(t *testing.T) {
	f, err := parseReplay("sample.rpl", replaySample)
	if err != nil {
		t.Fatal(err)
	}
	net := &replayNet{ranges: f.ranges}
	net.startLookup(10)
	ask := func(name string, qtype uint16, server string) (*dns.Msg, error) {
		q := new(dns.Msg)
		q.SetQuestion(name, qtype)
		return net.Exchange(context.Background(), q, server, "udp")
	}

	resp, err := ask("www.example.com.", dns.TypeA, "193.0.14.129:53")
	if err != nil || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
		t.Errorf("www.example.com. A = %v, %v; want the first entry", resp, err)
	}
	resp, err = ask("nope.example.com.", dns.TypeMX, "193.0.14.129:53")
	if err != nil || resp.Rcode != dns.RcodeNameError || resp.Question[0].Name != "nope.example.com." {
		t.Errorf("nope.example.com. MX = %v, %v; want the subdomain entry with the query copied", resp, err)
	}
	if _, err := ask("www.example.net.", dns.TypeA, "193.0.14.129:53"); !errors.Is(err, errReplayNoAnswer) {
		t.Errorf("a name no entry matches = %v, want errReplayNoAnswer", err)
	}
	if _, err := ask("www.example.com.", dns.TypeA, "192.0.2.1:53"); !errors.Is(err, errReplayNoAnswer) {
		t.Errorf("another server = %v, want errReplayNoAnswer", err)
	}
	net.startLookup(101)
	if _, err := ask("www.example.com.", dns.TypeA, "193.0.14.129:53"); !errors.Is(err, errReplayNoAnswer) {
		t.Errorf("a step outside the range = %v, want errReplayNoAnswer", err)
	}
}

func TestReplayOutcome(t *testing.T) {
	a := &dns.A{Hdr: dns.RR_Header{Name: "www.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
		A: []byte{10, 20, 30, 40}}
	withDO := new(dns.Msg)
	withDO.SetQuestion("www.example.com.", dns.TypeA)
	withDO.SetEdns0(4096, true)
	plain := new(dns.Msg)
	plain.SetQuestion("www.example.com.", dns.TypeA)

	tests := []struct {
		name     string
		security Security
		query    *dns.Msg
		want     string
	}{
		{"secure with DO", Secure, withDO, "NOERROR AD, 1 answer record"},
		{"secure without DO or AD", Secure, plain, "NOERROR, 1 answer record"},
		{"insecure", Insecure, withDO, "NOERROR, 1 answer record"},
		{"bogus", Bogus, withDO, "SERVFAIL"},
		{"indeterminate", Indeterminate, withDO, "SERVFAIL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &Result{Rcode: dns.RcodeSuccess, Security: tt.security, Answer: []dns.RR{a}}
			if got := resolverOutcome(res, tt.query).String(); got != tt.want {
				t.Errorf("resolverOutcome(%s) = %s, want %s", tt.security, got, tt.want)
			}
		})
	}
}

func TestReplayStartTimeWithoutDate(t *testing.T) {
	text := strings.Replace(replaySample, `val-override-date: "20070916134226"`, `val-override-date: "-1"`, 1)
	text = strings.Replace(text, "www.example.com. IN A 10.20.30.40\nENTRY_END",
		"www.example.com. IN A 10.20.30.40\n"+
			"www.example.com. 3600 IN RRSIG A 3 3 3600 20070926000000 20070901000000 2854 example.com. AAAA\n"+
			"ENTRY_END", 1)
	f, err := parseReplay("sample.rpl", text)
	if err != nil {
		t.Fatal(err)
	}
	got, err := replayStartTime(f)
	want := time.Date(2007, 9, 13, 12, 0, 0, 0, time.UTC)
	if err != nil || !got.Equal(want) {
		t.Errorf("replayStartTime = %v, %v; want %v, the middle of the RRSIG validity period", got, err, want)
	}
}

func TestReplayDSA(t *testing.T) {
	key, pub := replayDSATestKey(t)
	data := []byte("signed data")
	digest := sha1.Sum(data)
	r, s, err := dsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	rfc2536 := make([]byte, 41)
	r.FillBytes(rfc2536[1:21])
	s.FillBytes(rfc2536[21:41])
	der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		t.Fatal(err)
	}
	for name, sig := range map[string][]byte{"RFC 2536": rfc2536, "DER": der} {
		t.Run(name, func(t *testing.T) {
			if err := verifyReplayDSA(pub, data, sig); err != nil {
				t.Errorf("verifyReplayDSA = %v, want nil", err)
			}
			if err := verifyReplayDSA(pub, []byte("other data"), sig); !errors.Is(err, dnscrypto.ErrBadSignature) {
				t.Errorf("verifyReplayDSA(other data) = %v, want ErrBadSignature", err)
			}
		})
	}
}

// replayDSATestKey generates a 1024-bit DSA key and returns it with its
// DNSKEY in the RFC 2536 §2 format.
func replayDSATestKey(t *testing.T) (*dsa.PrivateKey, *dns.DNSKEY) {
	t.Helper()
	key := new(dsa.PrivateKey)
	if err := dsa.GenerateParameters(&key.Parameters, rand.Reader, dsa.L1024N160); err != nil {
		t.Fatal(err)
	}
	if err := dsa.GenerateKey(key, rand.Reader); err != nil {
		t.Fatal(err)
	}
	// T is 8 for a 1024-bit P, which with G and Y takes 64 + 8*T octets.
	const keyT = 8
	const size = 64 + 8*keyT
	raw := make([]byte, 1+20+3*size)
	raw[0] = keyT
	key.Q.FillBytes(raw[1:21])
	key.P.FillBytes(raw[21 : 21+size])
	key.G.FillBytes(raw[21+size : 21+2*size])
	key.Y.FillBytes(raw[21+2*size:])
	return key, &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags: 256, Protocol: 3, Algorithm: dns.DSA, PublicKey: base64.StdEncoding.EncodeToString(raw)}
}
