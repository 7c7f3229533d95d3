package dnscrypto

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// SignedData returns the bytes an RRSIG signs over rrset: the RRSIG RDATA
// without its signature, followed by the records in canonical form and
// canonical order, duplicates removed (RFC 4034 §3.1.8.1, §6.2, §6.3).
//
// Every record takes the RRSIG's original TTL. An owner with more labels than
// the RRSIG's labels field is replaced by the wildcard it was expanded from
// (RFC 4035 §5.3.2); the caller must have checked that the labels field is
// not larger than the owner's label count.
func SignedData(sig *dns.RRSIG, rrset []dns.RR) ([]byte, error) {
	if len(rrset) == 0 {
		return nil, errors.New("dnscrypto: empty RRset")
	}
	buf := make([]byte, 0, 512)
	buf = appendSigHeader(buf, sig)

	records := make([]canonicalRecord, 0, len(rrset))
	for _, rr := range rrset {
		wire, err := canonicalRR(rr, sig)
		if err != nil {
			return nil, err
		}
		records = append(records, wire)
	}

	// RFC 4034 §6.3 orders the records by RDATA alone, as left-justified
	// octet strings: RDLENGTH must not take part, or a shorter record would
	// sort first whatever its content.
	slices.SortFunc(records, func(a, b canonicalRecord) int {
		return bytes.Compare(a.rdata(), b.rdata())
	})
	for i, r := range records {
		if i > 0 && bytes.Equal(r.wire, records[i-1].wire) {
			continue
		}
		buf = append(buf, r.wire...)
	}
	return buf, nil
}

// canonicalRecord is one record in canonical wire form.
type canonicalRecord struct {
	wire []byte
	// rdataOffset is where RDATA starts: after the owner name, type,
	// class, TTL and RDLENGTH.
	rdataOffset int
}

func (r canonicalRecord) rdata() []byte {
	return r.wire[r.rdataOffset:]
}

// appendSigHeader appends the RRSIG RDATA fields that precede the signature,
// with the signer name in canonical (lowercase, uncompressed) form.
func appendSigHeader(buf []byte, sig *dns.RRSIG) []byte {
	buf = append(buf, byte(sig.TypeCovered>>8), byte(sig.TypeCovered))
	buf = append(buf, sig.Algorithm, sig.Labels)
	buf = appendUint32(buf, sig.OrigTtl)
	buf = appendUint32(buf, sig.Expiration)
	buf = appendUint32(buf, sig.Inception)
	buf = append(buf, byte(sig.KeyTag>>8), byte(sig.KeyTag))
	return appendName(buf, dns.CanonicalName(sig.SignerName))
}

func appendUint32(buf []byte, v uint32) []byte {
	return append(buf, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// appendName appends a fully qualified name in uncompressed wire form.
func appendName(buf []byte, name string) []byte {
	wire := make([]byte, 256)
	n, err := dns.PackDomainName(name, wire, 0, nil, false)
	if err != nil {
		// Names reach here from parsed messages or zone text, which the dns
		// package has already checked; an unpackable one signs as the root.
		return append(buf, 0)
	}
	return append(buf, wire[:n]...)
}

// canonicalRR packs rr the way RFC 4034 §6.2 requires for signing.
func canonicalRR(rr dns.RR, sig *dns.RRSIG) (canonicalRecord, error) {
	c := dns.Copy(rr)
	h := c.Header()
	h.Ttl = sig.OrigTtl
	h.Name = dns.CanonicalName(h.Name)
	if labels := dns.CountLabel(h.Name); labels > int(sig.Labels) {
		h.Name = wildcardOwner(h.Name, int(sig.Labels))
	}
	lowercaseRdataNames(c)

	wire := make([]byte, dns.Len(c)+1)
	n, err := dns.PackRR(c, wire, 0, nil, false)
	if err != nil {
		return canonicalRecord{}, fmt.Errorf("dnscrypto: packing %s %s: %w", h.Name, dns.TypeToString[h.Rrtype], err)
	}
	owner := make([]byte, 256)
	ownerLen, err := dns.PackDomainName(h.Name, owner, 0, nil, false)
	if err != nil || ownerLen+10 > n {
		return canonicalRecord{}, fmt.Errorf("dnscrypto: packing owner %s: %v", h.Name, err)
	}
	return canonicalRecord{wire: wire[:n], rdataOffset: ownerLen + 10}, nil
}

// wildcardOwner returns "*." followed by the rightmost labels of name.
func wildcardOwner(name string, labels int) string {
	parts := dns.SplitDomainName(name)
	if labels == 0 {
		return "*."
	}
	return "*." + strings.Join(parts[len(parts)-labels:], ".") + "."
}

// lowercaseRdataNames lowercases the domain names inside the RDATA of the
// types that RFC 4034 §6.2 item 3 lists, as corrected by RFC 6840 §5.1 (no
// HINFO, and no NSEC: its next owner name keeps its case).
func lowercaseRdataNames(rr dns.RR) {
	switch x := rr.(type) {
	case *dns.NS:
		x.Ns = dns.CanonicalName(x.Ns)
	case *dns.MD:
		x.Md = dns.CanonicalName(x.Md)
	case *dns.MF:
		x.Mf = dns.CanonicalName(x.Mf)
	case *dns.CNAME:
		x.Target = dns.CanonicalName(x.Target)
	case *dns.SOA:
		x.Ns = dns.CanonicalName(x.Ns)
		x.Mbox = dns.CanonicalName(x.Mbox)
	case *dns.MB:
		x.Mb = dns.CanonicalName(x.Mb)
	case *dns.MG:
		x.Mg = dns.CanonicalName(x.Mg)
	case *dns.MR:
		x.Mr = dns.CanonicalName(x.Mr)
	case *dns.PTR:
		x.Ptr = dns.CanonicalName(x.Ptr)
	case *dns.MINFO:
		x.Rmail = dns.CanonicalName(x.Rmail)
		x.Email = dns.CanonicalName(x.Email)
	case *dns.MX:
		x.Mx = dns.CanonicalName(x.Mx)
	case *dns.RP:
		x.Mbox = dns.CanonicalName(x.Mbox)
		x.Txt = dns.CanonicalName(x.Txt)
	case *dns.AFSDB:
		x.Hostname = dns.CanonicalName(x.Hostname)
	case *dns.RT:
		x.Host = dns.CanonicalName(x.Host)
	case *dns.SIG:
		x.SignerName = dns.CanonicalName(x.SignerName)
	case *dns.PX:
		x.Map822 = dns.CanonicalName(x.Map822)
		x.Mapx400 = dns.CanonicalName(x.Mapx400)
	case *dns.NAPTR:
		x.Replacement = dns.CanonicalName(x.Replacement)
	case *dns.KX:
		x.Exchanger = dns.CanonicalName(x.Exchanger)
	case *dns.SRV:
		x.Target = dns.CanonicalName(x.Target)
	case *dns.DNAME:
		x.Target = dns.CanonicalName(x.Target)
	case *dns.RRSIG:
		x.SignerName = dns.CanonicalName(x.SignerName)
	}
}
