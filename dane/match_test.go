package dane

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane/danetest"
)

// wantMatch checks that Verify accepted the chain through record index at
// depth.
func wantMatch(t *testing.T, m *Match, err error, index, depth int) {
	t.Helper()
	if err != nil {
		t.Fatalf("Verify() = %v, want a match of record %d at depth %d", err, index, depth)
	}
	if m.Outcome != Matched {
		t.Errorf("Verify().Outcome = %v, want %v", m.Outcome, Matched)
	}
	if m.Record.Index != index || m.Depth != depth {
		t.Errorf("Verify() matched record %d at depth %d, want record %d at depth %d",
			m.Record.Index, m.Depth, index, depth)
	}
	if m.Err != nil {
		t.Errorf("Verify().Err = %v, want nil for a match", m.Err)
	}
}

// wantMismatch checks that Verify rejected the chain with a *MismatchError
// whose attempts have the outcomes want, and returns it.
func wantMismatch(t *testing.T, m *Match, err error, want ...Outcome) *MismatchError {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify() matched record %d (%s) at depth %d, want no match",
			m.Record.Index, m.Record, m.Depth)
	}
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("Verify() error = %v (%T), want a *MismatchError", err, err)
	}
	if !errors.Is(err, ErrNoMatch) {
		t.Errorf("errors.Is(%v, ErrNoMatch) = false, want true", err)
	}
	var got []Outcome
	for _, a := range me.Attempts {
		got = append(got, a.Outcome)
		if a.Outcome != Matched && a.Outcome != Unusable && a.Err == nil {
			t.Errorf("attempt %s has outcome %v but no Err", a.Record, a.Outcome)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Verify() outcomes = %v, want %v\n%v", got, want, err)
	}
	return me
}

func TestDANEEE(t *testing.T) {
	t.Parallel()
	p := pki(t)
	leaves := []struct {
		name string
		leaf *danetest.Cert
	}{
		{"ECDSA", p.leaf}, {"RSA", p.leafRSA}, {"Ed25519", p.leafEd},
		{"RSA under RSA-PSS", p.leafPSS}, {"self-signed", p.selfSigned},
	}
	params := [][2]uint8{{1, 1}, {0, 1}, {1, 2}, {0, 2}, {0, 0}, {1, 0}}
	for _, l := range leaves {
		for _, sm := range params {
			selector, mt := sm[0], sm[1]
			t.Run(fmt.Sprintf("%s 3 %d %d", l.name, selector, mt), func(t *testing.T) {
				t.Parallel()
				chain := danetest.Chain(l.leaf, p.inter, p.root)

				m, err := verifier([]*dns.TLSA{record(t, DANEEE, selector, mt, l.leaf)}).Verify(chain)
				wantMatch(t, m, err, 0, 0)
				if len(m.Chain) != 1 || m.Chain[0] != l.leaf.Cert {
					t.Errorf("Verify().Chain has %d certificates, want the leaf alone", len(m.Chain))
				}

				// The same parameters for another certificate, or for the
				// intermediate of the chain, do not match.
				other := record(t, DANEEE, selector, mt, p.otherName)
				issuer := record(t, DANEEE, selector, mt, p.inter)
				m, err = verifier([]*dns.TLSA{other, issuer}).Verify(chain)
				wantMismatch(t, m, err, NoMatch, NoMatch)
			})
		}
	}
}

// TestDANEEEIgnoresNamesDatesAndUsage checks RFC 7671 §5.1: a DANE-EE
// record matches whatever the leaf's names, dates and key usage.
func TestDANEEEIgnoresNamesDatesAndUsage(t *testing.T) {
	t.Parallel()
	p := pki(t)
	tests := []struct {
		name  string
		leaf  *danetest.Cert
		chain []*danetest.Cert
	}{
		{"expired leaf", p.expiredLeaf, []*danetest.Cert{p.inter}},
		{"leaf not yet valid", p.futureLeaf, []*danetest.Cert{p.inter}},
		{"leaf for another name", p.otherName, []*danetest.Cert{p.inter}},
		{"leaf for client authentication only", p.clientAuthOnly, nil},
		{"leaf under an expired intermediate", p.leafUnderExpired, []*danetest.Cert{p.expiredInter}},
		{"leaf without its intermediate", p.leaf, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chain := danetest.Chain(append([]*danetest.Cert{tt.leaf}, tt.chain...)...)
			v := verifier([]*dns.TLSA{record(t, DANEEE, SelectorSPKI, MatchingSHA256, tt.leaf)})
			m, err := v.Verify(chain)
			wantMatch(t, m, err, 0, 0)

			v.BaseDomain = ""
			m, err = v.Verify(chain)
			wantMatch(t, m, err, 0, 0)
		})
	}
}

