package dane

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func FuzzParseZone(f *testing.F) {
	f.Add([]byte("_25._tcp.mx.example.net. 3600 IN TLSA 3 1 1 " +
		"0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6\n"))
	f.Add([]byte("$ORIGIN example.net.\n$TTL 60\n_25._tcp.mx IN TLSA 2 0 1 ( 0c72ac70 b745ac19 ) ; x\n"))
	f.Add([]byte("a. IN TLSA 3 1 1 zz\n"))
	f.Add([]byte("a. CH TLSA 255 255 255 00\nb. IN A 192.0.2.1\n"))
	f.Add([]byte("a. IN TLSA 3 1 1\n"))
	f.Add([]byte("$GENERATE 1-100 _25._tcp.mx$.example.net. IN TLSA 3 1 1 00\n"))
	f.Add([]byte("$Gen(\nerate) 1-3 a$. IN TLSA 3 1 1 00\n"))
	f.Add([]byte("$INCLUDE /etc/hostname\n"))
	f.Add([]byte("$ORIGIN example.net.\n_25._tcp.mx TLSA 3 1 1 00\n$ORIGIN mx.example.org.\n_25._tcp TLSA 3 1 1 00\n"))
	f.Add([]byte("$TTL 3600\n_25._tcp.mx.example.net. TLSA 3 1 1 00\n$TTL 1h\n  TLSA 2 0 1 00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		records, err := ParseZone(bytes.NewReader(data), "fuzz")
		if err == nil && bytes.Contains(bytes.ToUpper(data), []byte("$GENERATE")) {
			t.Fatalf("ParseZone(%q) accepted input with $GENERATE", data)
		}
		if len(records) > maxZoneRecords {
			t.Fatalf("ParseZone() returned %d records, more than %d", len(records), maxZoneRecords)
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if !strings.HasPrefix(err.Error(), "dane: fuzz") {
				t.Fatalf("error %q does not start with the file name", err)
			}
			return
		}
		if len(records) == 0 {
			t.Fatal("nil error with no records")
		}
		for _, rr := range records {
			if _, err := hex.DecodeString(rr.Certificate); err != nil {
				t.Fatalf("record %v has data that is not hexadecimal: %v", rr, err)
			}
			// What ParseZone returns must read back the same.
			again, err := ParseZone(strings.NewReader(rr.String()), "again")
			if err != nil {
				t.Fatalf("ParseZone(%q) = %v", rr.String(), err)
			}
			if again[0].Usage != rr.Usage || again[0].Selector != rr.Selector ||
				again[0].MatchingType != rr.MatchingType || again[0].Certificate != rr.Certificate {
				t.Fatalf("record %q read back as %q", rr.String(), again[0].String())
			}
			_ = Classify([]*dns.TLSA{rr}).Status()
		}
	})
}

func FuzzClassify(f *testing.F) {
	leaf := pki(f).leaf.Cert
	for _, sm := range [][2]uint8{{0, 0}, {0, 1}, {1, 0}, {1, 2}} {
		data, err := AssociationData(leaf, sm[0], sm[1])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(DANEEE), sm[0], sm[1], data)
	}
	f.Add(uint8(PKIXEE), uint8(1), uint8(1), make([]byte, 32))
	f.Add(uint8(DANETA), uint8(1), uint8(0), []byte{0x30, 0x03, 0x30, 0x01, 0x00})
	f.Add(uint8(DANEEE), uint8(0), uint8(0), negativeSerialDER(f))
	f.Add(uint8(DANETA), uint8(0), uint8(0), pki(f).leafPSS.Cert.Raw)
	f.Fuzz(func(t *testing.T, usage, selector, matchingType uint8, data []byte) {
		rr := rawRecord(usage, selector, matchingType, hex.EncodeToString(data))
		rec := Classify([]*dns.TLSA{rr}).Records[0]
		wantUsable := (usage == DANETA || usage == DANEEE) && selector <= SelectorSPKI &&
			matchingType <= MatchingSHA512 && len(data) > 0
		if size := digestSize(matchingType); size != 0 && len(data) != size {
			wantUsable = false
		}
		if !wantUsable && rec.Usable() {
			t.Fatalf("Classify(%s) is usable", rec)
		}
		if wantUsable && matchingType != MatchingFull && !rec.Usable() {
			t.Fatalf("Classify(%s) is unusable (%v), want usable", rec, rec.Detail)
		}
		if rec.Usable() != (rec.Detail == "") {
			t.Fatalf("Classify(%s) has Usable() %t but Detail %q", rec, rec.Usable(), rec.Detail)
		}
		// Full(0) data that crypto/x509 parses is well-formed; the reverse
		// need not hold.
		if wantUsable && matchingType == MatchingFull && !rec.Usable() {
			_, certErr := x509.ParseCertificate(data)
			_, keyErr := x509.ParsePKIXPublicKey(data)
			if selector == SelectorCert && certErr == nil || selector == SelectorSPKI && keyErr == nil {
				t.Fatalf("Classify(%s) of data that crypto/x509 parses is unusable (%s), want usable",
					rec, rec.Detail)
			}
		}
	})
}

