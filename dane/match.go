package dane

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// MaxChainLength is the largest number of certificates Verify accepts from
// a server. Chains in use usually have two to four certificates, and the
// limit bounds the work that a long chain causes for each DANE-TA record.
const MaxChainLength = 16

// Verifier matches certificate chains against a TLSA RRset for SMTP. It is
// safe for concurrent use once its fields are set.
type Verifier struct {
	// Set is the classified TLSA RRset of the server.
	Set *Set
	// BaseDomain is the TLSA base domain: the MX host name, or its CNAME
	// expansion when the TLSA records were found there (RFC 7671 §7).
	// TLSConfig sends it as SNI, and a DANE-TA leaf may carry it as a
	// reference identifier.
	BaseDomain string
	// Names are further reference identifiers a DANE-TA leaf may carry
	// instead of BaseDomain (RFC 7672 §3.2.2): the MX host name as the MX
	// record gives it, when BaseDomain is its CNAME expansion, and the
	// next-hop domain, usually the recipient domain.
	Names []string
	// Now returns the time at which certificate validity dates are
	// checked for DANE-TA; nil means time.Now.
	Now func() time.Time
}

// ReferenceIDs returns the reference identifiers a DANE-TA leaf
// certificate is checked against: BaseDomain followed by Names, without
// empty entries.
func (v *Verifier) ReferenceIDs() []string {
	var refs []string
	for _, name := range append([]string{v.BaseDomain}, v.Names...) {
		if name != "" {
			refs = append(refs, name)
		}
	}
	return refs
}