func TestDANETA(t *testing.T) {
	t.Parallel()
	p := pki(t)
	tests := []struct {
		name   string
		record *dns.TLSA
		chain  []*danetest.Cert
		// wantDepth is where the trust anchor sits; wantSent is how many
		// certificates of the chain Match.Chain holds.
		wantDepth, wantSent int
	}{
		{"root 2 0 1", record(t, 2, 0, 1, p.root), []*danetest.Cert{p.leaf, p.inter, p.root}, 2, 3},
		{"root 2 1 1", record(t, 2, 1, 1, p.root), []*danetest.Cert{p.leaf, p.inter, p.root}, 2, 3},
		{"root 2 1 2", record(t, 2, 1, 2, p.root), []*danetest.Cert{p.leaf, p.inter, p.root}, 2, 3},
		{"root 2 0 0 sent", record(t, 2, 0, 0, p.root), []*danetest.Cert{p.leaf, p.inter, p.root}, 2, 3},
		{"root 2 0 0 absent", record(t, 2, 0, 0, p.root), []*danetest.Cert{p.leaf, p.inter}, 2, 2},
		{"root 2 1 0 absent", record(t, 2, 1, 0, p.root), []*danetest.Cert{p.leaf, p.inter}, 2, 2},
		{"intermediate 2 1 1", record(t, 2, 1, 1, p.inter), []*danetest.Cert{p.leaf, p.inter, p.root}, 1, 2},
		{"intermediate 2 0 2", record(t, 2, 0, 2, p.inter), []*danetest.Cert{p.leaf, p.inter}, 1, 2},
		{"intermediate 2 1 0 absent", record(t, 2, 1, 0, p.inter), []*danetest.Cert{p.leaf}, 1, 1},
		{"intermediate 2 0 0 absent", record(t, 2, 0, 0, p.inter), []*danetest.Cert{p.leaf}, 1, 1},
		{"chain out of order", record(t, 2, 0, 1, p.root), []*danetest.Cert{p.leaf, p.root, p.inter}, 2, 3},
		{"chain with extra certificates", record(t, 2, 1, 1, p.root),
			[]*danetest.Cert{p.leaf, p.otherRoot, p.interPSS, p.otherName, p.root, p.inter}, 2, 3},
		{"chain with the intermediate twice", record(t, 2, 1, 1, p.inter),
			[]*danetest.Cert{p.leaf, p.inter, p.inter}, 1, 2},
		{"RSA-PSS signatures", record(t, 2, 1, 1, p.root), []*danetest.Cert{p.leafPSS, p.interPSS, p.root}, 2, 3},
		{"RSA-PSS intermediate as anchor", record(t, 2, 0, 1, p.interPSS),
			[]*danetest.Cert{p.leafPSS, p.interPSS}, 1, 2},
		{"Ed25519 signatures", record(t, 2, 1, 0, p.root), []*danetest.Cert{p.leafUnderEd, p.interEd}, 2, 2},
		{"RSA leaf", record(t, 2, 1, 1, p.inter), []*danetest.Cert{p.leafRSA, p.inter}, 1, 2},
		{"Ed25519 leaf", record(t, 2, 1, 1, p.inter), []*danetest.Cert{p.leafEd, p.inter}, 1, 2},
		{"wildcard leaf", record(t, 2, 1, 1, p.inter), []*danetest.Cert{p.wildcard, p.inter}, 1, 2},
		{"common name without SANs", record(t, 2, 1, 1, p.inter),
			[]*danetest.Cert{p.commonNameOnly, p.inter}, 1, 2},
		// A key that the server did not send has no validity dates. When the
		// server sends the certificate that carries it, its dates apply:
		// see TestDANETARejects.
		{"expired root as absent key", record(t, 2, 1, 0, p.expiredRoot),
			[]*danetest.Cert{p.leafUnderExpiredRoot, p.interUnderExpired}, 2, 2},
		// The leaf's own key signs a self-signed leaf, so it can be the
		// trust anchor above it, as in OpenSSL.
		{"self-signed leaf, 2 1 0 of its own key", record(t, 2, 1, 0, p.selfSigned),
			[]*danetest.Cert{p.selfSigned}, 1, 1},
		// The key of inter, sent in a certificate that another root issued.
		{"cross-signed intermediate key", record(t, 2, 1, 1, p.inter),
			[]*danetest.Cert{p.leaf, p.interCross, p.otherRoot}, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chain := danetest.Chain(tt.chain...)
			m, err := verifier([]*dns.TLSA{tt.record}).Verify(chain)
			wantMatch(t, m, err, 0, tt.wantDepth)
			if len(m.Chain) != tt.wantSent {
				t.Fatalf("Verify().Chain has %d certificates, want %d", len(m.Chain), tt.wantSent)
			}
			if m.Chain[0] != chain[0] {
				t.Errorf("Verify().Chain[0] is %s, want the leaf", m.Chain[0].Subject)
			}
			for _, c := range m.Chain {
				if !sent(chain, c) {
					t.Errorf("Verify().Chain holds %s, which the server did not send", c.Subject)
				}
			}
		})
	}
}

