package dnssec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

func TestLookupStates(t *testing.T) {
	lab := standardLab(t)
	modes := []struct {
		name string
		v    *dnssec.Validator
	}{
		{"upstream", newValidator(t, lab, dnssectest.Normal, dnssec.Limits{})},
		{"iterate", newIterValidator(t, lab, true, dnssec.Limits{})},
		{"iterate-no-minimisation", newIterValidator(t, lab, false, dnssec.Limits{})},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			testLookupStates(t, m.v)
		})
	}
}

func testLookupStates(t *testing.T, v *dnssec.Validator) {
	tests := []struct {
		name     string
		qtype    uint16
		security dnssec.Security
		rcode    int
		// reason is the expected Reason of a bogus result.
		reason dnssec.Reason
		// answer lists the types expected in the answer, in order.
		answer []uint16
	}{
		// Secure answers and denials, NSEC.
		{name: "www.example.test.", qtype: dns.TypeA, security: dnssec.Secure, answer: []uint16{dns.TypeA}},
		{name: "example.test.", qtype: dns.TypeMX, security: dnssec.Secure, answer: []uint16{dns.TypeMX}},
		{name: "example.test.", qtype: dns.TypeDNSKEY, security: dnssec.Secure, answer: []uint16{dns.TypeDNSKEY}},
		{name: "example.test.", qtype: dns.TypeDS, security: dnssec.Secure, answer: []uint16{dns.TypeDS}},
		{name: "nope.example.test.", qtype: dns.TypeA, security: dnssec.Secure, rcode: dns.RcodeNameError},
		{name: "nosuchtld.", qtype: dns.TypeA, security: dnssec.Secure, rcode: dns.RcodeNameError},
		{name: "www.example.test.", qtype: dns.TypeTXT, security: dnssec.Secure},
		{name: "b.c.example.test.", qtype: dns.TypeA, security: dnssec.Secure},
		{name: "x.wild.example.test.", qtype: dns.TypeA, security: dnssec.Secure, answer: []uint16{dns.TypeA}},
		{name: "x.y.wild.example.test.", qtype: dns.TypeA, security: dnssec.Secure, answer: []uint16{dns.TypeA}},
		{name: "x.wild.example.test.", qtype: dns.TypeTXT, security: dnssec.Secure},
		{name: "alias.example.test.", qtype: dns.TypeA, security: dnssec.Secure, answer: []uint16{dns.TypeCNAME, dns.TypeA}},
		{name: "away.example.test.", qtype: dns.TypeA, security: dnssec.Secure, answer: []uint16{dns.TypeCNAME, dns.TypeA}},
		{name: "tonx.example.test.", qtype: dns.TypeA, security: dnssec.Secure, rcode: dns.RcodeNameError, answer: []uint16{dns.TypeCNAME}},
		{name: "www.dn.example.test.", qtype: dns.TypeA, security: dnssec.Secure, answer: []uint16{dns.TypeDNAME, dns.TypeCNAME, dns.TypeA}},
		// NSEC3.
		{name: "www.nsec3.test.", qtype: dns.TypeA, security: dnssec.Secure, answer: []uint16{dns.TypeA}},
		{name: "nope.nsec3.test.", qtype: dns.TypeA, security: dnssec.Secure, rcode: dns.RcodeNameError},
		{name: "www.nsec3.test.", qtype: dns.TypeTXT, security: dnssec.Secure},
		{name: "a.b.nsec3.test.", qtype: dns.TypeTXT, security: dnssec.Secure},
		{name: "x.wild.nsec3.test.", qtype: dns.TypeTXT, security: dnssec.Secure, answer: []uint16{dns.TypeTXT}},
		{name: "x.wild.nsec3.test.", qtype: dns.TypeA, security: dnssec.Secure},
		{name: "www.child.nsec3.test.", qtype: dns.TypeA, security: dnssec.Secure, answer: []uint16{dns.TypeA}},
		{name: "unsigned.nsec3.test.", qtype: dns.TypeDS, security: dnssec.Secure},
		// Insecure: unsigned delegations, opt-out.
		{name: "www.unsigned.example.test.", qtype: dns.TypeA, security: dnssec.Insecure, answer: []uint16{dns.TypeA}},
		{name: "nope.unsigned.example.test.", qtype: dns.TypeA, security: dnssec.Insecure, rcode: dns.RcodeNameError},
		{name: "toinsecure.example.test.", qtype: dns.TypeA, security: dnssec.Insecure, answer: []uint16{dns.TypeCNAME, dns.TypeA}},
		{name: "www.unsigned.nsec3.test.", qtype: dns.TypeA, security: dnssec.Insecure, answer: []uint16{dns.TypeA}},
		{name: "www.unsigned.optout.test.", qtype: dns.TypeA, security: dnssec.Insecure, answer: []uint16{dns.TypeA}},
		{name: "www.signed.optout.test.", qtype: dns.TypeA, security: dnssec.Secure, answer: []uint16{dns.TypeA}},
		{name: "nope.optout.test.", qtype: dns.TypeA, security: dnssec.Insecure, rcode: dns.RcodeNameError},
		{name: "nope.iter500.test.", qtype: dns.TypeA, security: dnssec.Insecure, rcode: dns.RcodeNameError},
		{name: "www.iter500.test.", qtype: dns.TypeA, security: dnssec.Secure, answer: []uint16{dns.TypeA}},
		{name: "www.unsupalg.test.", qtype: dns.TypeA, security: dnssec.Insecure, answer: []uint16{dns.TypeA}},
		{name: "www.unsupdigest.test.", qtype: dns.TypeA, security: dnssec.Insecure, answer: []uint16{dns.TypeA}},
		{name: "www.wrongsha256.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonDSMismatch},
		// Bogus: the fault catalogue.
		{name: "www.expired.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonSignatureExpired},
		{name: "www.expiredrr.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonSignatureExpired},
		{name: "www.notyet.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonSignatureNotYetValid},
		{name: "www.wrongds.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonDSMismatch},
		{name: "www.missingsig.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonSignatureMissing},
		{name: "www.unsigneddnskey.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonDNSKEYUnsigned},
		{name: "www.altered.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonSignatureInvalid},
		{name: "www.corrupt.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonSignatureInvalid},
		{name: "tobogus.example.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonSignatureInvalid},
		{name: "nope.irrelevant.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonDenialInvalid},
		{name: "www.irrelevant.test.", qtype: dns.TypeTXT, security: dnssec.Bogus, reason: dnssec.ReasonDenialInvalid},
		{name: "nope.irrelevant3.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonDenialInvalid},
		{name: "x.wild.wildnoproof.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonWildcardUnproven},
		{name: "x.wild.wildnoproof3.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonWildcardUnproven},
		{name: "nope.iter500bad.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonSignatureInvalid},
		{name: "www.revoked.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonRevokedKey},
		{name: "www.revokedksk.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonRevokedKey},
		{name: "www.sub.replay.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonBadLabels},
		{name: "nope.wrongowner.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonMalformed},
		{name: "loop1.example.test.", qtype: dns.TypeA, security: dnssec.Bogus, reason: dnssec.ReasonCNAMELoop},
	}
	for _, tt := range tests {
		t.Run(tt.name+dns.TypeToString[tt.qtype], func(t *testing.T) {
			t.Parallel()
			res := lookup(t, v, tt.name, tt.qtype)
			if res.Security != tt.security {
				t.Fatalf("Lookup(%s %s) = %s, want %s%s", tt.name, dns.TypeToString[tt.qtype],
					describe(res), tt.security, chainText(res))
			}
			if tt.security != dnssec.Bogus && res.Rcode != tt.rcode {
				t.Errorf("Lookup(%s) rcode = %s, want %s", tt.name, dns.RcodeToString[res.Rcode], dns.RcodeToString[tt.rcode])
			}
			if tt.security == dnssec.Bogus {
				checkBogus(t, res, tt.reason)
				return
			}
			var got []uint16
			for _, rr := range res.Answer {
				got = append(got, rr.Header().Rrtype)
			}
			if typeList(got) != typeList(tt.answer) {
				t.Errorf("Lookup(%s) answer types = %s, want %s", tt.name, typeList(got), typeList(tt.answer))
			}
		})
	}
}

func checkBogus(t *testing.T, res *dnssec.Result, reason dnssec.Reason) {
	t.Helper()
	if !errors.Is(res.Reason, dnssec.ErrBogus) {
		t.Fatalf("Lookup(%s) reason = %v, want an error matching ErrBogus", res.Name, res.Reason)
	}
	var be *dnssec.BogusError
	if !errors.As(res.Reason, &be) {
		t.Fatalf("Lookup(%s) reason = %T, want *BogusError", res.Name, res.Reason)
	}
	if be.Reason != reason {
		t.Errorf("Lookup(%s) bogus reason = %q, want %q (%v)%s", res.Name, be.Reason, reason, be, chainText(res))
	}
}

func typeList(types []uint16) string {
	var names []string
	for _, t := range types {
		names = append(names, dns.TypeToString[t])
	}
	return strings.Join(names, ",")
}

func TestLookupAlgorithms(t *testing.T) {
	lab := standardLab(t)
	v := newValidator(t, lab, dnssectest.Normal, dnssec.Limits{})
	for _, zone := range []string{"alg5", "alg7", "alg8", "alg8-512", "alg8-4096", "alg10", "alg13", "alg14", "alg15", "alg16"} {
		t.Run(zone, func(t *testing.T) {
			t.Parallel()
			name := "www." + zone + ".test."
			res := lookup(t, v, name, dns.TypeA)
			if res.Security != dnssec.Secure {
				t.Errorf("Lookup(%s A) = %s, want secure%s", name, describe(res), chainText(res))
			}
			nx := lookup(t, v, "nope."+zone+".test.", dns.TypeA)
			if nx.Security != dnssec.Secure || nx.Rcode != dns.RcodeNameError {
				t.Errorf("Lookup(nope.%s.test. A) = %s, want secure NXDOMAIN%s", zone, describe(nx), chainText(nx))
			}
		})
	}
}

func TestLookupResolverModes(t *testing.T) {
	lab := standardLab(t)
	tests := []struct {
		mode     dnssectest.ResolverMode
		security dnssec.Security
	}{
		{dnssectest.Normal, dnssec.Secure},
		{dnssectest.TruncateUDP, dnssec.Secure},
		{dnssectest.StripRRSIG, dnssec.Bogus},
		{dnssectest.IgnoreDO, dnssec.Bogus},
		{dnssectest.Silent, dnssec.Indeterminate},
		{dnssectest.ServFail, dnssec.Indeterminate},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			t.Parallel()
			v := newValidator(t, lab, tt.mode, dnssec.Limits{})
			res := lookup(t, v, "www.example.test.", dns.TypeA)
			if res.Security != tt.security {
				t.Errorf("Lookup(www.example.test. A) via %s = %s, want %s%s", tt.mode, describe(res), tt.security, chainText(res))
			}
			if tt.security == dnssec.Indeterminate && !errors.Is(res.Reason, dnssec.ErrIndeterminate) {
				t.Errorf("reason = %v, want an error matching ErrIndeterminate", res.Reason)
			}
			if tt.security == dnssec.Indeterminate && res.Rcode != dns.RcodeServerFailure {
				t.Errorf("rcode = %s, want SERVFAIL", dns.RcodeToString[res.Rcode])
			}
			// An insecure zone stays unprovable when the resolver strips
			// signatures: never a downgrade to insecure.
			if tt.mode == dnssectest.StripRRSIG || tt.mode == dnssectest.IgnoreDO {
				res := lookup(t, v, "www.unsigned.example.test.", dns.TypeA)
				if res.Security != dnssec.Bogus {
					t.Errorf("Lookup(www.unsigned.example.test. A) via %s = %s, want bogus", tt.mode, describe(res))
				}
			}
		})
	}
}

func TestLookupLinksCarryTheirOwnState(t *testing.T) {
	lab := standardLab(t)
	v := newValidator(t, lab, dnssectest.Normal, dnssec.Limits{})
	tests := []struct {
		name  string
		links []dnssec.Link
	}{
		{"toinsecure.example.test.", []dnssec.Link{
			{Name: "toinsecure.example.test.", Type: dns.TypeCNAME, Security: dnssec.Secure},
			{Name: "www.unsigned.example.test.", Type: dns.TypeA, Security: dnssec.Insecure},
		}},
		{"www.dn.example.test.", []dnssec.Link{
			{Name: "dn.example.test.", Type: dns.TypeDNAME, Security: dnssec.Secure},
			{Name: "www.dn.example.test.", Type: dns.TypeCNAME, Security: dnssec.Secure},
			{Name: "www.nsec3.test.", Type: dns.TypeA, Security: dnssec.Secure},
		}},
	}
	for _, tt := range tests {
		res := lookup(t, v, tt.name, dns.TypeA)
		if diff := cmp.Diff(tt.links, res.Links); diff != "" {
			t.Errorf("Lookup(%s A).Links mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}
