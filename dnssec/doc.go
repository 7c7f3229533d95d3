// Package dnssec fetches DNS data and proves it from a configured trust
// anchor, the root key by default, without trusting the server the data
// came from.
//
// A Validator asks a Source for each RRset it needs (the answer itself, DS
// and DNSKEY sets along the chain of trust, denial-of-existence records) and
// ends every lookup in exactly one Security state: Secure, Insecure, Bogus
// or Indeterminate. A Bogus result carries a *BogusError with a Reason, the
// zone and the record that failed. Every lookup is bounded by Limits.
//
// The rules come from:
//   - RFC 4033, RFC 4034, RFC 4035: the DNSSEC protocol and validation;
//   - RFC 6840: clarifications (unsupported algorithms and digests make a
//     zone insecure, any one algorithm path suffices, parent-side NSEC);
//   - RFC 5155: NSEC3, closest encloser proofs and opt-out;
//   - RFC 9276: the NSEC3 iteration ceiling;
//   - RFC 4509: SHA-256 DS records take precedence over SHA-1;
//   - RFC 5011 §2.1: a REVOKEd key signs only its own DNSKEY RRset;
//   - RFC 6672: DNAME;
//   - RFC 8624: which algorithms a validator implements.
//
// BUG: only the upstream Source exists so far: data comes from a recursive
// resolver asked with DO and CD set. Iterating from the root hints is not
// implemented.
package dnssec