// FuzzMatchName checks matchName against the rules its documentation
// gives: ASCII names only, ASCII case ignored, an exact match without a
// wildcard, and a wildcard that stands for exactly one leftmost label.
func FuzzMatchName(f *testing.F) {
	for _, seed := range [][2]string{
		{"mx.example.net", "MX.example.net."}, {"*.example.net", "mx.example.net"},
		{"*.example.net", "a.mx.example.net"}, {"*.net", "example.net"}, {"m*.example.net", "mx.example.net"},
		{"\u017Fmtp.example.net", "smtp.example.net"}, {"*.example.\u212Aom", "mx.example.kom"},
		{"xn--bcher-kva.example", "XN--BCHER-KVA.example"}, {"*..net", "a..net"}, {"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, ref string) {
		got := matchName(pattern, ref)
		ascii := isASCII(pattern) && isASCII(ref)
		if !ascii {
			if got {
				t.Fatalf("matchName(%+q, %+q) = true for names outside ASCII", pattern, ref)
			}
			return
		}
		if again := matchName(strings.ToUpper(pattern), strings.ToLower(ref)); again != got {
			t.Fatalf("matchName(%q, %q) = %t, but %t in other case", pattern, ref, got, again)
		}
		p, r := strings.TrimSuffix(pattern, "."), strings.TrimSuffix(ref, ".")
		if p != "" && !strings.Contains(p, "*") && !strings.Contains(r, "*") &&
			strings.EqualFold(p, r) && !got {
			t.Fatalf("matchName(%q, %q) = false for equal names", pattern, ref)
		}
		if !got {
			return
		}
		if strings.Contains(r, "*") {
			t.Fatalf("matchName(%q, %q) = true for a reference identifier with a wildcard", pattern, ref)
		}
		suffix, wildcard := strings.CutPrefix(p, "*.")
		if !wildcard {
			if !strings.EqualFold(p, r) {
				t.Fatalf("matchName(%q, %q) = true for names that differ", pattern, ref)
			}
			return
		}
		first, rest, _ := strings.Cut(r, ".")
		if first == "" || !strings.EqualFold(rest, suffix) || !strings.Contains(suffix, ".") {
			t.Fatalf("matchName(%q, %q) = true, but the wildcard does not stand for one label "+
				"above two or more", pattern, ref)
		}
	})
}

// FuzzVerify tries a fuzzed record, and a fuzzed extra certificate in the
// chain, next to a record that matches. The good record, a Full(0) record
// that no other record can supersede, must always match, and a fuzzed
// record that matches must be one that may.
func FuzzVerify(f *testing.F) {
	p := pki(f)
	chain := []*x509.Certificate{p.leaf.Cert, p.inter.Cert}
	good := record(f, DANEEE, SelectorSPKI, MatchingFull, p.leaf)
	for _, c := range []*x509.Certificate{p.leaf.Cert, p.inter.Cert, p.root.Cert} {
		for _, usage := range []uint8{DANETA, DANEEE} {
			data, err := AssociationData(c, SelectorSPKI, MatchingFull)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(usage, uint8(SelectorSPKI), uint8(MatchingFull), data, []byte(nil))
		}
	}
	f.Add(uint8(DANETA), uint8(SelectorCert), uint8(MatchingFull), p.otherRoot.Cert.Raw, p.otherName.Cert.Raw)
	f.Add(uint8(DANEEE), uint8(SelectorSPKI), uint8(MatchingSHA256), []byte("short"), []byte("not DER"))
	f.Add(uint8(DANEEE), uint8(SelectorSPKI), uint8(MatchingSHA512), make([]byte, 64), []byte(nil))

	f.Fuzz(func(t *testing.T, usage, selector, matchingType uint8, data, extraDER []byte) {
		presented := chain
		if extra, err := x509.ParseCertificate(extraDER); err == nil {
			presented = append(presented[:len(presented):len(presented)], extra)
		}
		fuzzed := rawRecord(usage, selector, matchingType, hex.EncodeToString(data))

		m, err := verifier([]*dns.TLSA{fuzzed, good}).Verify(presented)
		if err != nil {
			t.Fatalf("Verify() with a matching record = %v", err)
		}
		if len(m.Attempts) != 2 || m.Attempts[1].Outcome != Matched {
			t.Fatalf("the good record did not match next to %s: %v", Record{TLSA: fuzzed}, m.Attempts)
		}

		a := m.Attempts[0]
		if a.Outcome != Matched {
			if a.Outcome != Unusable && a.Err == nil {
				t.Fatalf("attempt %v has no error", a)
			}
			return
		}
		switch usage {
		case DANEEE:
			want, err := AssociationData(presented[0], selector, matchingType)
			if err != nil || !bytes.Equal(want, data) || a.Depth != 0 {
				t.Fatalf("DANE-EE %s matched at depth %d, but the leaf has %x", a.Record, a.Depth, want)
			}
		case DANETA:
			if a.Depth < 0 || a.Depth > len(a.Chain) || a.Chain[0] != presented[0] {
				t.Fatalf("DANE-TA %s matched at depth %d of %d certificates", a.Record, a.Depth, len(a.Chain))
			}
		default:
			t.Fatalf("record %s with usage %d matched", a.Record, usage)
		}
	})
}