func sent(chain []*x509.Certificate, cert *x509.Certificate) bool {
	for _, c := range chain {
		if c == cert {
			return true
		}
	}
	return false
}

func TestDANETARejects(t *testing.T) {
	t.Parallel()
	p := pki(t)
	tests := []struct {
		name   string
		record *dns.TLSA
		chain  []*danetest.Cert
		want   Outcome
		// wantErr is text the attempt's error must contain.
		wantErr string
	}{
		{"leaf for another name", record(t, 2, 1, 1, p.inter), []*danetest.Cert{p.otherName, p.inter},
			NameMismatch, "issued for mail.example.org, none of which matches mx.example.net."},
		{"expired leaf", record(t, 2, 1, 1, p.inter), []*danetest.Cert{p.expiredLeaf, p.inter},
			ChainInvalid, "expired"},
		{"leaf not yet valid", record(t, 2, 0, 1, p.root), []*danetest.Cert{p.futureLeaf, p.inter, p.root},
			ChainInvalid, "not yet valid"},
		{"missing intermediate, root sent", record(t, 2, 0, 1, p.root), []*danetest.Cert{p.leaf, p.root},
			ChainInvalid, "to the trust anchor certificate at depth 1 (CN=Test Root): x509: " +
				"certificate signed by unknown authority"},
		{"missing intermediate, root absent", record(t, 2, 0, 1, p.root), []*danetest.Cert{p.leaf},
			NoMatch, "no certificate of the chain has this certificate digest"},
		{"missing intermediate, root key digest absent", record(t, 2, 1, 1, p.root), []*danetest.Cert{p.leaf},
			NoMatch, "no certificate of the chain has this SubjectPublicKeyInfo digest"},
		{"missing intermediate, 2 0 0", record(t, 2, 0, 0, p.root), []*danetest.Cert{p.leaf},
			ChainInvalid, "unknown authority"},
		{"missing intermediate, 2 1 0", record(t, 2, 1, 0, p.root), []*danetest.Cert{p.leaf},
			ChainInvalid, "unknown authority"},
		{"expired intermediate", record(t, 2, 0, 1, p.root),
			[]*danetest.Cert{p.leafUnderExpired, p.expiredInter, p.root}, ChainInvalid, "expired"},
		{"expired root as certificate", record(t, 2, 0, 1, p.expiredRoot),
			[]*danetest.Cert{p.leafUnderExpiredRoot, p.interUnderExpired, p.expiredRoot}, ChainInvalid, "expired"},
		{"anchor sent but did not sign", record(t, 2, 0, 1, p.otherRoot),
			[]*danetest.Cert{p.leaf, p.inter, p.otherRoot}, ChainInvalid, "unknown authority"},
		{"leaf not for server authentication", record(t, 2, 1, 1, p.inter),
			[]*danetest.Cert{p.clientAuthOnly, p.inter}, ChainInvalid, "key usage"},
		// A DANE-TA record never matches the leaf, as in OpenSSL, which
		// Postfix uses.
		{"leaf as its own anchor", record(t, 2, 0, 1, p.leaf), []*danetest.Cert{p.leaf},
			NoMatch, "only the leaf certificate matches"},
		{"leaf as its own anchor, issuer sent", record(t, 2, 1, 1, p.leaf), []*danetest.Cert{p.leaf, p.inter},
			NoMatch, "only the leaf certificate matches"},
		{"leaf as anchor with another name", record(t, 2, 0, 1, p.otherName), []*danetest.Cert{p.otherName},
			NoMatch, "only the leaf certificate matches"},
		{"leaf sent twice as its own anchor", record(t, 2, 0, 1, p.selfSigned),
			[]*danetest.Cert{p.selfSigned, p.selfSigned}, NoMatch, "only the leaf certificate matches"},
		{"self-signed leaf, 2 0 0 of itself", record(t, 2, 0, 0, p.selfSigned), []*danetest.Cert{p.selfSigned},
			NoMatch, "only the leaf certificate matches"},
		// A certificate that the server sent keeps its validity dates when a
		// 2 1 x record designates it by its key.
		{"expired root as key", record(t, 2, 1, 1, p.expiredRoot),
			[]*danetest.Cert{p.leafUnderExpiredRoot, p.interUnderExpired, p.expiredRoot}, ChainInvalid,
			"to the trust anchor public key at depth 2 (CN=Expired Root): x509: certificate has expired"},
		{"expired root as full key, sent", record(t, 2, 1, 0, p.expiredRoot),
			[]*danetest.Cert{p.leafUnderExpiredRoot, p.interUnderExpired, p.expiredRoot}, ChainInvalid,
			"to the trust anchor public key at depth 2 (CN=Expired Root): x509: certificate has expired"},
		{"self-signed leaf, 2 1 0 of another key", record(t, 2, 1, 0, p.root), []*danetest.Cert{p.selfSigned},
			ChainInvalid, "unknown authority"},
		{"cross-signed intermediate, certificate digest", record(t, 2, 0, 1, p.inter),
			[]*danetest.Cert{p.leaf, p.interCross}, NoMatch, "no certificate of the chain has this certificate digest"},
		{"expired leaf under two anchors", record(t, 2, 1, 1, p.inter),
			[]*danetest.Cert{p.expiredLeaf, p.inter, p.interCross},
			ChainInvalid, "to the trust anchor public key at depth 1 (CN=Test Intermediate): x509: certificate " +
				"has expired or is not yet valid: current time 2026-06-01T12:00:00Z is after 2026-05-31T12:00:00Z; " +
				"to the trust anchor public key at depth 2 (CN=Test Intermediate): x509: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := verifier([]*dns.TLSA{tt.record}).Verify(danetest.Chain(tt.chain...))
			me := wantMismatch(t, m, err, tt.want)
			if got := me.Attempts[0].Err; got == nil || !strings.Contains(got.Error(), tt.wantErr) {
				t.Errorf("attempt error = %v, want it to contain %q", got, tt.wantErr)
			}
		})
	}
}

