// Package dnssectest builds signed DNS zone hierarchies in memory and serves
// them on loopback addresses, for the tests of a DNSSEC validator and for
// `mxclient demo`. It is to package dnssec what net/http/httptest is to
// net/http, and it does not import package dnssec.
//
// A Lab holds one hierarchy: the root zone first, then top-level domains and
// the zones below them. Each zone chooses its signing algorithm, its keys
// (one combined signing key or a KSK and a ZSK) and its denial of existence
// (NSEC, NSEC3, or NSEC3 with opt-out), or stays unsigned. A zone may also
// carry Faults: deliberate defects, each documented with the conclusion a
// validator must reach. Lab.Start generates the keys, adds the delegations
// and DS records to the parents, signs every zone and serves each one from
// its own authoritative server. Lab.Resolver returns the address of a
// stand-in for an untrusted, non-validating recursive resolver in one of
// several modes of misbehaviour.
//
// For the tests of an iterating resolver, a zone can have extra name
// servers that misbehave (ZoneOptions.ExtraServers): dead, silent and lame
// servers, names listed without glue, and glue that the referring zone has
// no authority for. Lab.ReferralLoop adds a zone whose servers refer every
// name back to its parent.
//
// The authoritative servers answer as RFC 1034 §4.3.2 describes, with the
// DNSSEC additions of RFC 4035 §3.1. They add RRSIGs when the query sets
// the DO bit, NSEC proofs (RFC 4035 §3.1.3) or NSEC3 proofs (RFC 5155
// §7.2), and DS records or the proof of their absence at referrals (RFC
// 4035 §3.1.4). They expand wildcards (RFC 4592) and substitute DNAMEs (RFC
// 6672). Zones are signed as RFC 4035 §2 and RFC 5155 §7.1 require.
//
// Network safety: every socket the package opens is bound to an address in
// 127.0.0.0/8 that it picked itself, and the stand-in resolver answers from
// the lab's zones in memory. Nothing in the package sends a packet to any
// other server.
//
// BUG: The servers implement only what validator tests need. They answer
// QTYPE ANY like any other type (usually with NODATA), ignore EDNS versions
// other than 0, and do not serve zone transfers. The resolver stand-in
// reads the zones in memory instead of querying their servers, so it
// answers for a zone even when all of its extra servers are dead or lame;
// only a ReferralLoop zone makes it fail.
package dnssectest
