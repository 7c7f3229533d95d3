package dnssec

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("dns.NewRR(%q) = %v", s, err)
	}
	return rr
}

func TestUsableDigests(t *testing.T) {
	ds := func(alg, digest uint8) *dns.DS {
		return &dns.DS{KeyTag: 1, Algorithm: alg, DigestType: digest}
	}
	tests := []struct {
		name string
		in   []*dns.DS
		want []uint8 // digest types kept
	}{
		{"SHA-1 alone is used", []*dns.DS{ds(8, dns.SHA1)}, []uint8{dns.SHA1}},
		{"SHA-1 dropped beside SHA-256 (RFC 4509 §3)", []*dns.DS{ds(8, dns.SHA1), ds(8, dns.SHA256)}, []uint8{dns.SHA256}},
		{"SHA-384 kept beside SHA-256", []*dns.DS{ds(8, dns.SHA384), ds(8, dns.SHA256)}, []uint8{dns.SHA384, dns.SHA256}},
		{"SHA-1 kept beside SHA-384 only", []*dns.DS{ds(8, dns.SHA1), ds(8, dns.SHA384)}, []uint8{dns.SHA1, dns.SHA384}},
		{"unknown digest type ignored", []*dns.DS{ds(8, 3), ds(8, 200)}, nil},
		{"unsupported algorithm ignored (RFC 6840 §5.2)", []*dns.DS{ds(3, dns.SHA256), ds(12, dns.SHA256)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint8
			for _, d := range usableDigests(tt.in) {
				got = append(got, d.DigestType)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("usableDigests = digest types %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("usableDigests = digest types %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestCanonicalCompare(t *testing.T) {
	// RFC 4034 §6.1 gives this list in canonical order.
	ordered := []string{"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example."}
	for i := 0; i+1 < len(ordered); i++ {
		if c := canonicalCompare(ordered[i], ordered[i+1]); c >= 0 {
			t.Errorf("canonicalCompare(%s, %s) = %d, want < 0", ordered[i], ordered[i+1], c)
		}
		if c := canonicalCompare(ordered[i+1], ordered[i]); c <= 0 {
			t.Errorf("canonicalCompare(%s, %s) = %d, want > 0", ordered[i+1], ordered[i], c)
		}
	}
	if c := canonicalCompare("A.Example.", "a.example."); c != 0 {
		t.Errorf("canonicalCompare ignores case: got %d, want 0", c)
	}
}

func TestCoversName(t *testing.T) {
	tests := []struct {
		owner, next, name string
		want              bool
	}{
		{"a.example.", "d.example.", "b.example.", true},
		{"a.example.", "d.example.", "a.example.", false},
		{"a.example.", "d.example.", "d.example.", false},
		{"a.example.", "d.example.", "x.a.example.", true},
		{"a.example.", "d.example.", "e.example.", false},
		// The last NSEC of the zone points back to the apex.
		{"z.example.", "example.", "zz.example.", true},
		{"z.example.", "example.", "b.example.", false},
	}
	for _, tt := range tests {
		if got := coversName(tt.owner, tt.next, tt.name); got != tt.want {
			t.Errorf("coversName(%s, %s, %s) = %v, want %v", tt.owner, tt.next, tt.name, got, tt.want)
		}
	}
}

func TestNSECCoverRules(t *testing.T) {
	nsec := func(s string) *dns.NSEC { return mustRR(t, s).(*dns.NSEC) }
	tests := []struct {
		name   string
		record string
		qname  string
		want   bool
	}{
		{"plain span", "a.example. 300 IN NSEC d.example. A RRSIG NSEC", "b.example.", true},
		{"span leaves the zone", "a.example. 300 IN NSEC z.other. A RRSIG NSEC", "b.example.", false},
		// RFC 6840 §4.1: the parent side of a delegation owns nothing below it.
		{"below a delegation", "a.example. 300 IN NSEC d.example. NS RRSIG NSEC", "x.a.example.", false},
		{"delegation with SOA is an apex", "a.example. 300 IN NSEC d.example. NS SOA RRSIG NSEC", "x.a.example.", true},
		{"below a DNAME", "a.example. 300 IN NSEC d.example. DNAME RRSIG NSEC", "x.a.example.", false},
		{"name outside the zone", "a.example. 300 IN NSEC d.example. A RRSIG NSEC", "b.other.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &denialSet{zone: "example.", nsec: []*dns.NSEC{nsec(tt.record)}}
			if got := d.nsecCover(tt.qname) != nil; got != tt.want {
				t.Errorf("nsecCover(%s) with %q = %v, want %v", tt.qname, tt.record, got, tt.want)
			}
		})
	}
}

func TestNodataBitmap(t *testing.T) {
	tests := []struct {
		name   string
		bitmap []uint16
		qtype  uint16
		owner  string
		ok     bool
	}{
		{"type absent", []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}, dns.TypeMX, "a.example.", true},
		{"type present", []uint16{dns.TypeA, dns.TypeMX}, dns.TypeMX, "a.example.", false},
		{"CNAME present", []uint16{dns.TypeCNAME}, dns.TypeMX, "a.example.", false},
		{"parent side denies child data", []uint16{dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC}, dns.TypeA, "a.example.", false},
		{"parent side denies DS", []uint16{dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC}, dns.TypeDS, "a.example.", true},
		{"child apex cannot deny DS", []uint16{dns.TypeNS, dns.TypeSOA, dns.TypeRRSIG}, dns.TypeDS, "a.example.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := nodataBitmap("example.", tt.owner, tt.qtype, tt.bitmap, "NSEC")
			if (err == nil) != tt.ok {
				t.Errorf("nodataBitmap(%v, %s) = %v, want ok=%v", tt.bitmap, dns.TypeToString[tt.qtype], err, tt.ok)
			}
		})
	}
}

func TestIsNSEC3Owner(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.", true},
		{"0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM.example.", true},
		{"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.sub.example.", false},
		{"0p9mhaveqvm6t7vbl5lop2u3t2rp3to.example.", false},
		{"0p9mhaveqvm6t7vbl5lop2u3t2rp3toz.example.", false},
		{"www.example.", false},
	}
	for _, tt := range tests {
		if got := isNSEC3Owner(tt.name, "example."); got != tt.want {
			t.Errorf("isNSEC3Owner(%s, example.) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSigTimeSerialArithmetic(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		offset time.Duration
	}{{0}, {30 * 24 * time.Hour}, {-30 * 24 * time.Hour}, {60 * 365 * 24 * time.Hour}, {-60 * 365 * 24 * time.Hour}}
	for _, tt := range tests {
		want := now.Add(tt.offset)
		v := uint32(want.Unix())
		if got := sigTime(v, now); !got.Equal(want) {
			t.Errorf("sigTime(%d, %s) = %s, want %s", v, now, got, want)
		}
	}
	// After 2106 the 32-bit field wraps; the nearest time is still found.
	later := time.Date(2110, 1, 1, 0, 0, 0, 0, time.UTC)
	want := later.Add(time.Hour)
	if got := sigTime(uint32(want.Unix()), later); !got.Equal(want) {
		t.Errorf("sigTime across the 2106 wrap = %s, want %s", got, want)
	}
}

func TestCapTTL(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	sig := &dns.RRSIG{OrigTtl: 300, Expiration: uint32(now.Add(time.Hour).Unix())}
	if got := capTTL(3600, sig, now); got != 300 {
		t.Errorf("capTTL(3600) with original TTL 300 = %d, want 300 (RFC 4035 §5.3.3)", got)
	}
	sig.OrigTtl = 86400
	if got := capTTL(86400, sig, now); got != 3600 {
		t.Errorf("capTTL(86400) with 1h to expiry = %d, want 3600", got)
	}
}

func TestWeakest(t *testing.T) {
	states := []Security{Secure, Insecure, Indeterminate, Bogus}
	for i, a := range states {
		for j, b := range states {
			want := states[max(i, j)]
			if got := weakest(a, b); got != want {
				t.Errorf("weakest(%s, %s) = %s, want %s", a, b, got, want)
			}
		}
	}
}
