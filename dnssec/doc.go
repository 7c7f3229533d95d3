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
//   - RFC 8624: which algorithms a validator implements;
//   - RFC 1034 §5.3.3 and RFC 9156: iterative resolution and QNAME
//     minimisation.
//
// Three Sources supply the data: Upstream asks recursive resolvers with the
// DO and CD bits, Iterator resolves from the root servers itself, and Auto
// uses an Upstream until it proves unfit and then iterates.
package dnssec
