// Package dnscrypto holds the DNSSEC cryptographic primitives that both the
// validator and the test signer need: the canonical signed data of an RRset
// (RFC 4034 §3.1.8.1 and §6), signature verification and signing for every
// algorithm mxclient supports, and public key decoding.
//
// Algorithms: RSASHA1 (5), RSASHA1-NSEC3-SHA1 (7), RSASHA256 (8, RFC 5702),
// RSASHA512 (10, RFC 5702), ECDSAP256SHA256 (13) and ECDSAP384SHA384 (14,
// RFC 6605), Ed25519 (15) and Ed448 (16, RFC 8080). Ed448 comes from
// github.com/cloudflare/circl because neither the standard library nor
// github.com/miekg/dns implements it.
//
// Tests can add an algorithm that production code must not verify, such
// as DSA, with RegisterVerifier.
//
// RSA keys shorter than 1024 bits verify only when the program runs with
// GODEBUG rsa1024min=0, which cmd/mxclient and the tests set.
package dnscrypto
