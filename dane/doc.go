// Package dane decides whether a TLS server's certificate chain is
// authenticated by the server's TLSA records, the way an SMTP client must
// decide it, and generates TLSA records from certificates. It does no DNS
// lookups: callers pass TLSA records that they have already proven with
// DNSSEC.
//
// Classify sorts a TLSA RRset into usable and unusable records, and its
// Status reports one of three cases. Usable records exist, so TLS is
// mandatory and must authenticate the server. Records exist but none is
// usable, so TLS is mandatory without authentication. Or there are no
// records. A Verifier matches a presented chain against the usable records
// and returns the record that matched, or a *MismatchError that lists
// every record tried. Verifier.TLSConfig plugs that check into crypto/tls,
// and its Result returns the record that matched once the handshake has
// completed. NewTLSA makes the record for a certificate.
//
// The rules come from:
//   - RFC 6698: the TLSA record, its fields and their matching semantics;
//   - RFC 7218: the acronyms DANE-TA, DANE-EE, SPKI, SHA2-256 and so on;
//   - RFC 7671: DANE-EE ignores names, validity dates and key usage, a
//     DANE-TA trust anchor may be absent from the chain the server sends,
//     and a client uses only the strongest digest a server publishes;
//   - RFC 7672: only usages DANE-TA(2) and DANE-EE(3) are usable for SMTP,
//     an RRset of only unusable records still makes TLS mandatory, which
//     reference identifiers a DANE-TA leaf certificate must carry, and the
//     SNI name a client sends.
//
// Reference identifiers and certificate names are compared as ASCII
// without regard to case, so internationalised names must be given in
// their A-label form (xn--…): a name with a byte outside ASCII matches
// nothing.
package dane
