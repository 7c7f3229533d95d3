package dnscrypto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/miekg/dns"
)

// privateAlgorithm is PRIVATEOID (254), which this package does not
// implement.
const privateAlgorithm = dns.PRIVATEOID

func TestRegisterVerifier(t *testing.T) {
	if Supported(privateAlgorithm) {
		t.Fatalf("Supported(%d) = true before registration, want false", privateAlgorithm)
	}
	var calls int
	unregister := RegisterVerifier(privateAlgorithm, func(key *dns.DNSKEY, data, signature []byte) error {
		calls++
		if !bytes.Equal(signature, []byte("good")) {
			return errors.New("not the good signature")
		}
		return nil
	})
	if !Supported(privateAlgorithm) {
		t.Fatalf("Supported(%d) = false after registration, want true", privateAlgorithm)
	}

	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 257, Protocol: 3, Algorithm: privateAlgorithm, PublicKey: base64.StdEncoding.EncodeToString([]byte("key"))}
	rrset := []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600},
		A: []byte{192, 0, 2, 1}}}
	sig := testRRSIG(privateAlgorithm, key.KeyTag(), rrset)
	sig.Signature = base64.StdEncoding.EncodeToString([]byte("good"))
	if err := Verify(sig, key, rrset); err != nil {
		t.Errorf("Verify with the good signature = %v, want nil", err)
	}
	sig.Signature = base64.StdEncoding.EncodeToString([]byte("bad"))
	if err := Verify(sig, key, rrset); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify with a bad signature = %v, want ErrBadSignature", err)
	}
	if calls != 2 {
		t.Errorf("the verifier ran %d times, want 2", calls)
	}

	unregister()
	if Supported(privateAlgorithm) {
		t.Errorf("Supported(%d) = true after unregistering, want false", privateAlgorithm)
	}
	if err := Verify(sig, key, rrset); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("Verify after unregistering = %v, want ErrUnsupportedAlgorithm", err)
	}
}

func TestRegisterVerifierRejectsImplementedAlgorithm(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("RegisterVerifier(RSASHA256) did not panic")
		}
	}()
	RegisterVerifier(dns.RSASHA256, func(*dns.DNSKEY, []byte, []byte) error { return nil })
}

func TestRegisterVerifierRejectsSecondRegistration(t *testing.T) {
	noop := func(*dns.DNSKEY, []byte, []byte) error { return nil }
	unregister := RegisterVerifier(privateAlgorithm, noop)
	defer unregister()
	defer func() {
		if recover() == nil {
			t.Error("a second RegisterVerifier for one algorithm did not panic")
		}
	}()
	RegisterVerifier(privateAlgorithm, noop)
}