// TestDANETAReferenceIdentifiers checks the names of RFC 7672 §3.2.2: the
// TLSA base domain, the MX host name as published when the base domain is
// its CNAME expansion, and the next-hop domain.
func TestDANETAReferenceIdentifiers(t *testing.T) {
	t.Parallel()
	p := pki(t)
	nextHop := p.inter.Leaf(danetest.Options{DNSNames: []string{"example.net"}})
	tests := []struct {
		name       string
		leaf       *danetest.Cert
		baseDomain string
		names      []string
		want       Outcome
	}{
		{"base domain", p.leaf, "mx.example.net.", nil, Matched},
		{"base domain without final dot", p.leaf, "mx.example.net", nil, Matched},
		{"base domain in other case", p.leaf, "MX.Example.NET.", nil, Matched},
		{"MX name before CNAME expansion", p.leaf, "mx.hosting.example.", []string{"mx.example.net."}, Matched},
		{"next-hop domain", nextHop, "mx.example.net.", []string{"example.net."}, Matched},
		{"next-hop domain not given", nextHop, "mx.example.net.", nil, NameMismatch},
		{"CNAME expansion only", p.leaf, "mx.hosting.example.", nil, NameMismatch},
		{"no reference identifiers", p.leaf, "", nil, NameMismatch},
		{"wildcard for base domain", p.wildcard, "mx.example.net.", nil, Matched},
		{"wildcard for next-hop domain", p.wildcard, "mx.hosting.example.", []string{"example.net."}, NameMismatch},
		{"wildcard two labels down", p.wildcard, "a.mx.example.net.", nil, NameMismatch},
		{"reference identifier with wildcard", p.wildcard, "*.example.net.", nil, NameMismatch},
		{"common name only", p.commonNameOnly, "mx.example.net.", nil, Matched},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := verifier([]*dns.TLSA{record(t, DANETA, SelectorSPKI, MatchingSHA256, p.inter)}, tt.names...)
			v.BaseDomain = tt.baseDomain
			m, err := v.Verify(danetest.Chain(tt.leaf, p.inter))
			if tt.want == Matched {
				wantMatch(t, m, err, 0, 1)
				return
			}
			wantMismatch(t, m, err, tt.want)
		})
	}
}

