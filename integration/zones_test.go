package integration

// signer is the tool set that makes a zone's keys and signatures.
type signer int

const (
	unsigned   signer = iota
	ldnsSigner        // ldns-keygen and ldns-signzone
	bindSigner        // dnssec-keygen and dnssec-signzone
)

// denial is the kind of authenticated denial of existence a signed zone
// uses.
type denial int

const (
	nsec        denial = iota
	nsec3              // NSEC3 without salt
	nsec3Salt          // NSEC3 with a salt
	nsec3OptOut        // NSEC3 with a salt and the opt-out flag
)

// nsec3SaltHex is the salt of every salted NSEC3 chain.
const nsec3SaltHex = "a1b2c3d4"

// fault is a deliberate defect of a zone or of its delegation.
type fault int

const (
	noFault fault = iota
	// expired signs the zone with signatures that expired a day ago.
	expired
	// notYetValid signs the zone with signatures whose inception is
	// tomorrow.
	notYetValid
	// dsOtherKey puts in the parent a DS record for a key that the zone
	// does not publish.
	dsOtherKey
	// dsUnsigned puts in the parent a DS record and serves the zone
	// unsigned.
	dsUnsigned
	// corruptSig changes one byte of the signature over the zone's
	// www A RRset after signing.
	corruptSig
)

// zoneSpec describes one zone of the lab. Its parent is the longest other
// zone of the table that is a suffix of its name. A zone that is unsigned
// and has no dsUnsigned fault is an insecure delegation: its parent has no
// DS record for it.
type zoneSpec struct {
	name string
	// host is the host number of the server that serves the zone.
	host       int
	signer     signer
	alg        uint8
	denial     denial
	iterations int
	fault      fault
	// body holds zone-file lines relative to the zone's origin. The SOA,
	// the apex NS, the name server's address and the delegations to
	// child zones are added to it.
	body string
}

// leafBody is the content of most leaf zones: an MX and two addresses.
const leafBody = `
@    MX 10 mail
www  A     192.0.2.1
mail A     192.0.2.25
`