// Verify tries every record of the set against chain, the certificates a
// server sent with the leaf first, and returns the first record that
// authenticates the chain. Certificates after the leaf may come in any
// order and may include ones that no path uses. When no record matches,
// the error is a *MismatchError listing every record and why it failed.
//
// A DANE-EE(3) record must match the leaf certificate or its public key;
// names, validity dates and key usage are not checked (RFC 7671 §5.1).
//
// A DANE-TA(2) record must match a trust anchor: a certificate of the
// chain above the leaf, never the leaf itself. A record that carries a full
// certificate (2 0 0) or public key (2 1 0) is a trust anchor itself, even
// if the server did not send it (RFC 7671 §5.2.2, §5.2.3). The chain from
// the leaf to the trust anchor must then verify at the time Now returns,
// with that anchor as its only root and with the server authentication
// extended key usage. A trust anchor certificate, whether the server sent
// it or the record carries it, must be a CA certificate within its
// validity dates, and its path length constraint, extended key usage and
// name constraints apply. That holds too when a 2 1 x record designates it
// by its key. Only a key that the server did not send has no dates or
// constraints. Finally the leaf must be issued for one of ReferenceIDs
// (RFC 7672 §3.2.2). A leaf without DNS subject alternative names is
// matched by its subject common name, but only when no CA certificate in
// the verified path has DNS name constraints.
//
// When a usage and selector have both SHA2-256 and SHA2-512 records, only
// the SHA2-512 ones are tried (digest algorithm agility, RFC 7671 §9), so
// that a broken SHA2-256 cannot undermine a server that publishes both.
func (v *Verifier) Verify(chain []*x509.Certificate) (*Match, error) {
	if len(chain) == 0 {
		return nil, ErrNoCertificate
	}
	if len(chain) > MaxChainLength {
		return nil, fmt.Errorf("dane: the server sent %d certificates, more than the limit of %d",
			len(chain), MaxChainLength)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	at := now()

	var attempts []Attempt
	if v.Set != nil {
		strongest := strongestDigests(v.Set)
		attempts = make([]Attempt, 0, len(v.Set.Records))
		for _, rec := range v.Set.Records {
			attempts = append(attempts, v.try(rec, chain, at, strongest))
		}
	}
	for _, a := range attempts {
		if a.Outcome == Matched {
			return &Match{Attempt: a, Attempts: attempts}, nil
		}
	}
	return nil, &MismatchError{Attempts: attempts}
}

// try applies one record to chain. strongest is the result of
// strongestDigests for the set.
func (v *Verifier) try(rec Record, chain []*x509.Certificate, at time.Time,
	strongest map[[2]uint8]uint8) Attempt {
	if !rec.Usable() {
		return Attempt{Record: rec, Outcome: Unusable}
	}
	t := rec.TLSA
	best := strongest[[2]uint8{t.Usage, t.Selector}]
	if t.MatchingType != MatchingFull && t.MatchingType < best {
		err := fmt.Errorf("not used, because the set has a %s record with the same usage and "+
			"selector (digest algorithm agility, RFC 7671 §9)", matchingName(best))
		return Attempt{Record: rec, Outcome: Superseded, Err: err}
	}
	if rec.TLSA.Usage == DANEEE {
		return matchEndEntity(rec, chain[0])
	}
	return v.matchTrustAnchor(rec, chain, at)
}

// strongestDigests returns, for each usage and selector of the usable
// records of set, the strongest digest matching type among them. SHA2-512
// ranks above SHA2-256, and Full(0) is no digest, so it is left out.
func strongestDigests(set *Set) map[[2]uint8]uint8 {
	strongest := make(map[[2]uint8]uint8)
	for _, rec := range set.Usable() {
		t := rec.TLSA
		key := [2]uint8{t.Usage, t.Selector}
		if t.MatchingType > strongest[key] {
			strongest[key] = t.MatchingType
		}
	}
	return strongest
}

// matchEndEntity applies a DANE-EE(3) record to the leaf alone.
func matchEndEntity(rec Record, leaf *x509.Certificate) Attempt {
	a := Attempt{Record: rec}
	if matches(rec, leaf) {
		a.Outcome = Matched
		a.Chain = []*x509.Certificate{leaf}
		return a
	}
	a.Outcome = NoMatch
	a.Err = fmt.Errorf("the leaf certificate's %s does not match", selectedPart(rec.TLSA.Selector))
	return a
}

// matches reports whether cert has the record's association data.
func matches(rec Record, cert *x509.Certificate) bool {
	data, err := AssociationData(cert, rec.TLSA.Selector, rec.TLSA.MatchingType)
	return err == nil && bytes.Equal(data, rec.data)
}

func selectedPart(selector uint8) string {
	if selector == SelectorSPKI {
		return "SubjectPublicKeyInfo"
	}
	return "certificate"
}

// matchTrustAnchor applies a DANE-TA(2) record: it finds the trust anchors
// the record designates, verifies the chain up to each in turn, and checks
// the leaf's names on each verified path.
func (v *Verifier) matchTrustAnchor(rec Record, chain []*x509.Certificate, at time.Time) Attempt {
	anchors, err := trustAnchors(rec, chain)
	if err != nil {
		return Attempt{Record: rec, Outcome: NoMatch, Err: err}
	}

	refs := v.ReferenceIDs()
	var chainErrs []error
	var mismatch *Attempt
	for _, ta := range anchors {
		paths, err := verifiedPaths(chain, ta, at)
		if err != nil {
			chainErrs = append(chainErrs, fmt.Errorf("to the trust anchor %s: %w", ta, err))
			continue
		}
		for _, path := range paths {
			a := Attempt{Record: rec, Depth: len(path) - 1, Chain: presentedPath(path, ta)}
			if err := checkLeafNames(path, refs); err != nil {
				if mismatch == nil {
					a.Outcome, a.Err = NameMismatch, err
					mismatch = &a
				}
				continue
			}
			a.Outcome = Matched
			return a
		}
	}
	if mismatch != nil {
		return *mismatch
	}
	return Attempt{Record: rec, Outcome: ChainInvalid, Err: joinErrors(chainErrs)}
}

// joinErrors returns one error that wraps all of errs, with their messages
// on one line separated by semicolons. errors.Join would separate them by
// newlines, which breaks the one-line form of Attempt.String.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	format := strings.TrimSuffix(strings.Repeat("%w; ", len(errs)), "; ")
	args := make([]any, len(errs))
	for i, err := range errs {
		args[i] = err
	}
	return fmt.Errorf(format, args...)
}
