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
	f.Fuzz(func(t *testing.T, data []byte) {
		records, err := ParseZone(bytes.NewReader(data), "fuzz")
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
