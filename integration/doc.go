// Package integration runs mxclient against DNS software that operators
// and users run, installed from Debian, rather than against the servers and
// zones that this module generates itself. Such a suite catches a
// misunderstanding that the validator shares with the project's own test
// signer.
//
// The package has only tests. TestIntegrationDNS builds a DNS hierarchy
// and checks mxclient against it:
//
//   - ldns-keygen and ldns-signzone make the keys and signatures of the
//     root, test. and the zones below test. dnssec-keygen and
//     dnssec-signzone make those of example. and the zones below it.
//   - The zones cover algorithms 8, 10, 13, 14, 15 and 16, NSEC, NSEC3
//     with and without salt, and NSEC3 opt-out. Deliberate faults are
//     expired and not yet valid signatures, a DS record for another key,
//     a DS record for an unsigned zone, a corrupted signature and NSEC3
//     with 200 iterations. The zones also contain wildcards, CNAMEs into
//     secure, insecure and bogus zones, a null MX, a zone without MX and
//     an MX host that is a CNAME. labZones in zones_test.go lists them.
//   - NSD serves each level of the hierarchy from its own instance, named
//     serves example. and two zones below it, and Unbound, with only its
//     iterator module and root hints that name the lab's root server, is
//     the upstream resolver that passes signatures on without validating.
//   - For every (name, type) pair in pairs_test.go, mxclient lookup --json
//     and delv, both given the lab's root DS as trust anchor, must agree on
//     the security state and the rcode, and both must match the state and
//     rcode that the table expects. mxclient runs twice: once taking its
//     data from Unbound, once iterating from the lab's root hints. delv
//     always asks Unbound. A pair where delv is wrong by the RFCs carries
//     a note, and the test checks that delv still reports what the note
//     says.
//
// TestIntegrationPostfixReceiver adds three signed zones to the lab whose
// MX host is a Postfix instance in its own directory, listening on port 25
// of a lab address with STARTTLS. mxclient send delivers to it under a
// DANE-EE and under a DANE-TA record, and the test compares the message in
// Postfix's maildir with the input. A TLSA record that matches nothing
// must give exit status 75, and a recipient that Postfix rejects 67. This
// test also needs the Debian package postfix.
//
// Every server and client runs inside a network namespace that the test
// creates, whose only interface is its own loopback interface. The servers
// listen on port 53 of their own addresses in a 127.X.Y.0/24 block, where
// the iterator sends its queries, and nothing can reach the host's
// resolver or any other machine.
//
// The suite needs root with CAP_SYS_ADMIN, to bind port 53 and create the
// namespace, and the Debian packages nsd, unbound, bind9, bind9-utils,
// bind9-dnsutils, ldnsutils and iproute2. Without them the tests skip and
// give the reason. MXCLIENT_INTEGRATION=require, which .ci/run sets after
// installing the packages, turns each such skip into a failure.
//
// go test -v -run TestIntegrationDNS ./integration/ logs both verdicts for
// every pair.
package integration
