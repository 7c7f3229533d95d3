package integration

// pair is one question of the differential test and the answer that the
// lab's zones call for.
type pair struct {
	name, qtype string
	// want and rcode are the expected security state and rcode.
	want, rcode string
	// delvWant, when set, is the state that delv reports instead of want,
	// and delvWrong explains why delv is wrong by the RFCs. The test checks
	// that delv still reports delvWant, so the note goes when delv
	// changes.
	delvWant, delvWrong string
}

// Notes for the pairs where delv from BIND 9.18 reports "fully validated"
// for a denial whose proof rests on an NSEC3 record with the opt-out flag.
// RFC 5155 §9.2 allows no AD bit on such a response, as Unbound's
// validator cites it, and Unbound calls both cases insecure.
const (
	optOutNXDOMAIN = "the NSEC3 record that covers the next closer name has the opt-out flag, " +
		"so an unsigned delegation may exist there and the NXDOMAIN is not proven (RFC 5155 §9.2)"
	optOutDS = "no NSEC3 record matches the delegation and the one that covers it has the opt-out flag, " +
		"so the response must not be called secure (RFC 5155 §8.6 and §9.2)"
)

// pairs are the questions of the differential test: at least ten of each
// of the secure, insecure and bogus states, so that a server that does not
// answer, which makes both validators fail alike, fails the test.
var pairs = []pair{
	// Secure: every algorithm, NSEC and NSEC3 with and without salt,
	// answers, NXDOMAIN and NODATA.
	{name: ".", qtype: "DNSKEY", want: secure, rcode: "NOERROR"},
	{name: "a.root-servers.lab.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "test.", qtype: "SOA", want: secure, rcode: "NOERROR"},
	{name: "nope.test.", qtype: "A", want: secure, rcode: "NXDOMAIN"},
	{name: "insecure.test.", qtype: "DS", want: secure, rcode: "NOERROR"},
	{name: "www.rsa256.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "rsa256.test.", qtype: "MX", want: secure, rcode: "NOERROR"},
	{name: "nope.rsa256.test.", qtype: "A", want: secure, rcode: "NXDOMAIN"},
	{name: "www.rsa256.test.", qtype: "AAAA", want: secure, rcode: "NOERROR"},
	{name: "www.rsa512.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "nope.rsa512.test.", qtype: "A", want: secure, rcode: "NXDOMAIN"},
	{name: "www.ecdsa256.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "www.ecdsa256.test.", qtype: "TXT", want: secure, rcode: "NOERROR"},
	{name: "www.ecdsa384.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "nope.ecdsa384.test.", qtype: "MX", want: secure, rcode: "NXDOMAIN"},
	{name: "www.ed25519.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "nope.ed25519.test.", qtype: "A", want: secure, rcode: "NXDOMAIN"},
	{name: "www.ed448.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "ed448.test.", qtype: "DNSKEY", want: secure, rcode: "NOERROR"},
	{name: "www.optflag.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	// A positive answer needs no NSEC3 record, whatever its iterations.
	{name: "www.iter200.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "www.sub.rsa256.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	// Only the signature over www A is corrupted.
	{name: "mail.badsig.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "www.bind-rsa256.example.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "nope.bind-rsa256.example.", qtype: "A", want: secure, rcode: "NXDOMAIN"},
	{name: "bind-rsa256.example.", qtype: "DS", want: secure, rcode: "NOERROR"},
	{name: "www.bind-rsa512.example.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "nope.bind-rsa512.example.", qtype: "A", want: secure, rcode: "NXDOMAIN"},
	{name: "www.bind-ecdsa384.example.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "www.bind-ed25519.example.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "nope.bind-ed25519.example.", qtype: "A", want: secure, rcode: "NXDOMAIN"},
	{name: "bind-ed448.example.", qtype: "MX", want: secure, rcode: "NOERROR"},
	{name: "example.", qtype: "DNSKEY", want: secure, rcode: "NOERROR"},
	{name: "www.bind-optout.example.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "www.sub.bind-optout.example.", qtype: "A", want: secure, rcode: "NOERROR"},

	// Secure: wildcards, CNAMEs and mail.
	{name: "anything.ecdsa256.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "anything.wild.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "a.b.wild.test.", qtype: "MX", want: secure, rcode: "NOERROR"},
	{name: "anything.wild.test.", qtype: "AAAA", want: secure, rcode: "NOERROR"},
	{name: "anything.bind-ecdsa256.example.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "anything.bind-ecdsa256.example.", qtype: "AAAA", want: secure, rcode: "NOERROR"},
	{name: "to-secure.cname.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "chain.cname.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "to-nxdomain.cname.test.", qtype: "A", want: secure, rcode: "NXDOMAIN"},
	{name: "to-bind.cname.test.", qtype: "A", want: secure, rcode: "NOERROR"},
	{name: "nullmx.test.", qtype: "MX", want: secure, rcode: "NOERROR"},
	{name: "nomx.test.", qtype: "MX", want: secure, rcode: "NOERROR"},
	{name: "cnamemx.test.", qtype: "MX", want: secure, rcode: "NOERROR"},
	{name: "mx.cnamemx.test.", qtype: "A", want: secure, rcode: "NOERROR"},

	// Insecure: unsigned delegations with NSEC, NSEC3 and opt-out, CNAMEs
	// into and out of unsigned zones, and NSEC3 beyond the iteration
	// limit (RFC 9276 §3.2).
	{name: "www.insecure.test.", qtype: "A", want: insecure, rcode: "NOERROR"},
	{name: "insecure.test.", qtype: "MX", want: insecure, rcode: "NOERROR"},
	{name: "nope.insecure.test.", qtype: "A", want: insecure, rcode: "NXDOMAIN"},
	{name: "alias.insecure.test.", qtype: "A", want: insecure, rcode: "NOERROR"},
	{name: "to-insecure.cname.test.", qtype: "A", want: insecure, rcode: "NOERROR"},
	{name: "www.insecure.example.", qtype: "A", want: insecure, rcode: "NOERROR"},
	{name: "nope.insecure.example.", qtype: "A", want: insecure, rcode: "NXDOMAIN"},
	{name: "www.unsigned.optflag.test.", qtype: "A", want: insecure, rcode: "NOERROR"},
	{name: "www.unsigned.bind-optout.example.", qtype: "A", want: insecure, rcode: "NOERROR"},
	{name: "unsigned.bind-optout.example.", qtype: "DS", want: insecure, rcode: "NOERROR",
		delvWant: secure, delvWrong: optOutDS},
	{name: "nope.iter200.test.", qtype: "A", want: insecure, rcode: "NXDOMAIN"},
	{name: "www.iter200.test.", qtype: "TXT", want: insecure, rcode: "NOERROR"},
	{name: "nope.optflag.test.", qtype: "A", want: insecure, rcode: "NXDOMAIN",
		delvWant: secure, delvWrong: optOutNXDOMAIN},
	{name: "nope.example.", qtype: "A", want: insecure, rcode: "NXDOMAIN",
		delvWant: secure, delvWrong: optOutNXDOMAIN},
	{name: "nope.bind-optout.example.", qtype: "A", want: insecure, rcode: "NXDOMAIN",
		delvWant: secure, delvWrong: optOutNXDOMAIN},

	// Bogus: every fault, and CNAMEs into bogus zones.
	{name: "www.expired.test.", qtype: "A", want: bogus, rcode: "SERVFAIL"},
	{name: "expired.test.", qtype: "MX", want: bogus, rcode: "SERVFAIL"},
	{name: "nope.expired.test.", qtype: "A", want: bogus, rcode: "SERVFAIL"},
	{name: "www.future.test.", qtype: "A", want: bogus, rcode: "SERVFAIL"},
	{name: "nope.future.test.", qtype: "A", want: bogus, rcode: "SERVFAIL"},
	{name: "www.wrongds.test.", qtype: "A", want: bogus, rcode: "SERVFAIL"},
	{name: "wrongds.test.", qtype: "DNSKEY", want: bogus, rcode: "SERVFAIL"},
	{name: "www.dsunsigned.test.", qtype: "A", want: bogus, rcode: "SERVFAIL"},
	{name: "dsunsigned.test.", qtype: "MX", want: bogus, rcode: "SERVFAIL"},
	{name: "www.badsig.test.", qtype: "A", want: bogus, rcode: "SERVFAIL"},
	{name: "www.bind-expired.example.", qtype: "A", want: bogus, rcode: "SERVFAIL"},
	{name: "to-bogus.cname.test.", qtype: "A", want: bogus, rcode: "SERVFAIL"},
	{name: "bogus-mx.cnamemx.test.", qtype: "A", want: bogus, rcode: "SERVFAIL"},
}
