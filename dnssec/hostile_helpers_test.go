package dnssec

import (
	"context"
	"crypto"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
	"github.com/mxclient/mxclient/trustanchor"
)

// scriptedNow is the validation time of the scripted hierarchies below. Every
// RRSIG they carry is valid from a day before it to 30 days after it.
var scriptedNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// scriptedZone is one zone of a scripted hierarchy, signed with a single
// ECDSA P-256 key that has the Zone and SEP flags.
type scriptedZone struct {
	name   string
	key    crypto.Signer
	dnskey *dns.DNSKEY
}

func newScriptedZone(t *testing.T, name string) *scriptedZone {
	t.Helper()
	key, public, err := dnscrypto.GenerateKey(dns.ECDSAP256SHA256, 0)
	if err != nil {
		t.Fatalf("generating the key of %s: %v", name, err)
	}
	dnskey := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: name, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     dns.ZONE | dns.SEP,
		Protocol:  3,
		Algorithm: dns.ECDSAP256SHA256,
		PublicKey: public,
	}
	return &scriptedZone{name: name, key: key, dnskey: dnskey}
}

func (z *scriptedZone) ds() *dns.DS {
	return z.dnskey.ToDS(dns.SHA256)
}

// sigTemplate returns an unsigned RRSIG by z over records of owner and
// rtype. The labels field leaves out a leading "*" label (RFC 4034 §3.1.3).
func (z *scriptedZone) sigTemplate(owner string, rtype uint16, ttl uint32) *dns.RRSIG {
	labels := dns.CountLabel(owner)
	if strings.HasPrefix(owner, "*.") {
		labels--
	}
	return &dns.RRSIG{
		Hdr:         dns.RR_Header{Name: owner, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: ttl},
		TypeCovered: rtype,
		Algorithm:   z.dnskey.Algorithm,
		Labels:      uint8(labels),
		OrigTtl:     ttl,
		Expiration:  uint32(scriptedNow.Add(30 * 24 * time.Hour).Unix()),
		Inception:   uint32(scriptedNow.Add(-24 * time.Hour).Unix()),
		KeyTag:      z.dnskey.KeyTag(),
		SignerName:  z.name,
	}
}

// sign returns the RRSIG by z over rrs, which must form one RRset.
func (z *scriptedZone) sign(t *testing.T, rrs ...dns.RR) *dns.RRSIG {
	t.Helper()
	h := rrs[0].Header()
	sig := z.sigTemplate(h.Name, h.Rrtype, h.Ttl)
	if err := dnscrypto.Sign(sig, z.key, rrs); err != nil {
		t.Fatalf("signing %s %s: %v", h.Name, dns.TypeToString[h.Rrtype], err)
	}
	return sig
}

// signed returns rrs followed by their RRSIG by z.
func (z *scriptedZone) signed(t *testing.T, rrs ...dns.RR) []dns.RR {
	t.Helper()
	return append(append([]dns.RR{}, rrs...), z.sign(t, rrs...))
}

// expandedSig returns a copy of sig moved to owner, the way a wildcard
// expansion carries the wildcard's RRSIG to the name it answers.
func expandedSig(sig *dns.RRSIG, owner string) *dns.RRSIG {
	c := dns.Copy(sig).(*dns.RRSIG)
	c.Hdr.Name = owner
	return c
}

func scriptedRR(t *testing.T, text string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(text)
	if err != nil {
		t.Fatalf("parsing %q: %v", text, err)
	}
	return rr
}

func scriptedNSEC(owner, next string, types ...uint16) *dns.NSEC {
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300},
		NextDomain: next,
		TypeBitMap: types,
	}
}

func scriptedMsg(rcode int, answer, authority []dns.RR) *dns.Msg {
	m := new(dns.Msg)
	m.Response = true
	m.Rcode = rcode
	m.Answer = answer
	m.Ns = authority
	return m
}

// scriptedSource is an in-process hostile upstream: it returns scripted
// responses keyed by "name TYPE" and fails every other query, so that an
// unexpected query shows up as an indeterminate result.
type scriptedSource struct {
	mu        sync.Mutex
	responses map[string]*dns.Msg
	queries   []string
}

func (s *scriptedSource) set(name string, qtype uint16, m *dns.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responses[strings.ToLower(name)+" "+dns.TypeToString[qtype]] = m
}

func (s *scriptedSource) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	key := strings.ToLower(name) + " " + dns.TypeToString[qtype]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, key)
	m, ok := s.responses[key]
	if !ok {
		return nil, fmt.Errorf("no scripted response for %s", key)
	}
	c := m.Copy()
	c.SetQuestion(name, qtype)
	c.Response = true
	c.Rcode = m.Rcode
	return c, nil
}

// scriptedWorld is a signed hierarchy ". -> test. -> example.test." whose
// DNSKEY and DS responses are scripted honestly. Tests add the answers.
type scriptedWorld struct {
	root, tld, zone *scriptedZone
	src             *scriptedSource
}

func newScriptedWorld(t *testing.T) *scriptedWorld {
	t.Helper()
	w := &scriptedWorld{
		root: newScriptedZone(t, "."),
		tld:  newScriptedZone(t, "test."),
		zone: newScriptedZone(t, "example.test."),
		src:  &scriptedSource{responses: map[string]*dns.Msg{}},
	}
	for _, z := range []*scriptedZone{w.root, w.tld, w.zone} {
		w.src.set(z.name, dns.TypeDNSKEY, scriptedMsg(dns.RcodeSuccess, z.signed(t, z.dnskey), nil))
	}
	w.src.set("test.", dns.TypeDS, scriptedMsg(dns.RcodeSuccess, w.root.signed(t, w.tld.ds()), nil))
	w.src.set("example.test.", dns.TypeDS, scriptedMsg(dns.RcodeSuccess, w.tld.signed(t, w.zone.ds()), nil))
	return w
}

func (w *scriptedWorld) validator(t *testing.T, limits Limits) *Validator {
	t.Helper()
	v, err := New(Config{
		Source:  w.src,
		Anchors: []trustanchor.Anchor{{DS: w.root.ds(), Source: "scripted test root"}},
		Now:     func() time.Time { return scriptedNow },
		Limits:  limits,
	})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	return v
}

func scriptedLookup(t *testing.T, v *Validator, name string, qtype uint16) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := v.Lookup(ctx, name, qtype)
	if err != nil {
		t.Fatalf("Lookup(%s %s) error = %v", name, dns.TypeToString[qtype], err)
	}
	return res
}

func scriptedDescribe(res *Result) string {
	s := fmt.Sprintf("%s %s", res.Security, dns.RcodeToString[res.Rcode])
	if res.Reason != nil {
		s += " (" + res.Reason.Error() + ")"
	}
	return s + chainText(res.Chain)
}