func TestMatchName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, ref string
		want         bool
	}{
		{"mx.example.net", "mx.example.net", true},
		{"mx.example.net.", "mx.example.net", true},
		{"MX.example.net", "mx.EXAMPLE.net.", true},
		{"mx.example.net", "mx2.example.net", false},
		{"mx.example.net", "example.net", false},
		{"*.example.net", "mx.example.net", true},
		{"*.example.net", "MX.example.net.", true},
		{"*.example.net", "example.net", false},
		{"*.example.net", ".example.net", false},
		{"*.example.net", "a.mx.example.net", false},
		{"*.example.net", "*.example.net", false},
		{"*.net", "example.net", false},
		{"m*.example.net", "mx.example.net", false},
		{"*x.example.net", "mx.example.net", false},
		{"mx.*.net", "mx.example.net", false},
		{"*.*.net", "mx.example.net", false},
		{"*", "mx", false},
		{"*..net", "a..net", false},
		{"", "", false},
		{"mx.example.net", "", false},
	}
	for _, tt := range tests {
		if got := matchName(tt.pattern, tt.ref); got != tt.want {
			t.Errorf("matchName(%q, %q) = %t, want %t", tt.pattern, tt.ref, got, tt.want)
		}
	}
}

func TestRecordSets(t *testing.T) {
	t.Parallel()
	p := pki(t)
	chain := danetest.Chain(p.leaf, p.inter, p.root)
	good := record(t, DANEEE, SelectorSPKI, MatchingSHA256, p.leaf)
	goodTA := record(t, DANETA, SelectorCert, MatchingSHA256, p.root)
	wrong := record(t, DANEEE, SelectorSPKI, MatchingSHA256, p.otherName)
	wrongTA := record(t, DANETA, SelectorSPKI, MatchingSHA256, p.otherRoot)
	pkixEE := record(t, PKIXEE, SelectorSPKI, MatchingSHA256, p.leaf)
	pkixTA := record(t, PKIXTA, SelectorCert, MatchingSHA256, p.root)
	short := rawRecord(DANEEE, SelectorSPKI, MatchingSHA256, good.Certificate[:62])
	unknownUsage := rawRecord(4, SelectorSPKI, MatchingSHA256, good.Certificate)
	empty := rawRecord(DANEEE, SelectorSPKI, MatchingSHA256, "")

	t.Run("usable after unusable ones", func(t *testing.T) {
		t.Parallel()
		m, err := verifier([]*dns.TLSA{pkixEE, short, unknownUsage, empty, good}).Verify(chain)
		wantMatch(t, m, err, 4, 0)
		var got []Outcome
		for _, a := range m.Attempts {
			got = append(got, a.Outcome)
		}
		if want := []Outcome{Unusable, Unusable, Unusable, Unusable, Matched}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Match.Attempts outcomes = %v, want %v", got, want)
		}
	})
	t.Run("usable before unusable ones", func(t *testing.T) {
		t.Parallel()
		m, err := verifier([]*dns.TLSA{goodTA, pkixTA, short}).Verify(chain)
		wantMatch(t, m, err, 0, 2)
	})
	t.Run("first match in set order", func(t *testing.T) {
		t.Parallel()
		m, err := verifier([]*dns.TLSA{wrong, goodTA, good}).Verify(chain)
		wantMatch(t, m, err, 1, 2)
		if m.Attempts[2].Outcome != Matched {
			t.Errorf("attempt 2 = %v, want it tried and matched too", m.Attempts[2])
		}
	})
	t.Run("unusable records that would match", func(t *testing.T) {
		t.Parallel()
		m, err := verifier([]*dns.TLSA{pkixEE, pkixTA, wrong}).Verify(chain)
		me := wantMismatch(t, m, err, Unusable, Unusable, NoMatch)
		if errors.Is(err, ErrNoUsableRecords) {
			t.Errorf("errors.Is(%v, ErrNoUsableRecords) = true, want false: record 2 is usable", err)
		}
		if me.Attempts[2].Record.Index != 2 {
			t.Errorf("attempt 2 has record index %d", me.Attempts[2].Record.Index)
		}
	})
	t.Run("only unusable records", func(t *testing.T) {
		t.Parallel()
		v := verifier([]*dns.TLSA{pkixEE, pkixTA, short, unknownUsage, empty})
		if got := v.Set.Status(); got != NoUsableRecords {
			t.Errorf("Status() = %v, want %v", got, NoUsableRecords)
		}
		m, err := v.Verify(chain)
		wantMismatch(t, m, err, Unusable, Unusable, Unusable, Unusable, Unusable)
		if !errors.Is(err, ErrNoUsableRecords) {
			t.Errorf("errors.Is(%v, ErrNoUsableRecords) = false, want true", err)
		}
	})
	t.Run("no records", func(t *testing.T) {
		t.Parallel()
		m, err := verifier(nil).Verify(chain)
		wantMismatch(t, m, err)
		if !errors.Is(err, ErrNoUsableRecords) {
			t.Errorf("errors.Is(%v, ErrNoUsableRecords) = false, want true", err)
		}
	})
	t.Run("all usable, none matches", func(t *testing.T) {
		t.Parallel()
		m, err := verifier([]*dns.TLSA{wrong, wrongTA}).Verify(chain)
		wantMismatch(t, m, err, NoMatch, NoMatch)
	})
	t.Run("no certificate", func(t *testing.T) {
		t.Parallel()
		_, err := verifier([]*dns.TLSA{good}).Verify(nil)
		if !errors.Is(err, ErrNoCertificate) {
			t.Errorf("Verify(nil) = %v, want ErrNoCertificate", err)
		}
	})
	t.Run("chain too long", func(t *testing.T) {
		t.Parallel()
		long := make([]*x509.Certificate, MaxChainLength+1)
		for i := range long {
			long[i] = p.leaf.Cert
		}
		_, err := verifier([]*dns.TLSA{good}).Verify(long)
		if err == nil || !strings.Contains(err.Error(), "more than the limit") {
			t.Errorf("Verify(%d certificates) = %v, want an error about the limit", len(long), err)
		}
	})
}

