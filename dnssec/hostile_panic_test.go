package dnssec

import (
	"context"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/trustanchor"
)

// scriptedLookupRecover runs a lookup and turns a panic into a test error,
// so that one crash does not stop the rest of the package's tests.
func scriptedLookupRecover(t *testing.T, v *Validator, name string, qtype uint16) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("Lookup(%s %s) panicked: %v", name, dns.TypeToString[qtype], p)
		}
	}()
	v.Lookup(context.Background(), name, qtype)
}

// nilSource returns neither a response nor an error.
type nilSource struct{}

func (nilSource) Query(context.Context, string, uint16) (*dns.Msg, error) { return nil, nil }

// TestSourceOddities feeds the validator responses that a Source
// implemented in process can return but the network path never does: a
// CNAME record held as *dns.RFC3597, and a nil message without an error.
// The Source interface does not rule either out, so the validator should
// end bogus or indeterminate, not panic.
func TestSourceOddities(t *testing.T) {
	t.Run("RFC3597 CNAME", func(t *testing.T) {
		w := newScriptedWorld(t)
		generic := &dns.RFC3597{
			Hdr:   dns.RR_Header{Name: "alias.example.test.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 300},
			Rdata: "037777770765786d706c6504746573740000",
		}
		w.src.set("alias.example.test.", dns.TypeA, scriptedMsg(dns.RcodeSuccess, []dns.RR{generic}, nil))
		scriptedLookupRecover(t, w.validator(t, Limits{}), "alias.example.test.", dns.TypeA)
	})
	t.Run("nil response", func(t *testing.T) {
		w := newScriptedWorld(t)
		anchors := []trustanchor.Anchor{{DS: w.root.ds(), Source: "scripted test root"}}
		v, err := New(Config{Source: nilSource{}, Anchors: anchors})
		if err != nil {
			t.Fatal(err)
		}
		scriptedLookupRecover(t, v, "www.example.test.", dns.TypeA)
	})
}
