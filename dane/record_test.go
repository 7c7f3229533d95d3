package dane

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane/danetest"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	p := pki(t)
	spki256 := record(t, DANEEE, SelectorSPKI, MatchingSHA256, p.leaf).Certificate
	spkiFull := record(t, DANEEE, SelectorSPKI, MatchingFull, p.leaf).Certificate
	certFull := record(t, DANETA, SelectorCert, MatchingFull, p.root).Certificate

	tests := []struct {
		name string
		rr   *dns.TLSA
		want Reason
		// wantDetail is text that Detail must contain.
		wantDetail string
	}{
		{"3 1 1", rawRecord(3, 1, 1, spki256), ReasonNone, ""},
		{"2 0 0", rawRecord(2, 0, 0, certFull), ReasonNone, ""},
		{"3 1 0", rawRecord(3, 1, 0, spkiFull), ReasonNone, ""},
		{"upper-case hex", rawRecord(3, 1, 1, strings.ToUpper(spki256)), ReasonNone, ""},
		{"PKIX-TA", rawRecord(0, 0, 1, spki256), ReasonPKIXUsage, "PKIX-TA(0)"},
		{"PKIX-EE", rawRecord(1, 1, 1, spki256), ReasonPKIXUsage, "PKIX-EE(1)"},
		{"usage 4", rawRecord(4, 1, 1, spki256), ReasonUnknownUsage, "usage 4 is unknown"},
		{"usage 255", rawRecord(255, 1, 1, spki256), ReasonUnknownUsage, "usage 255"},
		{"selector 2", rawRecord(3, 2, 1, spki256), ReasonUnknownSelector, "selector 2"},
		{"matching type 3", rawRecord(3, 1, 3, spki256), ReasonUnknownMatchingType, "matching type 3"},
		{"empty data", rawRecord(3, 1, 1, ""), ReasonEmptyData, "empty"},
		{"not hexadecimal", rawRecord(3, 1, 1, "zz"), ReasonNotHex, "invalid byte"},
		{"odd length hex", rawRecord(3, 1, 1, spki256[:63]), ReasonNotHex, "odd length"},
		{"SHA2-256 too short", rawRecord(3, 1, 1, spki256[:62]), ReasonDigestLength,
			"the SHA2-256 digest is 31 bytes long, want 32"},
		{"SHA2-256 data under SHA2-512", rawRecord(3, 1, 2, spki256), ReasonDigestLength,
			"the SHA2-512 digest is 32 bytes long, want 64"},
		{"full certificate garbage", rawRecord(2, 0, 0, "3000"), ReasonMalformedData, "not an X.509 certificate"},
		{"full SPKI garbage", rawRecord(3, 1, 0, "0102"), ReasonMalformedData, "not a SubjectPublicKeyInfo"},
		{"full SPKI trailing bytes", rawRecord(3, 1, 0, spkiFull+"00"), ReasonMalformedData,
			"1 bytes after its end"},
		{"PKIX reported before digest length", rawRecord(1, 1, 1, "00"), ReasonPKIXUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := Classify([]*dns.TLSA{tt.rr}).Records[0]
			if rec.Reason != tt.want {
				t.Errorf("Classify(%s).Reason = %v, want %v (detail %q)", rec, rec.Reason, tt.want, rec.Detail)
			}
			if rec.Usable() != (tt.want == ReasonNone) {
				t.Errorf("Classify(%s).Usable() = %t, want %t", rec, rec.Usable(), tt.want == ReasonNone)
			}
			if !strings.Contains(rec.Detail, tt.wantDetail) {
				t.Errorf("Classify(%s).Detail = %q, want it to contain %q", rec, rec.Detail, tt.wantDetail)
			}
			if rec.Usable() != (rec.Detail == "") {
				t.Errorf("Classify(%s) has Usable() %t and Detail %q, want Detail only when unusable",
					rec, rec.Usable(), rec.Detail)
			}
		})
	}
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	p := pki(t)
	good := record(t, DANEEE, SelectorSPKI, MatchingSHA256, p.leaf)
	pkix := record(t, PKIXEE, SelectorSPKI, MatchingSHA256, p.leaf)
	short := rawRecord(DANEEE, SelectorSPKI, MatchingSHA256, "abcd")

	tests := []struct {
		name       string
		records    []*dns.TLSA
		want       Status
		wantUsable []int
	}{
		{"no records", nil, NoRecords, nil},
		{"only unusable", []*dns.TLSA{pkix, short}, NoUsableRecords, nil},
		{"mixed", []*dns.TLSA{pkix, good, short, good}, UsableRecords, []int{1, 3}},
		{"only usable", []*dns.TLSA{good}, UsableRecords, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Classify(tt.records)
			if got := s.Status(); got != tt.want {
				t.Errorf("Status() = %v, want %v", got, tt.want)
			}
			if len(s.Records) != len(tt.records) {
				t.Fatalf("Classify kept %d records of %d", len(s.Records), len(tt.records))
			}
			var usable []int
			for _, r := range s.Usable() {
				usable = append(usable, r.Index)
			}
			if !equalInts(usable, tt.wantUsable) {
				t.Errorf("Usable() indexes = %v, want %v", usable, tt.wantUsable)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAssociationDataAgainstMiekg checks AssociationData against the
// independent implementation in miekg/dns for every key type.
func TestAssociationDataAgainstMiekg(t *testing.T) {
	t.Parallel()
	p := pki(t)
	certs := map[string]*danetest.Cert{
		"ECDSA": p.leaf, "RSA": p.leafRSA, "Ed25519": p.leafEd, "RSA signed with PSS": p.leafPSS,
	}
	for name, c := range certs {
		for selector := uint8(0); selector <= 1; selector++ {
			for mt := uint8(0); mt <= 2; mt++ {
				got, err := AssociationData(c.Cert, selector, mt)
				if err != nil {
					t.Fatalf("AssociationData(%s, %d, %d): %v", name, selector, mt, err)
				}
				want, err := dns.CertificateToDANE(selector, mt, c.Cert)
				if err != nil {
					t.Fatal(err)
				}
				if hex.EncodeToString(got) != want {
					t.Errorf("AssociationData(%s, %d, %d) = %x, want %s", name, selector, mt, got, want)
				}
			}
		}
	}
}

func TestAssociationDataSPKIIsRaw(t *testing.T) {
	t.Parallel()
	leaf := pki(t).leaf.Cert
	got, err := AssociationData(leaf, SelectorSPKI, MatchingSHA256)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	if hex.EncodeToString(got) != hex.EncodeToString(want[:]) {
		t.Errorf("AssociationData(leaf, 1, 1) = %x, want %x", got, want)
	}
	if _, err := AssociationData(leaf, 2, 1); err == nil {
		t.Error("AssociationData(leaf, 2, 1) = nil error, want one for selector 2")
	}
	if _, err := AssociationData(leaf, 1, 3); err == nil {
		t.Error("AssociationData(leaf, 1, 3) = nil error, want one for matching type 3")
	}
}

func TestNewTLSA(t *testing.T) {
	t.Parallel()
	leaf := pki(t).leaf
	rr, err := NewTLSA("_25._tcp.mx.example.net.", DANEEE, SelectorSPKI, MatchingSHA256, leaf.Cert)
	if err != nil {
		t.Fatal(err)
	}
	want := record(t, DANEEE, SelectorSPKI, MatchingSHA256, leaf)
	if rr.String() != want.String() {
		t.Errorf("NewTLSA = %q, want %q", rr.String(), want.String())
	}
	for _, usage := range []uint8{PKIXTA, PKIXEE, 4} {
		if _, err := NewTLSA("x.", usage, SelectorSPKI, MatchingSHA256, leaf.Cert); err == nil {
			t.Errorf("NewTLSA with usage %d = nil error, want one", usage)
		}
	}
}

func TestOwnerName(t *testing.T) {
	t.Parallel()
	if got := OwnerName("mx.example.net", 25); got != "_25._tcp.mx.example.net." {
		t.Errorf("OwnerName(mx.example.net, 25) = %q, want _25._tcp.mx.example.net.", got)
	}
	if got := OwnerName("mx.example.net.", 465); got != "_465._tcp.mx.example.net." {
		t.Errorf("OwnerName(mx.example.net., 465) = %q, want _465._tcp.mx.example.net.", got)
	}
}

func TestSplitOwnerName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		owner    string
		wantHost string
		wantPort uint16
		wantOK   bool
	}{
		{"_25._tcp.mx.example.net.", "mx.example.net.", 25, true},
		{"_25._TCP.mx.example.net", "mx.example.net.", 25, true},
		{"_65535._tcp.a.", "a.", 65535, true},
		{"_65536._tcp.a.", "", 0, false},
		{"_25._udp.mx.example.net.", "", 0, false},
		{"25._tcp.mx.example.net.", "", 0, false},
		{"_._tcp.mx.example.net.", "", 0, false},
		{"_+25._tcp.mx.example.net.", "", 0, false},
		{"_25._tcp.", "", 0, false},
		{"mx.example.net.", "", 0, false},
	}
	for _, tt := range tests {
		host, port, ok := SplitOwnerName(tt.owner)
		if host != tt.wantHost || port != tt.wantPort || ok != tt.wantOK {
			t.Errorf("SplitOwnerName(%q) = %q, %d, %t, want %q, %d, %t",
				tt.owner, host, port, ok, tt.wantHost, tt.wantPort, tt.wantOK)
		}
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rr   *dns.TLSA
		want string
	}{
		{rawRecord(3, 1, 1, ""), "DANE-EE(3) SPKI(1) SHA2-256(1)"},
		{rawRecord(2, 0, 2, ""), "DANE-TA(2) Cert(0) SHA2-512(2)"},
		{rawRecord(1, 0, 0, ""), "PKIX-EE(1) Cert(0) Full(0)"},
		{rawRecord(9, 7, 5, ""), "unknown usage(9) unknown selector(7) unknown matching type(5)"},
	}
	for _, tt := range tests {
		if got := Describe(tt.rr); got != tt.want {
			t.Errorf("Describe(%d %d %d) = %q, want %q",
				tt.rr.Usage, tt.rr.Selector, tt.rr.MatchingType, got, tt.want)
		}
	}
}

func TestRecordStringShortensFullData(t *testing.T) {
	t.Parallel()
	p := pki(t)
	full := Classify([]*dns.TLSA{record(t, DANETA, SelectorCert, MatchingFull, p.root)}).Records[0]
	s := full.String()
	if !strings.HasPrefix(s, "2 0 0 ") || !strings.Contains(s, "…") || len(s) > 50 {
		t.Errorf("String() of a 2 0 0 record = %q, want it shortened around …", s)
	}
	digest := Classify([]*dns.TLSA{record(t, DANEEE, SelectorSPKI, MatchingSHA512, p.leaf)}).Records[0]
	if want := "3 1 2 " + digest.TLSA.Certificate; digest.String() != want {
		t.Errorf("String() of a 3 1 2 record = %q, want %q", digest.String(), want)
	}
}
