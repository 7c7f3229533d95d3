package dnssec

// Limits bounds the work one lookup may cause, so that a hostile zone or
// upstream can cost only a fixed amount of time. A zero or negative field
// takes its default. Hitting a limit ends the lookup bogus with a *LimitError, never
// insecure.
type Limits struct {
	// MaxQueries bounds the queries one lookup sends, counting DS and
	// DNSKEY fetches and every CNAME link. Default 50, the
	// per-client-query budget of PowerDNS Recursor (max-qperq) and of
	// BIND 9.10 to 9.16 (max-recursion-queries).
	MaxQueries int
	// MaxSignatureChecks bounds signature verifications per lookup.
	// Default 128: Unbound 1.19.1 allows MAX_VALIDATE_AT_ONCE (8) checks
	// per pass and MAX_VALIDATION_SUSPENDS (16) passes.
	MaxSignatureChecks int
	// MaxSignatureChecksPerRRset bounds the RRSIG and DNSKEY pairs tried
	// for one RRset. Default 8, Unbound's MAX_VALIDATE_RRSIGS (the
	// KeyTrap fix, CVE-2023-50387).
	MaxSignatureChecksPerRRset int
	// MaxKeysPerTag bounds the DNSKEYs tried for one RRSIG key tag.
	// Default 4. Honest zones rarely have two keys with one tag (a
	// collision needs a rollover and bad luck); KeyTrap zones have dozens.
	MaxKeysPerTag int
	// MaxDSMismatches bounds the DNSKEYs that share a DS record's key tag
	// and algorithm but not its digest, per zone. Default 4, Unbound
	// 1.19.1's MAX_DS_MATCH_FAILURES: each costs a digest computation.
	MaxDSMismatches int
	// MaxNSEC3Hashes bounds NSEC3 name hashes per lookup (CVE-2023-50868).
	// Default 128: Unbound 1.19.1 allows MAX_NSEC3_CALCULATIONS (8) per
	// pass and 16 passes.
	MaxNSEC3Hashes int
	// NSEC3MaxIterations is the highest NSEC3 iteration count that is
	// still hashed; a validly signed denial with more iterations makes the
	// answer insecure (RFC 9276 §3.2). Default 150, Unbound's limit.
	NSEC3MaxIterations int
	// MaxChainLength bounds the CNAME and DNAME links followed. Default 8,
	// Unbound's MAX_RESTART_COUNT.
	MaxChainLength int
	// MaxZoneDepth bounds the labels walked below a trust anchor while
	// looking for zone cuts. Default 40: the deepest names in use,
	// ip6.arpa reverse names, have 34 labels.
	MaxZoneDepth int
}

// DefaultLimits returns the limits used when a field is zero.
func DefaultLimits() Limits {
	return Limits{
		MaxQueries:                 50,
		MaxSignatureChecks:         128,
		MaxSignatureChecksPerRRset: 8,
		MaxKeysPerTag:              4,
		MaxDSMismatches:            4,
		MaxNSEC3Hashes:             128,
		NSEC3MaxIterations:         150,
		MaxChainLength:             8,
		MaxZoneDepth:               40,
	}
}

// withDefaults returns l with every zero field set to its default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	fill := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	fill(&l.MaxQueries, d.MaxQueries)
	fill(&l.MaxSignatureChecks, d.MaxSignatureChecks)
	fill(&l.MaxSignatureChecksPerRRset, d.MaxSignatureChecksPerRRset)
	fill(&l.MaxKeysPerTag, d.MaxKeysPerTag)
	fill(&l.MaxDSMismatches, d.MaxDSMismatches)
	fill(&l.MaxNSEC3Hashes, d.MaxNSEC3Hashes)
	fill(&l.NSEC3MaxIterations, d.NSEC3MaxIterations)
	fill(&l.MaxChainLength, d.MaxChainLength)
	fill(&l.MaxZoneDepth, d.MaxZoneDepth)
	return l
}