func TestMismatchErrorMessage(t *testing.T) {
	t.Parallel()
	p := pki(t)
	wrong := record(t, DANEEE, SelectorSPKI, MatchingSHA256, p.otherName)
	pkixEE := record(t, PKIXEE, SelectorSPKI, MatchingSHA256, p.leaf)
	_, err := verifier([]*dns.TLSA{pkixEE, wrong}).Verify(danetest.Chain(p.leaf))
	want := "dane: no usable TLSA record matches the certificate chain; " +
		"1 1 1 " + pkixEE.Certificate + ": unusable: usage PKIX-EE(1) is not used for SMTP (RFC 7672 §3.1.3); " +
		"3 1 1 " + wrong.Certificate + ": no match: the leaf certificate's SubjectPublicKeyInfo does not match"
	if err == nil || err.Error() != want {
		t.Errorf("Verify() error = %v\nwant %s", err, want)
	}

	_, err = verifier([]*dns.TLSA{pkixEE}).Verify(danetest.Chain(p.leaf))
	if err == nil || !strings.HasPrefix(err.Error(), "dane: no usable TLSA records; ") {
		t.Errorf("Verify() error = %v, want it to start with %q", err, "dane: no usable TLSA records; ")
	}
}

func TestVerifyNowDefault(t *testing.T) {
	t.Parallel()
	// A chain valid around the real time, which a nil Now stands for.
	now := time.Now()
	root := danetest.NewRoot(danetest.Options{NotBefore: now.Add(-day), NotAfter: now.Add(day)})
	current := root.Leaf(danetest.Options{DNSNames: []string{"mx.example.net"},
		NotBefore: now.Add(-day), NotAfter: now.Add(day)})
	v := verifier([]*dns.TLSA{record(t, DANETA, SelectorSPKI, MatchingSHA256, root)})
	v.Now = nil
	m, err := v.Verify(danetest.Chain(current, root))
	wantMatch(t, m, err, 0, 1)
}

