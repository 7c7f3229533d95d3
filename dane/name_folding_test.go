package dane

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane/danetest"
)

// TestMatchNameASCIIFold checks that names are compared without regard to
// ASCII case only. strings.EqualFold also folds U+017F (long s) to "s"
// and U+212A (Kelvin sign) to "k", so a subject common name that is not a
// DNS name at all would match a reference identifier.
func TestMatchNameASCIIFold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, ref string
	}{
		{"\u017Fmtp.example.net", "smtp.example.net"},
		{"mx.example.\u212Aom", "mx.example.kom"},
		{"*.example.\u212Aom", "mx.example.kom"},
		{"smtp.example.net", "\u017Fmtp.example.net"},
		{"mx.b\u00fccher.example", "mx.b\u00fccher.example"},
		{"*.b\u00fccher.example", "mx.b\u00fccher.example"},
	}
	for _, tt := range tests {
		if matchName(tt.pattern, tt.ref) {
			t.Errorf("matchName(%+q, %+q) = true, want false: a name outside ASCII matches nothing",
				tt.pattern, tt.ref)
		}
	}
	if !matchName("mx.xn--bcher-kva.example", "MX.XN--BCHER-KVA.EXAMPLE.") {
		t.Error("matchName(mx.xn--bcher-kva.example, MX.XN--BCHER-KVA.EXAMPLE.) = false, want true")
	}
}

// TestDANETANonASCIICommonName shows the folding of TestMatchNameASCIIFold
// through Verify: a DANE-TA leaf whose only name is the common name
// "ſmtp.example.net" must not be accepted for smtp.example.net.
func TestDANETANonASCIICommonName(t *testing.T) {
	t.Parallel()
	p := pki(t)
	leaf := p.inter.Leaf(danetest.Options{CommonName: "\u017Fmtp.example.net"})
	v := verifier([]*dns.TLSA{record(t, DANETA, SelectorSPKI, MatchingSHA256, p.inter)})
	v.BaseDomain = "smtp.example.net."
	m, err := v.Verify(danetest.Chain(leaf, p.inter))
	wantMismatch(t, m, err, NameMismatch)
}
