// RSA keys of 512 to 1023 bits are legal in DNSSEC (RFC 3110, RFC 5702)
// and Go refuses them unless told otherwise.

//go:debug rsa1024min=0

// Command mxclient delivers mail straight to a domain's mail exchanger,
// proving every DNS answer it uses with its own DNSSEC validator so that
// DANE (RFC 7672) protects the message, and diagnoses domains.
package main

import (
	"os"
)

func main() {
	os.Exit(run(argsFor(os.Args[0], os.Args[1:]), os.Stdin, os.Stdout, os.Stderr))
}