// labZones is the lab's hierarchy: a root, the TLDs test. (signed by ldns,
// served by NSD) and example. (signed by BIND with NSEC3 opt-out, served by
// named), and the zones below them.
var labZones = []zoneSpec{
	{name: ".", host: hostRoot, signer: ldnsSigner, alg: 8, denial: nsec},
	{name: "test.", host: hostTLD, signer: ldnsSigner, alg: 13, denial: nsec},
	{name: "example.", host: hostNamedTLD, signer: bindSigner, alg: 8, denial: nsec3OptOut},

	// One zone per algorithm and denial kind, signed by ldns.
	{name: "rsa256.test.", host: hostLeaf, signer: ldnsSigner, alg: 8, denial: nsec,
		body: leafBody + "host A 192.0.2.26\n"},
	{name: "rsa512.test.", host: hostLeaf, signer: ldnsSigner, alg: 10, denial: nsec3, body: leafBody},
	{name: "ecdsa256.test.", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec3Salt,
		body: leafBody + "* A 192.0.2.42\n"},
	{name: "ecdsa384.test.", host: hostLeaf, signer: ldnsSigner, alg: 14, denial: nsec, body: leafBody},
	{name: "ed25519.test.", host: hostLeaf, signer: ldnsSigner, alg: 15, denial: nsec3Salt, body: leafBody},
	{name: "ed448.test.", host: hostLeaf, signer: ldnsSigner, alg: 16, denial: nsec, body: leafBody},
	// ldns-signzone 1.8.3 -p sets the opt-out flag on every NSEC3 record
	// but still gives the unsigned delegation below it an NSEC3 record.
	{name: "optflag.test.", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec3OptOut, body: leafBody},
	// dnssec-signzone rejects more than 150 iterations. Validators may
	// treat such a zone as insecure (RFC 9276 §3.2), and mxclient and
	// BIND 9.18 do.
	{name: "iter200.test.", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec3Salt,
		iterations: 200, body: leafBody},

	// Faults.
	{name: "expired.test.", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec,
		fault: expired, body: leafBody},
	{name: "future.test.", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec,
		fault: notYetValid, body: leafBody},
	{name: "wrongds.test.", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec,
		fault: dsOtherKey, body: leafBody},
	{name: "dsunsigned.test.", host: hostLeaf, signer: unsigned, alg: 13, fault: dsUnsigned, body: leafBody},
	{name: "badsig.test.", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec,
		fault: corruptSig, body: leafBody},
	{name: "insecure.test.", host: hostLeaf, signer: unsigned,
		body: leafBody + "alias CNAME www.rsa256.test.\n"},

	// CNAMEs, wildcards and mail.
	{name: "cname.test.", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec, body: `
to-secure   CNAME www.rsa256.test.
to-insecure CNAME www.insecure.test.
to-bogus    CNAME www.expired.test.
to-nxdomain CNAME nope.rsa256.test.
to-bind     CNAME www.bind-ed448.example.
chain       CNAME to-secure
`},
	{name: "wild.test.", host: hostLeaf, signer: ldnsSigner, alg: 8, denial: nsec, body: `
*    A     192.0.2.80
*    MX 10 mail
www  A     192.0.2.1
mail A     192.0.2.25
`},
	{name: "nullmx.test.", host: hostLeaf, signer: ldnsSigner, alg: 15, denial: nsec, body: `
@   MX 0 .
www A    192.0.2.1
`},
	{name: "nomx.test.", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec3, body: `
@   A 192.0.2.30
www A 192.0.2.1
`},
	{name: "cnamemx.test.", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec, body: `
@      MX 10 mx
@      MX 20 bogus-mx
mx     CNAME host.rsa256.test.
bogus-mx CNAME www.badsig.test.
`},

	// One zone per algorithm and denial kind, signed by BIND; two of them
	// served by named.
	{name: "bind-rsa256.example.", host: hostNamedLeaf, signer: bindSigner, alg: 8, denial: nsec,
		body: leafBody},
	{name: "bind-rsa512.example.", host: hostLeaf, signer: bindSigner, alg: 10, denial: nsec3Salt,
		body: leafBody},
	{name: "bind-ecdsa256.example.", host: hostNamedLeaf, signer: bindSigner, alg: 13, denial: nsec3,
		body: leafBody + "* A 192.0.2.43\n"},
	{name: "bind-ecdsa384.example.", host: hostLeaf, signer: bindSigner, alg: 14, denial: nsec,
		body: leafBody},
	{name: "bind-ed25519.example.", host: hostLeaf, signer: bindSigner, alg: 15, denial: nsec3Salt,
		body: leafBody},
	{name: "bind-ed448.example.", host: hostLeaf, signer: bindSigner, alg: 16, denial: nsec, body: leafBody},
	// dnssec-signzone -A leaves the unsigned delegation below it without
	// an NSEC3 record.
	{name: "bind-optout.example.", host: hostLeaf, signer: bindSigner, alg: 13, denial: nsec3OptOut,
		body: leafBody},
	{name: "bind-expired.example.", host: hostLeaf, signer: bindSigner, alg: 13, denial: nsec,
		fault: expired, body: leafBody},
	{name: "insecure.example.", host: hostLeaf, signer: unsigned, body: leafBody},

	// A third level: secure and insecure zones below secure zones.
	{name: "sub.rsa256.test.", host: hostSub, signer: ldnsSigner, alg: 13, denial: nsec, body: leafBody},
	{name: "unsigned.optflag.test.", host: hostSub, signer: unsigned, body: leafBody},
	{name: "unsigned.bind-optout.example.", host: hostSub, signer: unsigned, body: leafBody},
	{name: "sub.bind-optout.example.", host: hostSub, signer: bindSigner, alg: 15, denial: nsec,
		body: leafBody},
}

// algorithmNames maps DNSSEC algorithm numbers to the names that
// ldns-keygen and dnssec-keygen both accept.
var algorithmNames = map[uint8]string{
	8:  "RSASHA256",
	10: "RSASHA512",
	13: "ECDSAP256SHA256",
	14: "ECDSAP384SHA384",
	15: "ED25519",
	16: "ED448",
}
