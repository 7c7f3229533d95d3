// Package smtp delivers a message straight to the mail exchangers of the
// recipient's domain, authenticating them with DANE where the domain
// publishes usable TLSA records.
//
// The package has two layers. The lower one is an SMTP client. A Session
// speaks to one server over a connection that Dial opens, directly,
// through a SOCKS5 proxy or through a proxy command. A Message contains
// the content to send, which Session.Data turns into the DATA text. The
// upper one decides where and how to deliver. It finds the mail exchangers
// and their addresses with the DNSSEC validator and decides per host
// whether DANE applies. It falls back from host to host and maps the
// outcome to an exit status.
//
// The rules come from:
//   - RFC 5321: the session, reply codes and their syntax, MX selection
//     and the implicit MX, reply line and text line limits, and the
//     timeout of each stage (§4.5.3.2);
//   - RFC 3207: STARTTLS, after which the client forgets what the server
//     said before TLS and sends EHLO again. Data that the server sends
//     between its 220 reply and the handshake ends the connection,
//     because an attacker may have injected it (CVE-2021-38371);
//   - RFC 1870: the SIZE extension, which the client declares and checks
//     before MAIL;
//   - RFC 6152: 8BITMIME, declared with BODY=8BITMIME for 8-bit content;
//   - RFC 6531: SMTPUTF8, needed for addresses in UTF-8;
//   - RFC 3463: enhanced status codes, reported with each reply;
//   - RFC 7505: the null MX, a domain that accepts no mail;
//   - RFC 7672: SMTP security with DANE: which hosts get TLSA lookups,
//     when TLS is mandatory, and how the server is authenticated.
//
// Whatever the input contains, the bytes on the wire cannot end the DATA
// phase before the final dot: bare CR and bare LF become CRLF and lines
// that start with a dot are dot-stuffed, so no message can smuggle a
// second one (SMTP smuggling). Lines longer than 998 octets are folded, as
// Postfix folds them.
//
// Outcomes map to exit statuses of sysexits(3), for a queue in front of
// mxclient that retries EX_TEMPFAIL and bounces on the others:
//   - 0 (EX_OK): the server replied 2xx to the end of data;
//   - 64 (EX_USAGE): invalid command line;
//   - 65 (EX_DATAERR): an invalid address or an unusable message;
//   - 67 (EX_NOUSER): a 5xx reply to RCPT;
//   - 68 (EX_NOHOST): the domain does not exist (a proven NXDOMAIN) or
//     accepts no mail (null MX);
//   - 69 (EX_UNAVAILABLE): another permanent refusal: a 5xx reply to
//     MAIL or DATA, a message over the server's SIZE limit, or a
//     non-ASCII address for a server without SMTPUTF8;
//   - 75 (EX_TEMPFAIL): everything temporary: DNS, DNSSEC, DANE, TLS and
//     connection failures, 4xx replies, a connection lost after the final
//     dot, and local faults such as a read error on the input or a full
//     spool disk, so that a queue keeps the message until they are fixed.
package smtp
