package dnscrypto

import (
	"errors"
	"fmt"
	"sync"

	"github.com/miekg/dns"
)

// VerifyFunc checks signature over data with the public key of key. It
// returns nil when the signature verifies.
type VerifyFunc func(key *dns.DNSKEY, data, signature []byte) error

var (
	registeredMu sync.RWMutex
	registered   = map[uint8]VerifyFunc{}
)

// RegisterVerifier adds verify for an algorithm that this package does not
// implement, so that Supported, PublicKey, VerifyData and Verify accept it,
// and returns a function that removes it again.
//
// It exists for tests only. Replaying old DNSSEC data signed with DSA
// (algorithm 3) needs a verifier that production code must never have,
// because RFC 8624 §3.1 lists DSA as MUST NOT for validation. Only
// _test.go files call it. It panics when alg is implemented or already registered,
// so a test cannot replace a real verifier.
func RegisterVerifier(alg uint8, verify VerifyFunc) (unregister func()) {
	if builtin(alg) {
		panic(fmt.Sprintf("dnscrypto: algorithm %d is implemented and cannot be replaced", alg))
	}
	registeredMu.Lock()
	defer registeredMu.Unlock()
	if _, ok := registered[alg]; ok {
		panic(fmt.Sprintf("dnscrypto: a verifier for algorithm %d is already registered", alg))
	}
	registered[alg] = verify
	return func() {
		registeredMu.Lock()
		defer registeredMu.Unlock()
		delete(registered, alg)
	}
}

func registeredVerifier(alg uint8) (VerifyFunc, bool) {
	registeredMu.RLock()
	defer registeredMu.RUnlock()
	v, ok := registered[alg]
	return v, ok
}

// registeredKey is the public key that PublicKey returns for a registered
// algorithm: the DNSKEY itself, decoded by the verifier on each call.
type registeredKey struct {
	key    *dns.DNSKEY
	verify VerifyFunc
}

func (k registeredKey) verifyData(alg uint8, data, signature []byte) error {
	if alg != k.key.Algorithm {
		return fmt.Errorf("%w: a key of algorithm %d cannot check algorithm %d", ErrBadKey, k.key.Algorithm, alg)
	}
	err := k.verify(k.key, data, signature)
	if err == nil || errors.Is(err, ErrBadKey) || errors.Is(err, ErrBadSignature) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrBadSignature, err)
}