// TestDigestAgility checks RFC 7671 §9: where a usage and selector have
// SHA2-512 records, their SHA2-256 records are not used.
func TestDigestAgility(t *testing.T) {
	t.Parallel()
	p := pki(t)
	chain := danetest.Chain(p.leaf, p.inter, p.root)
	ee256 := record(t, DANEEE, SelectorSPKI, MatchingSHA256, p.leaf)
	ee512 := record(t, DANEEE, SelectorSPKI, MatchingSHA512, p.leaf)
	ee512Other := record(t, DANEEE, SelectorSPKI, MatchingSHA512, p.otherName)
	eeFull := record(t, DANEEE, SelectorSPKI, MatchingFull, p.leaf)
	eeCert256 := record(t, DANEEE, SelectorCert, MatchingSHA256, p.leaf)
	ta256 := record(t, DANETA, SelectorSPKI, MatchingSHA256, p.inter)
	pkix512 := record(t, PKIXEE, SelectorSPKI, MatchingSHA512, p.otherName)

	t.Run("SHA2-256 match under a SHA2-512 mismatch", func(t *testing.T) {
		t.Parallel()
		m, err := verifier([]*dns.TLSA{ee256, ee512Other}).Verify(chain)
		me := wantMismatch(t, m, err, Superseded, NoMatch)
		if got := me.Attempts[0].Err.Error(); !strings.Contains(got, "has a SHA2-512 record") {
			t.Errorf("superseded attempt error = %q, want it to name SHA2-512", got)
		}
	})
	t.Run("both digests match", func(t *testing.T) {
		t.Parallel()
		m, err := verifier([]*dns.TLSA{ee256, ee512}).Verify(chain)
		wantMatch(t, m, err, 1, 0)
	})
	t.Run("Full is not superseded", func(t *testing.T) {
		t.Parallel()
		m, err := verifier([]*dns.TLSA{ee512Other, eeFull}).Verify(chain)
		wantMatch(t, m, err, 1, 0)
	})
	t.Run("other selector unaffected", func(t *testing.T) {
		t.Parallel()
		m, err := verifier([]*dns.TLSA{ee512Other, eeCert256}).Verify(chain)
		wantMatch(t, m, err, 1, 0)
	})
	t.Run("other usage unaffected", func(t *testing.T) {
		t.Parallel()
		m, err := verifier([]*dns.TLSA{ee512Other, ta256}).Verify(chain)
		wantMatch(t, m, err, 1, 1)
	})
	t.Run("unusable SHA2-512 supersedes nothing", func(t *testing.T) {
		t.Parallel()
		short512 := rawRecord(DANEEE, SelectorSPKI, MatchingSHA512, "abcd")
		m, err := verifier([]*dns.TLSA{pkix512, short512, ee256}).Verify(chain)
		wantMatch(t, m, err, 2, 0)
	})
}
